"""Case-insensitive searches of a whole text run as case-sensitive ones on its lower case, which Python's regular
expressions do three to six times faster (issue 13: the gates that spare a module a reader are such searches,
over every module of the scan). The answer is the same wherever the text holds none of FOLDED: for every other
character, its lower case is one character, a word character or a space exactly when it is, and an ASCII letter
only when it is one; so a pattern written with ASCII letters matches the text ignoring case exactly where its
lower case matches the text's lower case."""

from __future__ import annotations

import re
from functools import cache

# The characters besides ASCII letters that re.IGNORECASE matches with an ASCII letter (İ, ı, ſ, Kelvin's K); İ
# is also the one character whose lower case is longer than itself.
FOLDED = ("\u0130", "\u0131", "\u017f", "\u212a")


class Folded:
    """A text, and its lower case where the searches on it answer for the text."""

    __slots__ = ("text", "low")

    def __init__(self, text: str) -> None:
        self.text = text
        self.low = None if any(c in text for c in FOLDED) else text.lower()

    def search(self, pattern: re.Pattern[str], needles: tuple[str, ...] = ()) -> bool:
        """Whether `pattern` (compiled with re.IGNORECASE) matches somewhere in the text. `needles`: words in lower
        case, one of which each of its matches holds (looked for first: a plain search is faster still)."""
        if self.low is None:
            return pattern.search(self.text) is not None
        if needles and not any(n in self.low for n in needles):
            return False
        return _lowered(pattern).search(self.low) is not None


@cache
def _lowered(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern in lower case, without the flag; only for patterns whose lower case means the same."""
    if not pattern.flags & re.IGNORECASE or re.search(r"\\[A-Z]|\(\?P|\\N", pattern.pattern):
        raise ValueError(f"not a pattern to lower: {pattern.pattern!r}")
    return re.compile(pattern.pattern.lower(), pattern.flags & ~re.IGNORECASE)
