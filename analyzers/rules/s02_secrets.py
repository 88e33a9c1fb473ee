"""Section 2, users and identity: bearer secrets (reset keys, API keys, OAuth codes, session tokens) kept in
the database as the value handed to the client, shown by the code that writes or looks them up."""

from __future__ import annotations

import re

from analyzers.facts.model import ColumnFact, Span, TableFact
from analyzers.facts.secret_flow import GENERATORS, SECRET_ATTR
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import column_anchor, column_sites, is_test_path, where_declared

# Named like a secret but not one the client presents: its hash or prefix, its kind or expiry, a nonce, a
# device's push address (a third party's identifier), a CSRF token.
_NOT_SECRET = re.compile(r"hash|digest|crypt|prefix|type|kind|expir|salt|csrf|xsrf|nonce|fcm|push|apns|device|"
                         r"firebase|expo|notification|(^|_)count|length|_at$|_on$", re.I)  # `attempt_count`, not `accounts`
# A column named for a payment provider (`paypal_token`) holds its id of a payment; a table named so (`stripe_events`)
# may still keep a secret of the application's own (a replay token).
_PROVIDER = re.compile(r"paypal|stripe|braintree|razorpay|paystack|omise|alipay", re.I)
# A column named only `code` is a secret on a table of authorization grants, invitations, resets ...
_CODE_TABLES = re.compile(r"oauth|authori[sz]ation|grant|verif|invit|reset|magic|recovery|login|confirm|activation", re.I)
_TYPES = ("String", "Text", "VARCHAR", "Unicode", "UnicodeText", "CHAR", "LargeBinary", "UUID", "Uuid", "GUID", "str", None)


class RawBearerSecret(Rule):
    """A bearer secret (reset key, API key, OAuth code, session token) is stored as the value handed out.

    What it checks:
        Columns named like a secret a client presents (`*_token`, `api_key`, `reset_key`, an OAuth grant's
        `code` ...), not a hash, prefix or expiry of one, where the code shows the raw value: a write stores the
        output of a random generator (`secrets.token_*`, `uuid4()`, `os.urandom`, directly, through a local
        variable, a column default or a project function that returns one) with no hash on the way (warning);
        or the code finds the row by comparing the column with the value it is given (`cls.code == code`,
        `filter_by(token=token)`, `key == user.reset_key`, a parameter or a local read from the request), which
        only matches where the column holds that very
        value (info: what the callers pass was not followed). The warning needs both: a raw write and a reader
        that accepts the stored value as presented; a raw write with no such lookup in the code read is info
        (nothing shows the value is still accepted as a credential: a dead column, or a consumer dbreview does
        not see). An OAuth authorization code kept beside its client (`client_id`) is no finding: redeeming it
        takes the client's own credentials as well, and a payment provider's token (`paypal_token`, `stripe_*`) is
        the provider's id of a payment, not a secret this application hands out. A column merely named so is no
        finding, nor one any write of which hashes (a hashing call, or a value the code names a hash:
        `token, token_hash = generate_token()` then `Token(token=token_hash)`).
    Why it matters:
        Whoever reads the table (a backup, a replica, a SQL injection, a support tool) can use every live
        secret in it as is: reset a password, call the API, redeem an OAuth code. A hash of a high-entropy token
        (SHA-256 is enough) is as good for the lookup and useless to the reader.
    Example:
        user.reset_key = secrets.token_urlsafe(32)
        ...
        db.query(User).filter(User.reset_key == key).first()
    Instead:
        Hand out the token, store `sha256(token)` (or a prefix to find the row and a hash to check it) and
        look up by the hash of what is presented.
    """

    ID = "MOD008"
    ITEM = "2.users.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
import hashlib, secrets
class PasswordReset(Base):
    __tablename__ = "password_resets"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))

def start_reset(db):
    token = secrets.token_urlsafe(32)
    db.add(PasswordReset(token_hash=hashlib.sha256(token.encode()).hexdigest()))
    return token
''', HEADER + '''
import hashlib, secrets
class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    api_key: Mapped[str] = mapped_column(String(64))

def issue(db):
    raw = secrets.token_hex(32)
    db.add(ApiKey(api_key=hashlib.sha256(raw.encode()).hexdigest()))
    return raw

def find(db, presented):
    return db.query(ApiKey).filter(ApiKey.api_key == hashlib.sha256(presented.encode()).hexdigest()).first()
''')
    INVALID = (HEADER + '''
import secrets
class PasswordReset(Base):
    __tablename__ = "password_resets"
    id: Mapped[int] = mapped_column(primary_key=True)
    reset_token: Mapped[str] = mapped_column(String(64))

def start_reset(db):
    token = secrets.token_urlsafe(32)
    db.add(PasswordReset(reset_token=token))
    return token
''', HEADER + '''
class AuthorizationCode(Base):
    __tablename__ = "oauth_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))

    @classmethod
    def find(cls, db, code):
        return db.query(cls).filter(cls.code == code).first()
''')

    def check(self):
        uses = [u for m in self.facts.modules if not is_test_path(m.path) for u in m.secret_uses]
        makers = _makers(self.facts)
        for table, col in column_sites(self.facts):
            attr = col.attr or col.name
            if not secret_column(table, col):
                continue
            mine = [u for u in uses if u.attr == attr and ties(u.target, u.owner, col.declared_in or table.class_name or "")]
            writes = [u for u in mine if u.what == "write"]
            if any(w.value == "hashed" for w in writes):
                continue  # some write hashes: what the column holds is not shown to be the raw value
            generated = [(w, w.detail if w.value == "generated" else _made_by(makers, w.detail))
                         for w in writes if w.value in ("generated", "call")]
            generated = [(w, how) for w, how in generated if how]
            by_default = _default_generator(makers, col)
            lookups = [u for u in mine if u.what == "lookup" and not re.search(r"hash|digest", u.detail, re.I)]
            if not generated and not by_default and not lookups:
                continue
            if _client_bound_code(table, col):
                continue  # an authorization code is redeemed with the client's credentials: alone, it opens nothing
            where = where_declared(table, col)
            related = [(w.span, f"{w.function}: stores the output of `{how}`") for w, how in generated[:4]]
            related += [(u.span, f"{u.function}: compares it with `{u.detail}`") for u in lookups[:4]]
            said = {"param": "its parameter", "local": "the value it reads into"}
            found = "; ".join(
                [f"{w.function} ({w.span.path}:{w.span.start}) stores the output of `{how}` in it" for w, how in generated[:2]]
                + ([f"its default `{col.default}` makes it from `{by_default}`"] if by_default else []))
            looked = ", ".join(f"{u.function} ({u.span.path}:{u.span.start}) compares it with {said[u.value]} `{u.detail}`"
                               for u in lookups[:2])
            reader = "whoever reads the table (a backup, a replica, an injection) can use each live value as is"
            if found and lookups:
                message = f"{where} holds a bearer secret as handed out: {found}, with no hash on the way, and {looked}: {reader}"
                yield self.finding(message, col.span, column_anchor(table, col), related=related)
            elif found:
                yield self.finding(
                    f"{where} holds a random secret as generated: {found}, with no hash on the way. No code dbreview read "
                    "looks a row up by it, so nothing shows the stored value is still accepted as a credential: if a "
                    f"reader dbreview does not see accepts it, {reader}; if none does, the column keeps live secrets "
                    "for no use (stop writing it, or store a hash)",
                    col.span, column_anchor(table, col), severity=Severity.INFO, related=related)
            else:
                yield self.finding(
                    f"{where} is looked up by the value presented: {looked}, which matches only where the column holds "
                    f"the secret itself, not a hash (unless the callers pass a hash: not followed): {reader}",
                    col.span, column_anchor(table, col), severity=Severity.INFO, related=related)


def random_value(facts, table: TableFact, col: ColumnFact) -> tuple[str, Span] | None:
    """(the generator, where) when every write of the column dbreview sees stores a random generator's output
    (`None` apart), or its default makes one and nothing else is seen written; None otherwise. Only attributes
    named like a secret have their writes collected (facts/secret_flow.py): for others nothing is known."""
    attr = col.attr or col.name
    if not SECRET_ATTR.match(attr):
        return None
    makers = _makers(facts)
    cls = col.declared_in or table.class_name or ""
    writes = [u for m in facts.modules if not is_test_path(m.path) for u in m.secret_uses
              if u.what == "write" and u.attr == attr and ties(u.target, u.owner, cls)
              and not (u.value == "other" and u.detail == "None")]
    hows = [w.detail if w.value == "generated" else _made_by(makers, w.detail) if w.value == "call"
            else _maker_called(makers, w.detail) for w in writes]
    default = "" if (col.default or "").strip() in ("", "None") else col.default or ""  # `default=None`: NULL, no value
    by_default = (_default_generator(makers, col) or _maker_called(makers, default)) if default else ""
    if "" in hows or col.server_default is not None or (default and not by_default):
        return None  # some value not drawn at random: two rows may hold it
    if hows:
        return hows[0], writes[0].span
    return (by_default, col.span) if by_default else None


def _maker_called(makers: dict[str, list[tuple[str, str]]], text: str) -> str:
    """`generate_token(40)`, `lambda: generate_token(40)`: a project function called with constants, and the
    generator whose output it returns, or ""."""
    m = re.fullmatch(r"\s*(?:lambda\s*:\s*)?([\w.]+)\(\s*(?:[\w'\"]+\s*,?\s*)*\)\s*", text)
    return _made_by(makers, m.group(1).rsplit(".", 1)[-1]) if m else ""


def _makers(facts) -> dict[str, list[tuple[str, str]]]:
    """{function name: what each definition of it returns} over the project's modules (facts/secret_flow.py)."""
    makers: dict[str, list[tuple[str, str]]] = {}
    for m in facts.modules:
        for name, kind in m.token_makers.items():
            makers.setdefault(name, []).append(kind)
    return makers


def secret_column(table: TableFact, col: ColumnFact) -> bool:
    attr = col.attr or col.name
    if col.primary_key or col.foreign_keys or col.type_name not in _TYPES:
        return False
    if not SECRET_ATTR.match(attr) or _NOT_SECRET.search(attr) or _PROVIDER.search(attr) or _NOT_SECRET.search(table.name):
        return False
    if attr.lower() == "code":
        return bool(_CODE_TABLES.search(table.name) or _CODE_TABLES.search(table.class_name or ""))
    return True


def _client_bound_code(table: TableFact, col: ColumnFact) -> bool:
    """An OAuth grant's `code` on a row that names its client: the token endpoint takes the code together with
    the client's authentication (its secret, or a PKCE verifier of which only a hash is kept)."""
    if (col.attr or col.name).lower() != "code" or not re.search(r"oauth|authori[sz]ation|grant", f"{table.name} {table.class_name or ''}", re.I):
        return False
    return any(re.fullmatch(r"(\w+_)?client(_id)?", c.attr or c.name, re.I)
               or any("client" in fk.table.lower() for fk in c.foreign_keys) for c in table.columns.values())


def ties(target: str, owner: str, cls: str) -> bool:
    """The write or lookup is on the column's class: `User(...)`, `User.reset_key`, `self`/`cls` in a method of
    the class, or an object named like it (`user`, `new_user`, `orm_code` for OAuthCode)."""
    if not cls:
        return False
    last = target.rsplit(".", 1)[-1]
    if last == cls or (target in ("self", "cls") and owner == cls):
        return True
    # a suffix many models share says nothing: `folder_model` names FolderModel, not CredentialModel
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", _GENERIC.sub("", cls) or cls).lower().rsplit("_", 1)[-1]
    obj = re.sub(r"_(?:model|orm|db|dbe|dba|table|record|entity|row|obj)$", "", last)
    return target not in ("self", "cls") and obj[:1].islower() and obj.endswith(snake)


_GENERIC = re.compile(r"(?<=[a-z])(?:Model|Orm|ORM|DB|Db|DBE|Dbe|DBA|Dba|Table|Record|Entity|Row)$")


def _made_by(makers: dict[str, list[tuple[str, str]]], name: str, depth: int = 0) -> str:
    """The generator a project function's every definition returns the output of (three calls deep), or ""."""
    kinds = makers.get(name)
    if not kinds or depth > 3:
        return ""
    found = {kind[1] if kind[0] == "generated" else _made_by(makers, kind[1], depth + 1) for kind in kinds}
    return next(iter(found)) if len(found) == 1 and "" not in found else ""


def _default_generator(makers: dict[str, list[tuple[str, str]]], col: ColumnFact) -> str:
    default = (col.default or "").strip()
    if not default:
        return ""
    called = re.findall(r"[\w.]+", default)
    generator = next((c for c in called if GENERATORS.search(c)), "")
    if generator:
        return generator
    return _made_by(makers, default.rsplit(".", 1)[-1]) if re.fullmatch(r"[\w.]+", default) else ""
