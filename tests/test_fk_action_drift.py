"""MIG006: foreign-key actions (ON DELETE / ON UPDATE) of the models against the schema the migrations build
(issue 8; a squash revision that rebuilt its keys without the models' ON DELETE CASCADE), and the places
where the replay may have lost track of a key, where nothing is said."""

from __future__ import annotations

from tests.test_precision import HEADER, found, revision

MODELS = HEADER + """

class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
"""

CREATE = """
op.create_table("posts", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "comments",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name="comments_post_fk"),
)
"""


def drift(tmp_path, kind: str, models: str, *upgrades: str) -> list:
    """MIG006's findings of one kind (`drift:<kind>:` anchors) on app/models.py and a chain of revisions."""
    files = {"app/models.py": models}
    for i, upgrade in enumerate(upgrades, 1):
        files[f"migrations/versions/000{i}_r.py"] = revision(upgrade, rev=f"000{i}", down=f"000{i - 1}" if i > 1 else None)
    return [f for f in found(tmp_path, files, "MIG006") if f.anchor.startswith(f"drift:{kind}:")]


def _drift(tmp_path, models: str, *upgrades: str) -> list:
    return drift(tmp_path, "fk-actions", models, *upgrades)


def test_a_cascade_the_migrations_never_build(tmp_path):
    (f,) = _drift(tmp_path, MODELS, CREATE)
    assert f.anchor == "drift:fk-actions:comments" and f.location.path == "app/models.py"
    assert "post_id -> posts (migrations/versions/0001_r.py:" in f.message
    assert "ON DELETE CASCADE in the model but not set (NO ACTION) in the migrations" in f.message
    assert "the database rejects the delete where the model deletes those rows" in f.message


def test_the_other_way_round_and_on_update(tmp_path):
    models = MODELS.replace('ondelete="CASCADE"', 'onupdate="CASCADE"')
    (f,) = _drift(tmp_path, models, CREATE.replace('name="comments_post_fk"', 'name="comments_post_fk", ondelete="SET NULL"'))
    assert "ON DELETE not set (NO ACTION) in the model but SET NULL in the migrations" in f.message
    assert "the database sets their post_id to NULL where the model rejects the delete" in f.message
    assert "ON UPDATE CASCADE in the model but not set (NO ACTION)" in f.message


def test_the_same_actions_spelled_otherwise_are_no_finding(tmp_path):
    assert _drift(tmp_path / "a", MODELS, CREATE.replace('name="comments_post_fk"', 'name="comments_post_fk", ondelete="cascade"')) == []
    restrict = MODELS.replace('ondelete="CASCADE"', 'ondelete="RESTRICT"')  # rejects the delete either way
    assert _drift(tmp_path / "b", restrict, CREATE) == []


def test_a_key_rebuilt_later_is_followed(tmp_path):
    again = """
op.drop_constraint("comments_post_fk", "comments", type_="foreignkey")
op.create_foreign_key("comments_post_fk", "comments", "posts", ["post_id"], ["id"], ondelete="CASCADE")
"""
    assert _drift(tmp_path / "op", MODELS, CREATE, again) == []
    sql = """
op.execute("ALTER TABLE comments DROP CONSTRAINT comments_post_fk")
op.execute("ALTER TABLE comments ADD CONSTRAINT comments_post_fk FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE")
"""
    assert _drift(tmp_path / "sql", MODELS, CREATE, sql) == []
    (f,) = _drift(tmp_path / "sql-none", MODELS, CREATE, sql.replace(" ON DELETE CASCADE", ""))
    assert "migrations/versions/0002_r.py:" in f.message


def test_where_the_replay_may_have_lost_the_key_nothing_is_said(tmp_path):
    # dropped by a name the migrations never give one of its keys (a naming convention's): which key went is not known
    conventional = 'op.drop_constraint("fk_comments_post_id_posts", "comments", type_="foreignkey")'
    assert _drift(tmp_path / "name", MODELS, CREATE, conventional) == []
    # a name built at run time, an inspector check, a DO block about its constraints
    runtime = 'name = get_name()\nop.drop_constraint(name, "comments", type_="foreignkey")'
    assert _drift(tmp_path / "runtime", MODELS, CREATE, runtime) == []
    guarded = """
if "comments_post_fk" not in [fk["name"] for fk in sa.inspect(op.get_bind()).get_foreign_keys("comments")]:
    op.create_foreign_key("comments_post_fk", "comments", "posts", ["post_id"], ["id"])
"""
    assert _drift(tmp_path / "guarded", MODELS, CREATE.replace(',\n    sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name="comments_post_fk")', ""), guarded) == []
    block = ('op.execute("DO $$ BEGIN ALTER TABLE comments DROP CONSTRAINT IF EXISTS comments_post_fk; '
             'EXCEPTION WHEN others THEN NULL; END $$")')
    assert _drift(tmp_path / "do", MODELS, CREATE, block) == []


def test_an_action_written_as_a_name_is_not_compared(tmp_path):
    models = MODELS.replace('ondelete="CASCADE"', "ondelete=ON_DELETE")
    assert _drift(tmp_path, models, CREATE) == []


# -- REL002: a link model with a surrogate key of its own ------------------------------------------------------

LINK = HEADER + """
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    {relationship}


class PostTag(Base):
    __tablename__ = "{name}"
    {args}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    {extra}
"""


TAGGING = """
from app.models import PostTag


def tag(session, post, tag):
    session.add(PostTag(post_id=post.id, tag_id=tag.id))
"""


def _link(tmp_path, name="post_tags", args="", extra="", relationship="", written=True):
    model = LINK.format(name=name, args=args, extra=extra, relationship=relationship)
    return found(tmp_path, {"app/models.py": model, **({"app/tagging.py": TAGGING} if written else {})}, "REL002")


def test_a_link_with_a_surrogate_key_and_no_unique_pair(tmp_path):
    (f,) = _link(tmp_path)
    assert f.anchor == "table:post_tags:unique-pair" and f.location.start_line == 30 and f.item_id == "5.5"
    assert f.message == ("post_tags links post_id and tag_id under a key of its own (id) with no unique (post_id, tag_id): "
                         "the same pair can be linked twice")
    assert f.severity.value == "warning"


def test_a_link_nothing_in_the_application_names_is_info(tmp_path):
    (f,) = _link(tmp_path, written=False)
    assert (f.anchor, f.severity.value) == ("table:post_tags:unique-pair", "info")
    assert f.message.endswith("; but nothing in the application's code names PostTag outside its class, nor SQL names "
                              "the table: no writer of it is in sight (a schema kept for another tool?)")


def test_a_timestamped_link_is_one_only_where_the_code_uses_it_as_a_secondary(tmp_path):
    stamped = "created_at: Mapped[datetime] = mapped_column(DateTime)"
    assert _link(tmp_path / "stamped", extra=stamped) == []  # a log of who read what looks the same
    rel = 'tags = relationship("Tag", secondary="post_tags")'
    (f,) = _link(tmp_path / "secondary", extra=stamped, relationship=rel)
    assert "Post.tags adds its rows through secondary= (app/models.py:23)" in f.message


def test_what_is_not_a_bare_link_is_no_finding(tmp_path):
    assert _link(tmp_path / "unique", args='__table_args__ = (UniqueConstraint("post_id", "tag_id"),)') == []
    assert _link(tmp_path / "attribute", extra="weight: Mapped[int] = mapped_column(Integer)") == []
    assert _link(tmp_path / "log", name="post_tag_events") == []


def test_a_pair_one_end_of_which_is_unique_alone_cannot_repeat(tmp_path):
    one_end = '__table_args__ = (UniqueConstraint("tag_id"),)'
    assert _link(tmp_path / "unique-end", args=one_end) == []
    either = '__table_args__ = (CheckConstraint("num_nonnulls(post_id, tag_id) = 1"),)'
    model = LINK.replace("import UniqueConstraint", "import CheckConstraint, UniqueConstraint")
    assert found(tmp_path / "either", {"app/models.py": model.format(name="post_tags", args=either, extra="", relationship="")},
                 "REL002") == []


# -- MIG006 type drift through a TypeDecorator's impl ---------------------------------------------------------

TYPES = """
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


class TextId(TypeDecorator):
    impl = String(36)
    cache_ok = True
"""

TYPED = HEADER + """
from app.types import TextId


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(TextId(), nullable=False)
"""

ITEMS = 'op.create_table("items", sa.Column("id", sa.Integer, primary_key=True), sa.Column("ref", {type}, nullable=False))'


def _typed(tmp_path, types: str, column_type: str) -> list:
    files = {"app/types.py": types, "app/models.py": TYPED,
             "migrations/versions/0001_r.py": revision(ITEMS.format(type=column_type))}
    return [f.message for f in found(tmp_path, files, "MIG006")]


def test_a_type_decorator_is_compared_by_its_impl(tmp_path):
    (said,) = _typed(tmp_path / "uuid", TYPES, "sa.Uuid()")
    assert said.startswith("items.ref is text in the model (TextId, a TypeDecorator over String) but UUID in the migrations")
    assert _typed(tmp_path / "varchar", TYPES, "sa.String(36)") == []


def test_a_type_decorator_that_picks_its_type_per_database_is_not_compared(tmp_path):
    per_dialect = TYPES + """
    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(String(36))
"""
    assert _typed(tmp_path, per_dialect, "sa.Uuid()") == []


def test_a_core_tables_column_as_target_names_the_table(tmp_path):
    """osparc: `sa.ForeignKey(users.c.id)` named the parent "users.c" in PERF001's messages."""
    tables = """
import sqlalchemy as sa
metadata = sa.MetaData()
users = sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
folders = sa.Table("folders", metadata, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("trashed_by", sa.Integer, sa.ForeignKey(users.c.id)),
                   sa.Column("owner", sa.Integer),
                   sa.ForeignKeyConstraint(["owner"], [users.c.id]))
"""
    messages = [f.message for f in found(tmp_path, {"app/tables.py": tables}, "PERF001")]
    assert messages and all("users.c" not in m for m in messages)
    assert any("folders.trashed_by" in m and "a row of users:" in m for m in messages)
    assert any("folders.owner" in m and "a row of users:" in m for m in messages)


def test_a_key_only_sqlite_rebuilds_leaves_postgresqls_keys_known(tmp_path):
    """CleanWithSnapshot: `if is_sqlite:` around a batch rebuild of the key, for SQLite only: PostgreSQL's keys
    are those the other steps make, and their actions are compared."""
    sqlite_only = ('is_sqlite = op.get_bind().dialect.name == "sqlite"\nif is_sqlite:\n'
                   '    op.create_foreign_key("comments_post_fk", "comments", "posts", ["post_id"], ["id"], ondelete="CASCADE")')
    (f,) = _drift(tmp_path, MODELS, CREATE, sqlite_only)
    assert f.anchor == "drift:fk-actions:comments" and "0001_r.py:" in f.message


def test_a_column_bound_to_a_name_then_given_to_create_table_is_created(tmp_path):
    """phoenix: `message = sa.Column("message", ...)` then `op.create_table("t", ..., message, ...)`."""
    bound = CREATE.replace('op.create_table(\n    "comments",', 'post = sa.Column("post_id", sa.Integer, nullable=False)\n'
                                                               'op.create_table(\n    "comments",').replace(
        '    sa.Column("post_id", sa.Integer, nullable=False),\n', "    post,\n")
    assert [f.anchor for f in drift(tmp_path, "column", MODELS, bound)] == []
    assert [f.anchor for f in drift(tmp_path / "fk", "fk-actions", MODELS, bound)] == ["drift:fk-actions:comments"]
