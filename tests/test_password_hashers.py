"""Password hashing that MOD004 must see on backends nobody tuned it for (issue 7): passlib's CryptContext
kept on a service object, and a digest variable bound to None first and to the hash under an `if`.
Projects of our own, with what is found pinned."""

from __future__ import annotations

from tests.test_precision import HEADER, found

MODEL = HEADER + """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str | None] = mapped_column(String(200))
"""

SERVICE = """
from passlib.context import CryptContext
from app.models import User


class UserService:
    def __init__(self, session):
        self.session = session
        self.hasher = CryptContext(schemes=["argon2", "bcrypt"])

    def create_user(self, name, password):
        self.session.add(User(password=self.hasher.hash(password)))
"""

OPTIONAL_DIGEST = """
from sqlalchemy.orm import Session

from app.security import hash_with_salt
from app.models import User


def create_admin(session: Session, password=None):
    pw_digest = None
    if password:
        pw_digest = hash_with_salt(password)
    session.add(User(password=pw_digest))
"""

SECURITY = """
from passlib.context import CryptContext


def hash_with_salt(password):
    return CryptContext(schemes=["argon2"]).hash("pepper" + password)
"""


def test_a_crypt_context_on_a_service_object_is_password_hashing(tmp_path):
    assert found(tmp_path, {"app/models.py": MODEL, "app/services.py": SERVICE}, "MOD004") == []


def test_a_digest_bound_to_none_then_to_a_hash_is_a_hashed_write(tmp_path):
    files = {"app/models.py": MODEL, "app/admin.py": OPTIONAL_DIGEST, "app/security.py": SECURITY}
    assert found(tmp_path, files, "MOD004") == []
    plain = {**files, "app/admin.py": OPTIONAL_DIGEST.replace("pw_digest = hash_with_salt(password)", "pw_digest = password")}
    (f,) = found(tmp_path / "b", plain, "MOD004")
    assert f.severity.value == "info"


def test_a_hash_unpacked_from_the_hashers_answer_is_a_hashed_write(tmp_path):
    rehash = SERVICE + """
    def check_password(self, user, password):
        ok, new_hash = self.hasher.verify_and_update(password, user.password)
        if ok and new_hash:
            user.password = new_hash
        return ok
"""
    assert found(tmp_path, {"app/models.py": MODEL, "app/services.py": rehash}, "MOD004") == []


def test_verify_and_update_answers_a_hash_whatever_its_context_is_named(tmp_path):
    context = """
from passlib import context as pl
from app.models import User


class Login:
    _ctx = None

    @classmethod
    def get_password_context(cls):
        cls._ctx = cls._ctx or pl.CryptContext(schemes=["argon2"])
        return cls._ctx

    def check(self, user, password):
        accepted, upgraded = Login.get_password_context().verify_and_update(password, user.password)
        if upgraded:
            user.password = upgraded
        return accepted
"""
    assert found(tmp_path, {"app/models.py": MODEL, "app/login.py": context}, "MOD004") == []
    plain = context.replace("user.password = upgraded", "user.password = user.name")
    (f,) = found(tmp_path / "b", {"app/models.py": MODEL, "app/login.py": plain}, "MOD004")
    assert f.severity.value == "info"


def test_a_hash_decoded_to_text_in_place_stays_a_hash(tmp_path):
    """MOD004 (timesketch user.py, first meeting): flask_bcrypt's hash re-bound to its decoded text
    (`digest = codecs.decode(digest, "utf-8")`) before it is stored is still the hash."""
    setter = MODEL + """
    def set_password(self, plaintext, rounds=12):
        digest = generate_password_hash(plaintext, rounds)
        if isinstance(digest, bytes):
            digest = codecs.decode(digest, "utf-8")
        self.password = digest
"""
    imports = "import codecs\nfrom flask_bcrypt import generate_password_hash\n"
    assert found(tmp_path, {"app/models.py": imports + setter}, "MOD004") == []
    raw = setter.replace("digest = generate_password_hash(plaintext, rounds)", "digest = plaintext")
    (f,) = found(tmp_path / "b", {"app/models.py": imports + raw}, "MOD004")
    assert f.anchor == "table:users.password"


PROJECT_BASE = """
from sqlalchemy import MetaData
from sqlalchemy.ext.declarative import declarative_base

DeclarativeBase = declarative_base(metadata=MetaData())
"""

DIGEST_SETTER = """
import hashlib
import os

from sqlalchemy import Column, Integer, Unicode
from sqlalchemy.orm import synonym

from app.meta import DeclarativeBase


class Member(DeclarativeBase):
    __tablename__ = "members"
    id = Column(Integer, primary_key=True)
    _password = Column("password", Unicode(128))

    @classmethod
    def _hash(cls, cleartext):
        salt = hashlib.sha256(os.urandom(32)).hexdigest()
        return salt + hashlib.sha256((cleartext + salt).encode()).hexdigest()

    def _set_password(self, cleartext):
        self._password = self._hash(cleartext)

    def _get_password(self):
        return self._password

    password = synonym("_password", descriptor=property(_get_password, _set_password))
"""


def test_a_project_base_named_declarative_base_maps_its_models(tmp_path):
    """`DeclarativeBase = declarative_base()` of the project's own: `class Member(DeclarativeBase)` with a
    __tablename__ is a model over it, not a base of SQLAlchemy 2.0's spelling (tracim: 2 of 22 tables found)."""
    from analyzers.engine import scan
    from tests.test_precision import _write

    root = _write(tmp_path, {"app/meta.py": PROJECT_BASE, "app/models.py": DIGEST_SETTER})
    assert set(scan(root).facts.tables) == {"members"}


def test_a_setter_that_hashes_with_a_fast_digest_is_named(tmp_path):
    (f,) = found(tmp_path, {"app/meta.py": PROJECT_BASE, "app/models.py": DIGEST_SETTER}, "MOD004")
    assert f.severity.value == "warning"
    assert f.message.startswith("members.password is hashed on every write by a setter of Member, but with "
                                "`sha256()`, a fast digest")
    slow = DIGEST_SETTER.replace("import hashlib", "import bcrypt\nimport hashlib").replace(
        "return salt + hashlib.sha256((cleartext + salt).encode()).hexdigest()",
        "return bcrypt.hashpw(cleartext.encode(), bcrypt.gensalt()).decode()")
    assert found(tmp_path / "b", {"app/meta.py": PROJECT_BASE, "app/models.py": slow}, "MOD004") == []


def test_a_service_that_hashes_passwords_with_a_fast_digest_is_named_not_called_missing(tmp_path):
    """A service stores `sha256(salt + password)` through `identity.update({...})`: hashing is there, but a fast
    digest; "no password hashing shows anywhere" would be false."""
    model = """
from sqlalchemy import Column, Integer, LargeBinary, String
from app.meta import DeclarativeBase

class Identity(DeclarativeBase):
    __tablename__ = "identities"
    id = Column(Integer, primary_key=True)
    password = Column(String(255))
    salt = Column(LargeBinary(255))
"""
    service = """
import hashlib
import os

from app.models import Identity

def add_identity(name, password, session):
    row = Identity()
    salt = os.urandom(255)
    hashed = hashlib.sha256(salt + password.encode()).hexdigest()
    row.update({"salt": salt, "password": hashed})
    session.add(row)
"""
    files = {"app/meta.py": PROJECT_BASE, "app/models.py": model, "app/identity.py": service}
    (f,) = found(tmp_path, files, "MOD004")
    assert f.severity.value == "warning" and "`hashlib.sha256()` (app/identity.py:10), a fast digest" in f.message
    assert "no password hashing" not in f.message


def test_a_digest_made_then_fed_the_password_in_a_function_given_it_is_named(tmp_path):
    """buildbot: `def encrypt(passwd): m = sha1(); m.update(passwd + salt)`: the digest's call does not hold the word,
    the function's parameter does; a fast digest of the password all the same."""
    model = """
from sqlalchemy import Column, Integer, String
from app.meta import DeclarativeBase

class Account(DeclarativeBase):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    bb_password = Column(String(128))
"""
    service = """
import os
from hashlib import sha1

def encrypt(passwd):
    m = sha1()
    salt = os.urandom(8).hex()
    m.update(passwd.encode() + salt.encode())
    return salt + m.hexdigest()
"""
    files = {"app/meta.py": PROJECT_BASE, "app/models.py": model, "app/users.py": service}
    (f,) = found(tmp_path, files, "MOD004")
    assert "`hashlib.sha1()` (app/users.py:6), a fast digest" in f.message
