"""INT002 on ids that point at no table of the project (issue 7: augur, PowerDNS-Admin at first meeting) and on
foreign keys the model reader missed in a declared_attr (nyaa): each class rebuilt as a repository of our own."""

from __future__ import annotations

from tests.test_precision import HEADER, found

# -- INT002: a foreign key a declared_attr builds in a local name; a table that only ends with the word ------

_PREFIXED = HEADER + """
from sqlalchemy import ForeignKeyConstraint, Index
from sqlalchemy.orm import declared_attr


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SubCategory(Base):
    __tablename__ = "sub_categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), primary_key=True)


class ItemBase:
    __flavor__ = "shop"

    @classmethod
    def _prefixed(cls, name):
        return cls.__flavor__ + "_" + name

    @declared_attr
    def category_id(cls):
        fk = ForeignKey(cls._prefixed("categories.id"))
        return mapped_column(Integer, fk, nullable=False)

    sub_category_id = mapped_column(Integer, nullable=False)

    @declared_attr
    def __table_args__(cls):
        return (
            Index(cls._prefixed("item_flags_idx"), "category_id"),
            ForeignKeyConstraint(["category_id", "sub_category_id"],
                                 [cls._prefixed("sub_categories.category_id"), cls._prefixed("sub_categories.id")]),
        )


class Item(ItemBase, Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""


def test_a_foreign_key_a_declared_attr_binds_to_a_local_name_is_the_columns(tmp_path):
    """nyaa (INT002 x2 wrong): `fk = ForeignKey(cls._prefix("main_categories.id"))` then `return Column(Integer, fk)`, and
    a ForeignKeyConstraint in a declared_attr `__table_args__`: both columns have a foreign key."""
    assert found(tmp_path, {"app/models.py": _PREFIXED}, "INT002") == []


_TOPICS = HEADER + """

class Repo(Base):
    __tablename__ = "repo"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RepoTopic(Base):
    __tablename__ = "repo_topic"
    repo_topic_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TopicWord(Base):
    __tablename__ = "topic_words"
    topic_words_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(Integer)


class FetchLog(Base):
    __tablename__ = "fetch_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repos_id: Mapped[int] = mapped_column(Integer)
"""


def test_a_table_that_only_ends_with_the_word_and_is_keyed_otherwise_is_no_referent(tmp_path):
    """augur (INT002 x2 wrong): topic_words.topic_id, an ordinal of the clustering run, was taken for a pointer at
    repo_topic (keyed by repo_topic_id); `repos_id` still names the table `repo`."""
    assert [f.anchor for f in found(tmp_path, {"app/models.py": _TOPICS}, "INT002")] == ["table:fetch_log.repos_id"]


def test_the_columns_own_table_that_only_ends_with_the_word_is_no_referent(tmp_path):
    """PowerDNS-Admin (INT002 wrong): backend_key_id on dnssec_rollover_key holds the DNS server's key id; the only
    table `key` could name is the column's own, by its last word."""
    model = HEADER + """

class RolloverKey(Base):
    __tablename__ = "rollover_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    backend_key_id: Mapped[int] = mapped_column(Integer)
    parent_rollover_key_id: Mapped[int] = mapped_column(Integer)
"""
    assert [f.anchor for f in found(tmp_path, {"app/models.py": model}, "INT002")] == [
        "table:rollover_key.parent_rollover_key_id"]


def test_named_like_its_own_table_only_it_is_said_where_the_code_uses_it_as_a_reference(tmp_path):
    """lemur (INT002 right): resolved_cert_id on pending_certs is set from a certificate's id; the only table `cert`
    names is its own, so the code's use decides (PowerDNS-Admin's backend_key_id has none)."""
    model = HEADER + """

class PendingCert(Base):
    __tablename__ = "pending_certs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resolved_cert_id: Mapped[int] = mapped_column(Integer)
"""
    service = "def resolve(pending, cert):\n    pending.resolved_cert_id = cert.id\n"
    (f,) = found(tmp_path, {"app/models.py": model, "app/service.py": service}, "INT002")
    assert f.anchor == "table:pending_certs.resolved_cert_id" and f.severity.value == "warning"


_ANALYSES = HEADER + """

class AppVersion(Base):
    __tablename__ = "app_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ChangeLink(Base):
    __tablename__ = "mirror_change_upstream_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Analysis(Base):
    __tablename__ = "analyses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    archive_version_id: Mapped[int | None] = mapped_column(Integer)
    change_id: Mapped[int | None] = mapped_column(Integer)
"""


def test_a_table_that_only_ends_with_the_word_under_another_qualifier_is_said_only_where_the_code_uses_it(tmp_path):
    """cg, packit-service (INT002 x3 wrong): housekeeper_version_id (another service's version) beside
    application_version, pr_id (a forge's PR number) beside a source_git_pr_dist_git_pr link table: no table is named
    like the column in full, so only the code's use of it as a reference says it points at one."""
    archive = "def files(archive, analysis):\n    return archive.files_of(analysis.archive_version_id)\n"
    assert found(tmp_path / "a", {"app/models.py": _ANALYSES, "app/clean.py": archive}, "INT002") == []
    used = "def pin(analysis, version):\n    analysis.archive_version_id = version.id\n"
    (f,) = found(tmp_path / "b", {"app/models.py": _ANALYSES, "app/pin.py": used}, "INT002")
    assert f.anchor == "table:analyses.archive_version_id" and f.severity.value == "warning"


def test_a_table_keyed_by_the_columns_own_name_is_its_referent(tmp_path):
    """osparc (INT002 right): licensed_item_purchase_id points at licensed_items_purchases, keyed by
    licensed_item_purchase_id: a suffix match keyed by the column's own name counts."""
    model = HEADER + """

class Purchase(Base):
    __tablename__ = "tracker_licensed_items_purchases"
    licensed_item_purchase_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Transaction(Base):
    __tablename__ = "tracker_transactions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licensed_item_purchase_id: Mapped[int] = mapped_column(Integer)
"""
    assert [f.anchor for f in found(tmp_path, {"app/models.py": model}, "INT002")] == [
        "table:tracker_transactions.licensed_item_purchase_id"]


# -- INT002: outside ids, keys of another kind, writes from values handed in, SQL joins through an alias -------

_REPOS = HEADER + """
class Repo(Base):
    __tablename__ = "repos"
    repo_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Tree(Base):
    __tablename__ = "trees"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(BigInteger)
    tree_id: Mapped[int] = mapped_column(Integer)
"""


def test_an_outside_id_or_a_key_of_another_kind_is_no_missing_foreign_key(tmp_path):
    """`"event_id": event.get("id")` is the id an API's payload carries; an Integer `tree_id` beside `trees` keyed by
    a String cannot be a foreign key to it. Neither is reported; repo_id still is."""
    code = """
def review_row(event, repo_id):
    return {"event_id": event.get("id"), "repo_id": repo_id}
"""
    models = _REPOS.replace("class Review(Base):", "class Event(Base):\n    __tablename__ = \"events\"\n"
                            "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n\n\nclass Review(Base):")
    got = found(tmp_path, {"app/models.py": models, "app/reviews.py": code}, "INT002")
    assert [f.anchor for f in got] == ["table:reviews.repo_id"]


def test_a_write_from_a_value_handed_in_is_said_not_denied(tmp_path):
    """`{"repo_id": repo_id}`: a row for a bulk insert, or the body of a webhook (SuperAGI: judged wrong as a write),
    which dbreview cannot tell apart: the finding names the line and says what dbreview does not follow, never that
    the code sets it from no row's id."""
    code = """
def review_row(repo_id):
    return {"repo_id": repo_id}
"""
    (f,) = found(tmp_path, {"app/models.py": _REPOS, "app/reviews.py": code}, "INT002")
    assert f.anchor == "table:reviews.repo_id"
    assert "dbreview ties no lookup, join or write of another row's id to it" in f.message
    assert "saw no code" not in f.message


def test_a_sql_join_through_the_tables_alias_is_named(tmp_path):
    sql = '''
from sqlalchemy import text

def licensed(conn, repo):
    return conn.execute(text("""
        SELECT r.repo_id FROM reviews e, repos r
        WHERE e.repo_id = r.repo_id
    """)).all()
'''
    (f,) = found(tmp_path, {"app/models.py": _REPOS, "app/reviews.py": sql}, "INT002")
    assert "SQL joins on it (app/reviews.py:7)" in f.message


def test_a_schema_without_one_foreign_key_keeps_references_in_code_by_design(tmp_path):
    """fastapi_best_architecture (INT002 x2 debatable): the project removed every foreign key on purpose; each
    reference the code uses is then info that says the schema declares none, not a warning to add one."""
    model = HEADER + "".join(f"""

class {name.title()}(Base):
    __tablename__ = "{name}s"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
""" for name in ("role", "menu", "dept", "notice", "tag")) + """

class UserSocial(Base):
    __tablename__ = "user_socials"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""
    service = "def link(social, user):\n    social.user_id = user.id\n"
    (f,) = found(tmp_path, {"app/models.py": model, "app/service.py": service}, "INT002")
    assert f.severity.value == "info" and f.message.endswith(
        "none of the 7 tables declares a foreign key, so the project keeps its references in code by design, and this is "
        "one more of them")
    keyed = model.replace('__tablename__ = "roles"\n    id: Mapped[int] = mapped_column(Integer, primary_key=True)',
                          '__tablename__ = "roles"\n    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n'
                          '    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))')
    (f,) = found(tmp_path / "keyed", {"app/models.py": keyed, "app/service.py": service}, "INT002")
    assert "declares a foreign key" not in f.message  # one foreign key: the schema's way is to declare them


def test_another_classes_attribute_of_the_same_name_is_no_use_and_sql_equality_is_a_comparison(tmp_path):
    """mindsdb (INT002 judged wrong): `self.run_id` of a runner class in another module is that class's attribute,
    not the column; `JOIN runs r ON b.run_id = r.id` in SQL compares the column with a row's id, it writes nothing."""
    model = HEADER + """

class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
"""
    runner = "class Runner:\n    def __init__(self, run_id, store):\n        self.run_id = run_id\n        store.get_run(self.run_id)\n"
    (f,) = found(tmp_path, {"app/models.py": model, "app/runner.py": runner}, "INT002")
    assert f.severity.value == "info" and "looks a row up" not in f.message
    sql = 'SQL = """\n    SELECT b.id FROM batches b\n    JOIN runs r ON b.run_id = r.id\n"""\n'
    (f,) = found(tmp_path / "sql", {"app/models.py": model, "app/report.py": sql}, "INT002")
    assert "the code compares it with a row's id in SQL (app/report.py:3)" in f.message


# -- INT002: another row's id written into a field of the same name on another class ------------------------

_VERSIONED = HEADER + """


class Version(Base):
    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Setting(Base):
    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer)
"""
_SCHEMA_WRITES = '''
from app.models import Setting
from app.schemas import SettingRead, VersionEntry


def show(setting, version):
    ret = SettingRead.model_validate(setting)
    ret.version_id = version.id
    return ret


def entries(versions):
    return [VersionEntry(
        name=v.name,
        version_id=v.id,
    ) for v in versions]
'''


def test_an_id_written_into_another_class_s_field_is_not_a_write_of_the_column(tmp_path):
    """bisheng (INT002 wrong): `ret.version_id = v.id` on an API schema the function made, and `version_id=v.id`
    given to another class's constructor, write no Setting row: the finding stays info, without that claim."""
    for code in (_SCHEMA_WRITES, _SCHEMA_WRITES.replace("    ret.version_id = version.id\n", "")):
        (f,) = found(tmp_path, {"app/models.py": _VERSIONED, "app/service.py": code}, "INT002")
        assert f.severity.value == "info" and "writes another row's id" not in f.message
    own = _SCHEMA_WRITES.replace("ret = SettingRead.model_validate(setting)", "ret = Setting(name='x')")
    (f,) = found(tmp_path, {"app/models.py": _VERSIONED, "app/service.py": own}, "INT002")
    assert f.severity.value == "warning" and "writes another row's id into it (app/service.py:8)" in f.message
