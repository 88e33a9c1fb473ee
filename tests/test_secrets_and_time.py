"""Issue 8, families found by hand and missed (docs/recall.md 8 and 9): bearer secrets kept as handed out (MOD008),
a local-time default beside UTC ones (TZ002). Each rebuilt as a small repository of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

TOKENS = HEADER + """
class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reset_key: Mapped[str] = mapped_column(String)
    api_token: Mapped[str] = mapped_column(String)
    push_token: Mapped[str] = mapped_column(String)
"""


def test_a_generated_key_stored_raw_is_a_warning_naming_the_writer_and_the_lookup(tmp_path):
    """The writer stores what a project function returns, and that function returns os.urandom's output; the lookup
    compares the column with what it is given."""
    service = """
import os
from app.models import Member

def make_key():
    return os.urandom(16).hex()

def start_reset(member: Member):
    member.reset_key = make_key()

def check_reset(member: Member, key):
    return key.strip() == member.reset_key
"""
    (f,) = found(tmp_path, {"app/models.py": TOKENS, "app/reset.py": service}, "MOD008")
    assert f.severity == Severity.WARNING and f.anchor == "table:members.reset_key"
    assert "start_reset (app/reset.py:9) stores the output of `os.urandom(16)` in it" in f.message
    assert "check_reset (app/reset.py:12) compares it with its parameter `key`" in f.message


def test_a_lookup_alone_is_info_and_says_the_callers_were_not_followed(tmp_path):
    service = """
from sqlalchemy.orm import Session
from app.models import Member

def by_token(db: Session, token):
    return db.query(Member).filter(Member.api_token == token).first()
"""
    (f,) = found(tmp_path, {"app/models.py": TOKENS, "app/auth.py": service}, "MOD008")
    assert f.severity == Severity.INFO and f.anchor == "table:members.api_token"
    assert "unless the callers pass a hash: not followed" in f.message


def test_no_finding_on_a_hashed_secret_a_name_alone_or_a_push_address(tmp_path):
    """A writer that hashes, a column no code writes or looks up, a device's push token compared with what a
    client sends: none is a secret shown stored raw."""
    service = """
import hashlib, secrets
from app.models import Member

def issue(member: Member):
    raw = secrets.token_urlsafe(32)
    member.api_token = hashlib.sha256(raw.encode()).hexdigest()
    return raw

def by_token(db, token):
    return db.query(Member).filter(Member.api_token == token).first()

def by_device(db, push_token):
    return db.query(Member).filter_by(push_token=push_token).first()
"""
    assert found(tmp_path, {"app/models.py": TOKENS, "app/auth.py": service}, "MOD008") == []


def test_a_code_column_is_a_secret_only_on_a_table_of_grants(tmp_path):
    models = HEADER + """
class Country(Base):
    __tablename__ = "countries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(2))

    @classmethod
    def find(cls, db, code):
        return db.query(cls).filter(cls.code == code).first()

class AuthorizationGrant(Base):
    __tablename__ = "authorization_grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))

    @classmethod
    def find(cls, db, code):
        return db.query(cls).filter_by(code=code).first()
"""
    findings = found(tmp_path, {"app/models.py": models}, "MOD008")
    assert [f.anchor for f in findings] == ["table:authorization_grants.code"]


def test_a_column_default_generating_the_token_is_a_writer(tmp_path):
    models = HEADER + """
import secrets

def new_key():
    return secrets.token_hex(20)

class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key: Mapped[str] = mapped_column(String, default=new_key)
"""
    lookup = """
from sqlalchemy.orm import Session
from app.models import Client

def authenticate(db, presented):
    return db.query(Client).filter(Client.api_key == presented).first()
"""
    (f,) = found(tmp_path, {"app/models.py": models, "app/auth.py": lookup}, "MOD008")
    assert f.severity == Severity.WARNING and "its default `new_key` makes it from `secrets.token_hex(20)`" in f.message
    assert "authenticate (app/auth.py:6) compares it with its parameter `presented`" in f.message


def test_a_raw_secret_no_code_accepts_is_info_that_says_no_reader_was_seen(tmp_path):
    """A legacy key column still filled with uuid4() but looked up by nothing the scan read: the claim that a
    reader of the table can use the values needs a reader that accepts them, so it is info and says so."""
    models = HEADER + """
import uuid

class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    apikey: Mapped[str] = mapped_column(String)

def make_site_account(db):
    db.add(Account(apikey=str(uuid.uuid4())))
"""
    (f,) = found(tmp_path, {"app/models.py": models}, "MOD008")
    assert f.severity == Severity.INFO and f.anchor == "table:accounts.apikey"
    assert "stores the output of `uuid.uuid4()` in it, with no hash on the way. No code dbreview read looks a row up " \
           "by it" in f.message
    assert "if none does, the column keeps live secrets for no use" in f.message


def test_an_authorization_code_bound_to_its_client_is_no_finding(tmp_path):
    """Redeeming an OAuth code takes the client's credentials too: the code alone, read from the table, opens
    nothing (the client's secret is a column of its own, judged on its own)."""
    models = HEADER + """
import secrets

class OAuthCode(Base):
    __tablename__ = "oauth_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), ForeignKey("oauth_clients.identifier"))
    code: Mapped[str] = mapped_column(String(64))

    @classmethod
    def find(cls, db, code):
        return db.query(cls).filter(cls.code == code).first()

def issue(db, client_id):
    db.add(OAuthCode(client_id=client_id, code=secrets.token_urlsafe(32)))
"""
    assert found(tmp_path, {"app/models.py": models}, "MOD008") == []


CLOCKS = HEADER + """
class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
    changed: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)
"""


def test_a_local_time_default_beside_utc_ones_is_tz002(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": CLOCKS}, "TZ002")
    assert f.anchor == "table:events.created:default" and f.severity == Severity.WARNING
    assert "stores the server's local time in a column without time zone, while 1 other timestamp default(s) give UTC " \
           "(events.changed datetime.utcnow)" in f.message


def test_local_time_throughout_is_left_to_tz001(tmp_path):
    local = CLOCKS.replace("datetime.utcnow", "datetime.now")
    assert found(tmp_path, {"app/models.py": local}, "TZ002") == []


SHOP = HEADER + """
class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    password_hash: Mapped[str] = mapped_column(String)

class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String)
"""


def test_a_sort_named_by_the_request_over_secrets_is_a_warning_else_info(tmp_path):
    """Family 3 (query shape from input): the sort's name is a route's parameter; over a model with a password hash
    the claim is the ordering oracle, over one without it is info."""
    routes = """
from fastapi import APIRouter
from sqlalchemy import select
from app.models import Customer, Shelf

router = APIRouter()

@router.get("/customers")
def customers(db, sort: str = "name"):
    return db.scalars(select(Customer).order_by(getattr(Customer, sort)))

@router.get("/shelves")
def shelves(db, sort: str = "label"):
    column = getattr(Shelf, sort)
    return db.scalars(select(Shelf).order_by(column.desc()))
"""
    findings = {f.anchor: f for f in found(tmp_path, {"app/models.py": SHOP, "app/routes.py": routes}, "CFG009")}
    assert findings["sort:app/routes.py:customers:sort"].severity == Severity.WARNING
    assert "customers.password_hash included" in findings["sort:app/routes.py:customers:sort"].message
    assert findings["sort:app/routes.py:shelves:sort"].severity == Severity.INFO


def test_a_sort_name_from_where_it_could_not_be_followed_is_info_saying_so_and_a_checked_one_none(tmp_path):
    service = """
from sqlalchemy import select
from app.models import Customer

ALLOWED = ("name", "id")

def listing(db, params):
    order = params.get("order_by", "name")
    return db.scalars(select(Customer).order_by(getattr(Customer, order)))

def checked(db, order):
    if order not in ALLOWED:
        raise ValueError(order)
    return db.scalars(select(Customer).order_by(getattr(Customer, order)))
"""
    (f,) = found(tmp_path, {"app/models.py": SHOP, "app/service.py": service}, "CFG009")
    assert f.anchor == "sort:app/service.py:listing:order" and f.severity == Severity.INFO
    assert "where that name comes from was not followed (`params` is a parameter of `listing`, whose callers are not " \
           "in this module)" in f.message


def test_a_like_pattern_around_a_request_value_is_info_unless_escaped_or_unfollowed(tmp_path):
    """Tornado's handler arguments are the request's too."""
    handlers = """
from sqlalchemy import select
from app.models import Customer

class CustomersHandler(BaseHandler):
    def get(self):
        name = self.get_argument("name", "")
        return self.db.query(Customer).filter(Customer.name.ilike(f"%{name}%")).all()

    def post(self):
        name = self.get_argument("name", "")
        escaped = name.replace("%", "\\\\%").replace("_", "\\\\_")
        return self.db.query(Customer).filter(Customer.name.ilike("%" + escaped + "%", escape="\\\\")).all()

def search(db, text):
    return db.query(Customer).filter(Customer.name.like("%" + text + "%")).all()
"""
    (f,) = found(tmp_path, {"app/models.py": SHOP, "app/handlers.py": handlers}, "CFG010")
    assert f.anchor == "like:app/handlers.py:get:name" and f.severity == Severity.INFO
    assert "comes from the request (`self.get_argument('name', '')` comes from the request (a handler's `get_argument`))" \
        in f.message


def test_an_aware_helper_value_compared_with_a_naive_column_through_a_dict_of_cutoffs_is_tz004(tmp_path):
    """The helper returns an aware now unless told otherwise (its parameter's default decides the branch); the value
    reaches the filter through a dict's values and the loop over them."""
    models = HEADER + """
class Visitor(Base):
    __tablename__ = "visitors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    left_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
"""
    clock = """
from datetime import datetime, timezone

def current_time(*, aware=True):
    now = datetime.now(timezone.utc)
    if not aware:
        now = now.replace(tzinfo=None)
    return now
"""
    stats = """
from datetime import timedelta
from sqlalchemy.orm import Session
from app import models
from app.clock import current_time

def counts(db: Session):
    now = current_time()
    cutoffs = {"day": now - timedelta(days=1), "week": now - timedelta(days=7)}
    for name, cutoff in cutoffs.items():
        yield name, db.query(models.Visitor).filter(models.Visitor.seen_at >= cutoff).count()

def left(db: Session):
    return db.query(models.Visitor).filter(models.Visitor.left_at >= current_time()).count()

def naive(db: Session):
    return db.query(models.Visitor).filter(models.Visitor.seen_at >= current_time(aware=False)).count()
"""
    (f,) = found(tmp_path, {"app/models.py": models, "app/clock.py": clock, "app/stats.py": stats}, "TZ004")
    assert f.anchor == "table:visitors.seen_at:aware" and f.severity == Severity.WARNING
    assert ("counts (app/stats.py:11) compares it with `cutoff`, an aware datetime (`current_time()` returns "
            "`datetime.now(timezone.utc)` when called without arguments, app/clock.py:4)") in f.message


def test_a_whole_statement_run_as_given_is_info_with_advice_that_applies(tmp_path):
    """CFG008 (fix9 qry.txt, ckan helpers.py): `EXPLAIN {sql}` runs the statement it is given; no SQLAlchemy
    construct can stand in for it, so the claim is about what confines it."""
    service = """
from sqlalchemy import text

def plan(connection, sql):
    return connection.scalar(text(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}"))

def piece(connection, where):
    return connection.execute(text(f"SELECT * FROM shelves WHERE {where}"))
"""
    findings = {f.anchor: f for f in found(tmp_path, {"app/models.py": SHOP, "app/plans.py": service}, "CFG008")}
    whole = findings["sql:plan:sql"]
    assert whole.severity == Severity.INFO
    assert "is the whole statement run (SQL the function is given, not a piece spliced into its own)" in whole.message
    assert "build the clause" not in whole.message
    assert "is a piece of the statement" in findings["sql:piece:where"].message


def test_a_range_test_on_another_models_column_of_the_same_name_is_no_test_of_this_one(tmp_path):
    """TZ001 (fix9 qry.txt, lemur authorities.date_created): a lone naive column that no query tests is info; a test
    of certificates.date_created is not one of authorities.date_created."""
    models = HEADER + """
class Authority(Base):
    __tablename__ = "authorities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date_created: Mapped[datetime] = mapped_column(DateTime)

class Certificate(Base):
    __tablename__ = "certificates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date_created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
"""
    service = """
from sqlalchemy import select
from app.models import Certificate

def recent(db, since):
    return db.scalars(select(Certificate).where(Certificate.date_created >= since)).all()
"""
    (f,) = found(tmp_path, {"app/models.py": models, "app/service.py": service}, "TZ001")
    assert f.anchor == "table:authorities.date_created" and f.severity == Severity.INFO
    assert "no query of the application tests it in SQL" in f.message


def test_a_lookup_by_a_value_read_from_the_request_is_a_reader_but_a_clash_check_is_not(tmp_path):
    """`token = payload.get("token")` then `filter_by(confirmation_token=token)`: a reader that accepts the value.
    A fresh token checked against the table before it is stored is no such reader."""
    models = HEADER + """
import secrets

class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmation_token: Mapped[str] = mapped_column(String, nullable=True)

def send_confirmation(db, member):
    token = secrets.token_urlsafe(30)
    if db.query(Member).filter_by(confirmation_token=token).first() is None:
        member.confirmation_token = token
"""
    confirm = """
from sqlalchemy.orm import Session
from app.models import Member

def confirm_account(db: Session, payload):
    token = payload.get("token")
    return db.query(Member).filter_by(confirmation_token=token).first()
"""
    (f,) = found(tmp_path, {"app/models.py": models}, "MOD008")
    assert f.severity == Severity.INFO and "No code dbreview read looks a row up by it" in f.message
    (f,) = found(tmp_path / "b", {"app/models.py": models, "app/confirm.py": confirm}, "MOD008")
    assert f.severity == Severity.WARNING
    assert "confirm_account (app/confirm.py:7) compares it with the value it reads into `token`" in f.message


def test_secret_flow_reads_each_function_once_in_walk_order():
    """One walk per function (scan speed, issue 13) gives the uses in ast.walk's (breadth-first) order, a local's value by its
    name, a nested function's nodes with its outer one, and a maker from its returns."""
    import ast

    from analyzers.facts.secret_flow import read_secret_flow

    source = '''
import secrets
def make_key():
    return secrets.token_hex(16)
class Service:
    def reset(self, user, given):
        key = make_key()
        user.reset_key = key
        def inner():
            return Invite(invite_code=secrets.token_urlsafe())
        found = db.query(User).filter_by(reset_key=given).first()
        return user.reset_key == given
'''
    uses, makers = read_secret_flow(ast.parse(source), "app/svc.py")
    assert makers == {"make_key": ("generated", "secrets.token_hex(16)")}
    assert [(u.what, u.target, u.attr, u.span.start, u.value, u.detail, u.owner, u.function) for u in uses] == [
        ("write", "user", "reset_key", 8, "call", "make_key", "Service", "reset"),
        ("lookup", "user", "reset_key", 12, "param", "given", "Service", "reset"),  # breadth first: shallower
        ("write", "Invite", "invite_code", 10, "generated", "secrets.token_urlsafe()", "Service", "reset"),
        ("lookup", "User", "reset_key", 11, "param", "given", "Service", "reset"),
    ]


def test_an_aware_write_counts_on_the_model_its_object_is_loaded_as_never_by_attribute_name(tmp_path):
    """TZ004 (skyvern, first meeting: 31 tables cited the same four writes): `folder_model.modified_at = ...` on
    an object loaded as FolderModel is a write into folders, not into every table with a `modified_at`; the class
    is read from the load (`session.get(X, ...)`, `session.scalar(select(X)...)` through a statement's name),
    and a suffix every model shares (`...Model`) does not tie an object to a class."""
    models = HEADER + """
class FolderModel(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(primary_key=True)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

class CredentialFolderModel(Base):
    __tablename__ = "credential_folders"
    id: Mapped[int] = mapped_column(primary_key=True)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

class StepModel(Base):
    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)
"""
    repo = """
from datetime import datetime, timezone
from sqlalchemy import select
from app.models import CredentialFolderModel, FolderModel

async def move_credential(session, folder_id):
    folder_model = await session.get(CredentialFolderModel, folder_id)
    folder_model.modified_at = datetime.now(timezone.utc)

async def touch_folder(session, folder_id):
    stmt = select(FolderModel).where(FolderModel.id == folder_id)
    folder_model = await session.scalar(stmt)
    folder_model.modified_at = datetime.now(timezone.utc)
"""
    findings = {f.anchor: f for f in found(tmp_path, {"app/models.py": models, "app/repo.py": repo}, "TZ004")}
    assert sorted(findings) == ["table:credential_folders.modified_at:aware", "table:folders.modified_at:aware"]
    assert "touch_folder" in findings["table:folders.modified_at:aware"].message
    assert "move_credential" not in findings["table:folders.modified_at:aware"].message
    assert "touch_folder" not in findings["table:credential_folders.modified_at:aware"].message


def test_an_aware_value_set_by_a_bulk_update_or_an_upsert_is_a_write_into_that_model(tmp_path):
    """TZ004 (skyvern: three true findings missed): `update(M).values(modified_at=aware)`, an upsert's
    `on_conflict_do_update(set_={...})` and `query(M).update({M.col: aware})` write into M's column; a plain
    insert's values() is not read as one, and another model's column of the same name is left alone."""
    models = HEADER + """
class FolderModel(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(primary_key=True)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

class TagModel(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

class StepModel(Base):
    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
"""
    repo = """
from datetime import datetime, timezone
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from app.models import FolderModel, StepModel, TagModel

async def touch(session, folder_id):
    await session.execute(update(FolderModel).where(FolderModel.id == folder_id).values(modified_at=datetime.now(timezone.utc)))

async def tag(session, name):
    now = datetime.now(timezone.utc)
    stmt = insert(TagModel).values(id=1).on_conflict_do_update(index_elements=["id"], set_={"set_at": now})
    await session.execute(stmt)

def finish(session, step_id):
    session.query(StepModel).filter(StepModel.id == step_id).update({StepModel.finished_at: datetime.now(timezone.utc)})
"""
    findings = {f.anchor: f for f in found(tmp_path, {"app/models.py": models, "app/repo.py": repo}, "TZ004")}
    assert sorted(findings) == ["table:folders.modified_at:aware", "table:steps.finished_at:aware", "table:tags.set_at:aware"]
    assert "touch (app/repo.py:8) writes" in findings["table:folders.modified_at:aware"].message
    assert "tag (app/repo.py:12) writes `now`" in findings["table:tags.set_at:aware"].message


def test_a_default_helper_is_followed_to_the_clock_it_calls_and_no_claim_where_it_cannot_be(tmp_path):
    """TZ002 (bitcart api/models.py): `default=utc_now` whose body returns `utils.time.now()`, a function of
    another module that returns `datetime.now(UTC)`, was said naive because the text `now()` was in it. A helper
    is followed where it leads within the module; a dotted call dbreview does not follow makes no claim."""
    models = HEADER + """
from datetime import UTC
from app import clock

def utc_now() -> datetime:
    return clock.now()

def local_now() -> datetime:
    return utcnow()

def utcnow() -> datetime:
    return datetime.utcnow()

class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), onupdate=local_now)
"""
    clock = """
from datetime import UTC, datetime

def now() -> datetime:
    return datetime.now(UTC)
"""
    (f,) = found(tmp_path, {"app/models.py": models, "app/clock.py": clock}, "TZ002")
    assert f.anchor == "table:invoices.updated:onupdate"
    assert "onupdate=local_now gives a naive datetime (local_now calls utcnow())" in f.message


def test_a_lookup_by_a_token_a_match_case_takes_from_the_header_is_a_reader(tmp_path):
    """test_observer: `match header.split(): case ["Bearer", token]: ... Application.api_key == token`: the case binds
    the token from the request, and the lookup makes the stored key a bearer secret in use."""
    service = """
import secrets
from sqlalchemy import select
from app.models import Member

def rotate(member: Member):
    member.api_token = secrets.token_urlsafe(32)

def current(request, db):
    match request.headers.get("Authorization", "").split():
        case ["Bearer", token]:
            return db.scalar(select(Member).where(Member.api_token == token))
        case _:
            return None
"""
    (f,) = found(tmp_path, {"app/models.py": TOKENS, "app/auth.py": service}, "MOD008")
    assert "current (app/auth.py:12) compares it with the value it reads into `token`" in f.message
