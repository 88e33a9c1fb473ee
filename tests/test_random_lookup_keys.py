"""INT010 on a column that holds a random value: a lookup by it that expects one row is no likely failure (two
rows need the generator to repeat), so the finding is info and says why; a column written from elsewhere too
keeps its warning (issue 7)."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

_MODELS = HEADER + """
class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(200))
    invite_token: Mapped[str | None] = mapped_column(String(64), index=True)
"""
_CODE = """
import secrets
from sqlalchemy import select
from app.models import Invite


def make_token():
    return secrets.token_hex(16)


def invite(session, email, accepted):
    if accepted:
        token = None
    else:
        token = secrets.token_urlsafe(32)
    session.add(Invite(email=email, invite_token=token))


def resend(session, invite):
    invite.invite_token = make_token()


def accept(session, token):
    invite = session.execute(select(Invite).where(Invite.invite_token == token)).scalar_one_or_none()
    invite.invite_token = None
    return invite

ROUTES = {"invite": invite, "resend": resend, "accept": accept}
"""


def _int010(tmp_path, code: str = _CODE) -> list:
    return found(tmp_path, {"app/models.py": _MODELS, "app/invites.py": code}, "INT010")


def test_a_lookup_by_a_randomly_generated_value_is_info(tmp_path):
    (f,) = _int010(tmp_path)
    assert f.severity == Severity.INFO and f.anchor == "function:app/invites.py:accept:Invite:one-or-none"
    line = next(i for i, text in enumerate(_CODE.splitlines(), 1) if "invite_token=token" in text)
    assert f.message.endswith(f"; but invite_token holds a random value (`secrets.token_urlsafe(32)`, app/invites.py:"
                              f"{line}) wherever dbreview sees it written, so two rows need a collision: a unique index "
                              "would still document it")


def test_a_write_of_another_value_keeps_the_warning(tmp_path):
    (f,) = _int010(tmp_path, _CODE.replace("def resend(session, invite):", "def resend(session, invite, given):")
                   .replace("invite.invite_token = make_token()", "invite.invite_token = given"))
    assert f.severity == Severity.WARNING and "random" not in f.message


_KEYS = HEADER + """
import random


def make_key(length):
    rng = random.SystemRandom()
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(length))


class Share(Base):
    __tablename__ = "shares"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key: Mapped[str] = mapped_column(String(40), default=lambda: make_key(40))

    def rotate(self):
        self.api_key = make_key(40)

    @classmethod
    def by_key(cls, session, api_key):
        return session.query(cls).filter(cls.api_key == api_key).one()


ROUTES = {"share": Share.by_key}
"""


def test_a_key_drawn_from_system_random_by_a_project_function_is_info(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": _KEYS}, "INT010")
    line = next(i for i, text in enumerate(_KEYS.splitlines(), 1) if "self.api_key = make_key(40)" in text)
    assert f.severity == Severity.INFO
    assert f"but api_key holds a random value (`rng.choice(" in f.message and f"app/models.py:{line})" in f.message
    fixed = _KEYS.replace("default=lambda: make_key(40)", 'default=""')  # rows made without a key share ""
    (g,) = found(tmp_path / "fixed", {"app/models.py": fixed}, "INT010")
    assert g.severity == Severity.WARNING and "random" not in g.message
