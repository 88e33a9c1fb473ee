"""Section 2, users and identity: credentials the application keeps to present to another service (an OAuth
client secret, a provider's refresh token, a mail or directory server's password), stored as plain text. Unlike a
bearer secret the application hands out (MOD008) or a sign-in password (MOD004), these must be read back in clear,
so a hash cannot replace them: they are encrypted at rest, or kept in a secrets store and referenced."""

from __future__ import annotations

import re

from analyzers.facts.classes import flask_table_name
from analyzers.facts.model import ColumnFact, Span, TableFact
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import function_around, open_call
from analyzers.rules.examples_common import HEADER
from analyzers.rules.mentions import mentions
from analyzers.rules.s02_models import PlaintextPassword, encrypted_at, followed_writes, handed_on
from analyzers.rules.schema import column_anchor, column_sites, is_test_path, where_declared

# A secret the application presents to another party: an OAuth client's, a cloud key's.
_CLIENT_SECRET = re.compile(r"^(\w+_)?(client_secret|consumer_secret|app_secret|token_secret|secret_access_key)$", re.I)
# Tokens a provider issues to the application (or the application issues to its clients: MOD008's, told apart by
# what is written into them).
_PROVIDER_TOKEN = re.compile(r"^(\w+_)?(refresh_token|access_token|oauth_token|id_token)$", re.I)
# A password for another system says so in its name (`smtp_password`) or its table's (`mail_fetches.password`); a
# user's own sign-in password (MOD004's) does not.
# Matched on whole words of the snake-case names: `ci_password`, not `social` or `email`.
_OUTBOUND = re.compile(r"(?<![a-z])(smtp|mail|imap|pop3|ldap|bind|proxy|ftp|ssh|tunnel|remote|fetch|connection|connector|"
                       r"integration|datasource|data_source|server|service|registry|ci|jenkins|webdav|relay|gateway)s?(?![a-z])")
# An OAuth server's own module (oauthlib's RequestValidator, authlib's AuthorizationServer, Flask-OAuthlib's provider
# and its `@provider.tokensetter`): the tokens it saves are the ones it issues (MOD008's), not a provider's.
_OAUTH_SERVER = re.compile(r"RequestValidator|AuthorizationServer|ResourceProtector|save_bearer_token|TokenEndpoint|"
                           r"OAuth2Provider|\.tokensetter\b|\.grantsetter\b")
# Plain text types: what is written is what is stored. An encrypting TypeDecorator, a library's EncryptedType,
# bytes (maybe a ciphertext) or a type dbreview could not resolve are not claimed.
_PLAIN = ("String", "Text", "VARCHAR", "Unicode", "UnicodeText", "CHAR", "str")
# A line that makes the value at random: the application issues it (MOD008's), not another service.
_GENERATES = re.compile(r"token_urlsafe|token_hex|token_bytes|urandom|uuid4|gen_salt|getrandbits|generate_token|random", re.I)
# Where it is taken from a provider's answer: `token["refresh_token"]`, `creds.refresh_token`, `resp.get("access_token")`.
_PROVIDER_ANSWER = (r"""\w*(?:token|cred|resp|result|oauth|auth|data|payload|json)\w*(?:\(\))?\s*(?:\[\s*['"]|\.get\(\s*['"]|\.)"""
                    r"""(?:refresh_token|access_token|id_token|token)\b""")


_LINKS = HEADER + '''
class CalendarLink(Base):
    __tablename__ = "calendar_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    refresh_token: Mapped[str] = mapped_column(Text)
'''
_LINK = '''
from app.models import CalendarLink

def link(session, token):
    session.add(CalendarLink(refresh_token=token["refresh_token"]))
'''


class PlaintextCredential(Rule):
    """A credential the application presents to another service is stored as plain text.

    What it checks:
        Columns of a plain text type (String, Text, Unicode; not an encrypting type, bytes or a type dbreview
        could not resolve) that hold a credential for another service: an OAuth client's secret
        (`client_secret`, `consumer_secret`, `secret_access_key`) or a password for another system (its name or
        its table's says so: `smtp_password`, `mail_fetches.password`; no write of it hashes) that the code reads
        back to hand on (`client_secret=provider.client_secret`, `"password": fetch.password`: the
        case MOD004 leaves, as it cannot be hashed), or a token a provider issued to the application
        (`refresh_token`, `access_token`, `oauth_token`, shown taken from the provider's answer:
        `token["refresh_token"]`, `creds.access_token`, not in an OAuth server's module, whose tokens are its own;
        where other tables have a column of that name, a write given to a call that names one of them more fully,
        `jwt_token_service.save(access_token=...)`, is that table's).
        A warning; no finding
        where any line of the application that names the column encrypts, decrypts or hands it to a vault
        (the application may keep it encrypted), nor where a line makes its value at random (a token the
        application issues: MOD008 weighs those). A column whose use the code does not show so is no finding:
        whose credential it is, dbreview cannot tell.
    Why it matters:
        Whoever reads the table (a backup, a replica, a SQL injection, a support tool) can act as the application
        at the other service: read a user's mailbox or calendar, call the provider's API, bind to the directory.
        These values must be read back in clear, so a hash does not do; encryption at rest with a key kept outside
        the database does.
    Example:
        refresh_token: Mapped[str] = mapped_column(Text)
        ...
        account.refresh_token = token["refresh_token"]
    Instead:
        Encrypt the column (a TypeDecorator with a key from a KMS, sqlalchemy-utils' StringEncryptedType) or keep
        the credential in a secrets store and reference it.
    """

    ID = "MOD010"
    ITEM = "2.users.2"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/models.py": _LINKS, "app/links.py": _LINK},)
    VALID = ({"app/models.py": _LINKS, "app/links.py": "from app.crypto import encrypt\n" + _LINK.replace(
        'refresh_token=token["refresh_token"]', 'refresh_token=encrypt(token["refresh_token"])')},)

    def check(self):
        for table, col in column_sites(self.facts):
            attr = col.attr or col.name
            if col.type_name not in _PLAIN or col.primary_key or col.foreign_keys or re.search(r"encrypt|cipher|hash", attr, re.I):
                continue
            kind = ("client" if _CLIENT_SECRET.match(attr) else "token" if _PROVIDER_TOKEN.match(attr)
                    else "password" if PlaintextPassword.NAMES.match(col.name) and not re.search(r"hash|reset", col.name)
                    and _OUTBOUND.search(f"{col.name} {table.name} {flask_table_name(table.class_name or '')}".lower()) else None)
            if kind is None:
                continue
            lines = [(s, code) for s, line in mentions(self.facts, {attr})[attr]
                     if not is_test_path(s.path) and (code := line.partition("#")[0])]
            if encrypted_at(self.facts, attr) is not None or any(_GENERATES.search(code) for _, code in lines):
                continue
            shown = self._shown(table, col, kind, lines)
            if shown is None:
                continue
            what, span = shown
            yield self.finding(
                f"{where_declared(table, col)} holds {what} ({span.path}:{span.start}) as plain text, and no line of "
                "the application that names it encrypts it: whoever reads the table (a backup, a replica, an injection) "
                "can use it at that service as the application does. It must be read back in clear, so a hash does "
                "not do: encrypt it at rest, or keep it in a secrets store",
                col.span, column_anchor(table, col), related=[(span, "where the code shows what it holds")],
            )

    def _oauth_server(self, path: str) -> bool:
        return any(_OAUTH_SERVER.search(line) for line in self.facts.lines(Span(path, 1, 10**6)))

    def _into(self, table: TableFact, col: ColumnFact, span: Span, head: str) -> bool:
        """May the write on `span` (`head`: the line up to it) be into this table's column? Where other tables have a
        column of the name, a write given to a call that names one of them more fully is that one's
        (`self._jwt_oauth2_token_service.save_token(access_token=...)` is jwt_oauth2_token's, not oauth2_token's)."""
        attr = col.attr or col.name
        sharing = [t for t in self.facts.tables.values() if any((c.attr or c.name) == attr for c in t.columns.values())]
        if len(sharing) < 2:
            return True
        first, body = function_around(self.facts, span)
        callee = open_call("\n".join([*body[: span.start - first], head]))
        words = "_" + "_".join(re.findall(r"[a-z0-9]+", (callee or "").lower())) + "_"
        named = [t for t in sharing if f"_{t.name.lower()}_" in words]
        return not named or (table in named and len(table.name) == max(len(t.name) for t in named))

    def _shown(self, table: TableFact, col: ColumnFact, kind: str, lines: list[tuple[Span, str]]) -> tuple[str, Span] | None:
        """What the code shows the column holds, and where; None where it does not show a credential for another service."""
        if kind == "token":
            stored = re.compile(rf"\b{re.escape(col.attr or col.name)}\s*=(?!=)\s*{_PROVIDER_ANSWER}", re.I)
            taken = next((s for s, code in lines if (m := stored.search(code)) and not self._oauth_server(s.path)
                          and self._into(table, col, s, code[: m.start()])), None)
            return ("a token a provider issued, taken from its answer", taken) if taken is not None else None
        if kind == "password" and followed_writes(self.facts, table, col)[0]:
            return None  # some write hashes it: a sign-in password, MOD004's
        given = handed_on(self.facts, table, col, served=False)
        if given is None:
            return None
        return ("a client secret the code reads back to hand on" if kind == "client"
                else "a password the code reads back to hand on"), given
