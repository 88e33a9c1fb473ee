"""Counts in words, for messages and reports: "1 answer", "2 answers"."""


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
