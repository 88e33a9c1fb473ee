"""Issue 7, claims that must rest on what the code shows (trust10): a password or an outbound credential whose
every writer found hashes or encrypts it (MOD004). Small repositories of our own."""

from __future__ import annotations

from tests.test_precision import HEADER, found

_SERVERS = HEADER + """
from cryptography.fernet import Fernet

class MailServer(Base):
    __tablename__ = "mail_servers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_password: Mapped[str] = mapped_column(String(255), nullable=True)

def encrypt_secret(raw):
    return Fernet(b"k" * 44).encrypt(raw.encode()).decode()
"""

_ADD_SERVER = """
from sqlalchemy.orm import Session
from app.models import MailServer, encrypt_secret

def add_server(session: Session, key_password=None):
    stored = key_password
    if key_password:
        stored = encrypt_secret(key_password)
    session.add(MailServer(key_password=stored))
"""


def test_a_credential_encrypted_whenever_it_is_given_is_no_finding(tmp_path):
    """The raw parameter is kept only on the path where it is empty (None, ""): every password stored is
    encrypted. Kept raw after the encryption, it is a plaintext write again."""
    assert found(tmp_path, {"app/models.py": _SERVERS, "app/servers.py": _ADD_SERVER}, "MOD004") == []
    raw_after = _ADD_SERVER.replace("    session.add(", "    stored = key_password\n    session.add(")
    (f,) = found(tmp_path / "b", {"app/models.py": _SERVERS, "app/servers.py": raw_after}, "MOD004")
    assert f.anchor == "table:mail_servers.key_password"


_USERS = HEADER + """
import bcrypt

def hash_password(raw):
    return bcrypt.hashpw(raw.encode(), bcrypt.gensalt()).decode()

class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str] = mapped_column(String(255))

    def __init__(self, password, **kwargs):
        self.password = password
        super().__init__(**kwargs)

class Repository:
    def __init__(self, model):
        self.model = model

    def create(self, session, data: dict):
        session.add(self.model(**data))
"""

_SIGN_UP = """
from sqlalchemy.orm import Session
from app.models import Member, Repository, hash_password

members = Repository(Member)

def sign_up(session: Session, member, raw):
    members.create(session, {"password": hash_password(raw)})

def change_password(session: Session, member: Member, raw):
    member.password = hash_password(raw)
"""


def test_a_constructor_reached_only_through_a_generic_repository_is_no_writer_of_its_own(tmp_path):
    """Member.__init__ stores what `Model(**data)` hands it; every write dbreview follows hashes: the constructor
    is not reported as a writer it "could not follow" (that is the scan's blind spot, not the code's)."""
    assert found(tmp_path, {"app/models.py": _USERS, "app/members.py": _SIGN_UP}, "MOD004") == []


_HASHING_INIT = HEADER + """
import bcrypt

class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str] = mapped_column(String(255))

    def __init__(self, name, password):
        self.name = name
        self.password = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
"""

_CREATE_ACCOUNT = """
from app.models import Account

def create_account(session, name, password):
    session.add(Account(name=name, password=password))
"""


def test_a_constructor_call_of_a_class_whose_init_hashes_is_a_hashed_write(tmp_path):
    """FitTrackee (first meeting, wrong): create_user hands the raw password to User(...), whose own __init__
    bcrypt-hashes it; the call is no writer "dbreview could not follow"."""
    got = found(tmp_path, {"app/models.py": _HASHING_INIT, "app/accounts.py": _CREATE_ACCOUNT}, "MOD004")
    assert all("could not follow" not in f.message for f in got)
    plain = _HASHING_INIT.replace("bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()", "password")
    (f,) = found(tmp_path / "b", {"app/models.py": plain, "app/accounts.py": _CREATE_ACCOUNT}, "MOD004")
    assert f.anchor == "table:accounts.password"


_HASHING_METHOD = _HASHING_INIT.replace(
    "        self.password = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()\n",
    "        self.assign_password(password)\n\n    def assign_password(self, password):\n"
    "        self.password = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()\n\n"
    "    def anonymize(self):\n        self.password = None\n")
_LOCK_ACCOUNT = _CREATE_ACCOUNT + """

def lock(account):
    account.assign_password("random")
    account.password = f"{account.password}-locked"
"""


def test_writes_through_a_hashing_method_none_and_a_suffix_on_the_stored_hash_are_not_unhashed(tmp_path):
    """mergin and simplelogin (first meeting, wrong): `User(passwd=...)` whose __init__ hands it to a method of the
    class that hashes; `self.passwd = None` (no password); `user.password = f"{user.password}{SUFFIX}"` (the stored
    hash changed on purpose to lock the account). None of them stores a password as given."""
    got = found(tmp_path, {"app/models.py": _HASHING_METHOD, "app/accounts.py": _LOCK_ACCOUNT}, "MOD004")
    assert all("dbreview does not see hashed" not in f.message for f in got), [f.message for f in got]
    raw = _LOCK_ACCOUNT.replace('f"{account.password}-locked"', '"plain-" + name', 1).replace("def lock(account)", "def lock(account, name)")
    (f,) = found(tmp_path / "raw", {"app/models.py": _HASHING_METHOD, "app/accounts.py": raw}, "MOD004")
    assert "lock (app/accounts.py:" in f.message
