"""CFG021 (issue 8, checklist 1.1): a database password spliced into a connection URL without URL-quoting, on a
fixture of our own (tests/fixtures/connection_urls): each finding pinned with its severity, each quoted, constant
or non-database URL silent, tests left out; and the facts it reads (analyzers/facts/spliced_passwords.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from analyzers.facts.python_module import extract_module
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "connection_urls"

# Silent on purpose: `Settings.quoted_url` (a local assigned from quote_plus), `escaped_by_helper` (a function of the
# module that calls `quote`), `built_with_url_create` (URL.create), LOCAL_URL (a literal), DEV_URL (a constant),
# REDIS_URL (not a database scheme), NO_PASSWORD_URL (no password position), HOST_ONLY_URL (`:` of the port, no
# `@`), and tests/conftest.py (tests are not read).
EXPECTED = {
    ("app/config.py:15", "function:app/config.py:Settings.database_url:self.db_password:unquoted-password",
     "Settings.database_url builds a `{self.db_driver}://` database URL"),
    ("app/db.py:8", "function:app/db.py:<module>:DB_PASSWORD:unquoted-password",
     "module level builds a `postgresql://` database URL (`'postgresql://app:%s@db:5432/app' % DB_PASSWORD`) with "
     "`DB_PASSWORD` (`os.environ['DB_PASSWORD']`) spliced in as the password, not URL-quoted: if the password may "
     "contain `@ : / # ? %`"),
    ("app/db.py:12", "function:app/db.py:report_engine:password:unquoted-password",
     "`password` is a parameter of report_engine, and whether its callers quote it first could not be told"),
    ("app/db.py:16", "function:app/db.py:audit_url:os.getenv('AUDIT_DB_PASSWORD', ''):unquoted-password",
     "audit_url builds a `postgresql+psycopg://` database URL"),
    ("migrations/env.py:9", "function:migrations/env.py:run_migrations_online:password:unquoted-password",
     "with `password` (`os.environ['DB_PASSWORD']`) spliced in as the password"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG021"]


def test_each_unquoted_password_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    severities = {f.location.start_line: f.severity.value for f in findings if f.location.path == "app/db.py"}
    # a parameter's callers are not read: info; a setting, the environment or a module value: warning
    assert severities == {8: "warning", 12: "info", 16: "warning"}
    assert all(f.severity.value == "warning" for f in findings if f.location.path != "app/db.py")
    assert all(f.item_id == "1.1" for f in findings)


def test_the_advice_names_the_value_and_the_driver(findings) -> None:
    first = next(f for f in findings if f.location.path == "app/config.py")
    text = advice(first.rule_id, first.anchor, first.message)
    assert "URL.create(self.db_driver, username=..., password=self.db_password" in text
    assert "quote_plus(self.db_password)" in text


def _facts(code: str) -> set[tuple[str, str, bool]]:
    return {(s.function, s.value, s.parameter) for s in extract_module("app/urls.py", code).spliced_passwords}


def test_every_way_of_building_a_string_is_read() -> None:
    code = '''
import os

def by_percent_names(cfg):
    return "mysql+pymysql://%(user)s:%(pw)s@%(host)s/app" % {"user": cfg.user, "pw": cfg.password, "host": cfg.host}

def by_format_names(cfg):
    return "mssql+pyodbc://{u}:{p}@{h}/app".format(u=cfg.user, p=cfg.password, h=cfg.host)

def by_concatenation(cfg):
    return "postgresql://" + cfg.user + ":" + cfg.password + "@" + cfg.host + "/app"

def by_mixed(cfg):
    return f"postgresql://{cfg.user}:" + cfg.password + f"@{cfg.host}/app"

def through_names(cfg):
    secret = cfg.password or ""
    password = secret.strip()
    return f"postgres://app:{password}@db/app"
'''
    assert _facts(code) == {("by_percent_names", "cfg.password", False), ("by_format_names", "cfg.password", False),
                            ("by_concatenation", "cfg.password", False), ("by_mixed", "cfg.password", False),
                            ("through_names", "password", False)}


def test_what_is_quoted_constant_or_no_password_is_not_kept() -> None:
    code = '''
import os
import urllib.parse
from urllib.parse import quote_plus as qp

class Settings:
    password = os.environ["PW"]
    password_q = qp(password)
    url = f"postgresql://app:{password_q}@db/app"

def quoted_inline(cfg):
    return f"postgresql://app:{urllib.parse.quote(cfg.password, safe='')}@db/app"

def quoted_aliased(cfg):
    return f"postgresql://app:{qp(cfg.password)}@db/app"

def named_encoded(cfg):
    return f"postgresql://app:{cfg.encoded_password}@db/app"

def user_only(cfg):
    return f"postgresql://{cfg.user}@{cfg.host}/app"

def host_and_port(cfg):
    return f"postgresql://{cfg.host}:{cfg.port}/app"

def other_scheme(cfg):
    return f"amqp://guest:{cfg.password}@rabbit//"

def scheme_unknown(cfg):
    return f"{cfg.scheme}://app:{cfg.password}@db/app"

def constant_password():
    pw = "secret"
    return f"postgresql://app:{pw}@localhost/app"
'''
    assert _facts(code) == set()


def test_a_closure_reads_the_names_of_the_function_around_it() -> None:
    code = '''
def outer(user, password):
    def make():
        return f"postgresql://{user}:{password}@db/app"
    return make
'''
    assert _facts(code) == {("outer.make", "password", True)}


def test_an_attribute_the_class_sets_to_a_constant_is_not_kept() -> None:
    code = '''
class LocalDb:
    def __init__(self, user):
        self.user = user
        self.local_password = "local!pwd"

    def url(self):
        return f"mysql+mysqldb://{self.user}:{self.local_password}@127.0.0.1/app"

class Settings:
    db_password: str = "dev"

    def url(self):
        return f"mysql+mysqldb://app:{self.db_password}@db/app"

class Connector:
    def __init__(self, secrets):
        self.password = secrets["password"]

    def url(self):
        return f"postgresql://app:{self.password}@db/app"
'''
    assert _facts(code) == {("Settings.url", "self.db_password", False), ("Connector.url", "self.password", False)}


def test_a_driver_in_two_values_is_cited_whole() -> None:
    code = '''
def connection_string(*, username, password, scheme="postgresql", driver="asyncpg"):
    return f"{scheme}+{driver}://{username}:{password}@db/app"
'''
    [fact] = extract_module("app/urls.py", code).spliced_passwords
    assert (fact.scheme, fact.parameter) == ("{scheme}+{driver}", True)


def test_a_password_read_where_a_literal_surely_reaches_it_is_no_finding() -> None:
    """raw-data-repository: the local branch sets the password to one of two literals just before building its URL;
    the other branch reads a secret and is reported, and a name assigned in a loop after its use is not taken."""
    code = '''
def connect(config, user, local):
    if local:
        passwd = "root" if user == "root" else "local!pwd"
        return f"mysql+mysqldb://{user}:{passwd}@127.0.0.1/app"
    passwd = config["db_password"]
    return f"mysql+mysqldb://{user}:{passwd}@db/app"

def rotate(config, user):
    secret = "first"
    for _ in range(2):
        url = f"postgresql://{user}:{secret}@db/app"
        secret = config["next"]
    return url
'''
    assert _facts(code) == {("connect", "passwd", False), ("rotate", "secret", False)}
    [connect] = [f for f in extract_module("app/urls.py", code).spliced_passwords if f.function == "connect"]
    assert connect.origin == "passwd = config['db_password']"
