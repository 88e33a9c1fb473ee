"""REL007: a delete cascade over a many-to-many deletes the other side's shared rows; REL008: an ORM delete cascade with
no passive_deletes over a key the database already cascades loads every child to delete it. Fixtures of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from tests.test_precision import found

_LINK = HEADER + '''
from sqlalchemy import Column, Table

post_tags = Table("post_tags", Base.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"){tag_unique}, primary_key={tag_pk}))

class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)

class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    tags = relationship({relationship})
'''


def _m2m(relationship: str = '"Tag", secondary=post_tags, cascade="all, delete"', tag_unique: str = "",
         tag_pk: bool = True) -> dict[str, str]:
    return {"app/models.py": _LINK.format(relationship=relationship, tag_unique=tag_unique, tag_pk=tag_pk)}


def test_a_delete_cascade_over_a_many_to_many_deletes_the_shared_rows(tmp_path):
    (f,) = found(tmp_path, _m2m(), "REL007")
    assert (f.severity, f.location.path, f.location.start_line, f.item_id) == (Severity.WARNING, "app/models.py", 26, "7.6")
    assert f.anchor == "relationship:Post.tags:many-to-many-delete"
    assert f.message == (
        "`tags` of Post is a many-to-many through post_tags with cascade \"all, delete\": deleting one Post deletes every "
        "Tag it links to (tags rows), not just its association rows, though other Post rows may link the same Tag: those "
        "lose their links (their post_tags rows go with them (ON DELETE CASCADE)), and the shared Tag rows are gone")
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("app/models.py", 15), ("app/models.py", 19)]
    files = {"app/models.py": _m2m()["app/models.py"].replace('ForeignKey("tags.id", ondelete="CASCADE")', 'ForeignKey("tags.id")')}
    (f,) = found(tmp_path / "restrict", files, "REL007")
    assert "(or the delete fails on the foreign key of their post_tags rows)" in f.message


def test_every_deleting_cascade_string_is_read(tmp_path):
    for cascade in ("all", "delete", "save-update, merge, delete", "all, delete-orphan"):
        rel = f'"Tag", secondary=post_tags, cascade="{cascade}"'
        assert [f.severity for f in found(tmp_path, _m2m(rel), "REL007")] == [Severity.WARNING], cascade


def test_the_backrefs_cascade_deletes_the_owners_rows(tmp_path):
    rel = '"Tag", secondary="post_tags", backref=backref("posts", cascade="all, delete")'
    files = _m2m(rel)
    files["app/models.py"] = files["app/models.py"].replace("import DeclarativeBase,", "import backref, DeclarativeBase,")
    (f,) = found(tmp_path, files, "REL007")
    assert f.severity == Severity.WARNING and f.anchor == "relationship:Tag.posts:many-to-many-delete"
    assert f.message.startswith("the backref `posts` that Post.tags gives Tag is a many-to-many through post_tags with "
                                "cascade \"all, delete\": deleting one Tag deletes every Post it links to (posts rows)")


def test_a_unique_other_side_is_a_one_to_many_in_disguise_and_info(tmp_path):
    (f,) = found(tmp_path, _m2m(tag_unique=", unique=True", tag_pk=False), "REL007")
    assert f.severity == Severity.INFO
    assert "But post_tags.tag_id is unique: each Tag has at most one Post (a one-to-many in disguise)" in f.message


def test_single_parent_without_a_unique_key_is_info_that_says_so(tmp_path):
    (f,) = found(tmp_path, _m2m('"Tag", secondary=post_tags, cascade="all, delete-orphan", single_parent=True'), "REL007")
    assert f.severity == Severity.INFO
    assert "single_parent=True declares each Tag has one Post, but SQLAlchemy checks that only for objects in memory" in f.message


def test_a_secondary_that_cannot_be_found_is_info_that_says_so(tmp_path):
    (f,) = found(tmp_path, _m2m('"Tag", secondary=elsewhere.links, cascade="all, delete"'), "REL007")
    assert f.severity == Severity.INFO
    assert "dbreview could not find the table `secondary=elsewhere.links` names" in f.message


def test_no_delete_in_the_cascade_or_viewonly_is_no_rel007(tmp_path):
    for rel in ('"Tag", secondary=post_tags', '"Tag", secondary=post_tags, cascade="save-update, merge"',
                '"Tag", secondary=post_tags, cascade="all, -delete"',
                '"Tag", secondary=post_tags, cascade="all, delete", viewonly=True',
                '"Tag", cascade="all, delete"'):
        assert found(tmp_path, _m2m(rel), "REL007") == [], rel


# -- REL008 -----------------------------------------------------------------------------------------

_TREE = HEADER + '''
from sqlalchemy import event
from sqlalchemy.orm import backref

class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
{order_rel}

class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"{action}))
{item_rel}

class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"{note_action}))
{extra}

def cancel(session, order: Order):
    session.delete(order)
'''
_ITEMS = '    items = relationship("Item", cascade="all, delete-orphan")'
_NOTES = '    notes = relationship("Note", cascade="all, delete-orphan")'
_CASCADE = ', ondelete="CASCADE"'


def _tree(order_rel: str = _ITEMS, item_rel: str = "", action: str = _CASCADE, note_action: str = _CASCADE,
          extra: str = "") -> dict[str, str]:
    return {"app/models.py": _TREE.format(order_rel=order_rel, item_rel=item_rel, action=action, note_action=note_action,
                                      extra=extra)}


def test_an_orm_cascade_over_a_database_cascade_loads_the_children(tmp_path):
    (f,) = found(tmp_path, _tree(), "REL008")
    assert (f.severity, f.location.path, f.location.start_line, f.item_id) == (Severity.INFO, "app/models.py", 19, "7.6")
    assert f.anchor == "relationship:Order.items:cascade-loads"
    assert f.message == (
        "`items` of Order deletes its Item rows through the ORM (cascade \"all, delete-orphan\") with no passive_deletes, "
        "though Item.order_id is ON DELETE CASCADE in the database: `session.delete()` of one Order first SELECTs its Item "
        "rows and deletes them one by one, where the database would do it in one statement. Correct, but slow on big trees: "
        "passive_deletes=True leaves unloaded children to the database")
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("app/models.py", 24)]


def test_a_chain_of_cascades_is_one_finding_naming_it(tmp_path):
    (f,) = found(tmp_path, _tree(item_rel=_NOTES), "REL008")
    assert f.anchor == "relationship:Order.items:cascade-loads"
    assert "first SELECTs its Item rows, then theirs down the chain (Item.notes (Note))," in f.message
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("app/models.py", 24), ("app/models.py", 25)]


def test_a_backrefs_cascade_is_read(tmp_path):
    back = '    order = relationship("Order", backref=backref("items", cascade="all, delete-orphan"))'
    (f,) = found(tmp_path, _tree(order_rel="", item_rel=back), "REL008")
    assert f.anchor == "relationship:Order.items:cascade-loads"
    assert f.message.startswith("the backref `items` that Item.order gives Order deletes its Item rows")


def test_what_the_database_would_not_do_alike_is_no_rel008(tmp_path):
    listener = '''
@event.listens_for(Note, "before_delete")
def keep_a_copy(mapper, connection, target):
    pass
'''
    for files in (
        _tree(order_rel='    items = relationship("Item", cascade="all, delete-orphan", passive_deletes=True)'),
        _tree(action=""),  # no ON DELETE: the ORM's cascade is what deletes the children
        _tree(action=', ondelete="SET NULL"'),
        _tree(order_rel='    items = relationship("Item", back_populates="order")'),  # no delete cascade
        _tree(order_rel='    items = relationship("Item", cascade="all, delete-orphan", lazy="noload")'),
        _tree(order_rel='    items = relationship("Item", cascade="all, delete-orphan", viewonly=True)'),
        # loaded with the order anyway: passive_deletes would not spare the row-by-row deletes
        _tree(order_rel='    items = relationship("Item", cascade="all, delete-orphan", lazy="selectin")'),
        _tree(order_rel="", item_rel='    order = relationship("Order", backref=backref("items", cascade="all", lazy="joined"))'),
        _tree(order_rel='    item = relationship("Item", cascade="all, delete-orphan", uselist=False)'),
        # below the child, a key the database would not cascade: the ORM's loading is what deletes those rows
        _tree(item_rel=_NOTES, note_action=""),
        _tree(note_action=""),
        # a delete listener below: passive deletes would skip it
        _tree(item_rel=_NOTES, extra=listener),
    ):
        assert found(tmp_path, files, "REL008") == [], files["app/models.py"]


def test_a_migration_without_the_cascade_is_what_the_database_has(tmp_path):
    files = _tree()
    files["migrations/env.py"] = "from alembic import context\n"
    files["migrations/versions/0001_init.py"] = '''
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), nullable=False))
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False))


def downgrade():
    op.drop_table("notes")
    op.drop_table("items")
    op.drop_table("orders")
'''
    assert found(tmp_path, files, "REL008") == []
    files["migrations/versions/0001_init.py"] = files["migrations/versions/0001_init.py"].replace(
        'sa.ForeignKey("orders.id")', 'sa.ForeignKey("orders.id", ondelete="CASCADE")')
    assert [f.rule_id for f in found(tmp_path, files, "REL008")] == ["REL008"]


def test_passive_deletes_spares_only_what_is_not_loaded(tmp_path):
    (f,) = found(tmp_path, _m2m('"Tag", secondary=post_tags, cascade="all,delete", passive_deletes=True'), "REL007")
    assert f.severity == Severity.WARNING
    assert ("(passive_deletes=True only spares the Tag rows the session has not loaded: which rows go depends on what was "
            "loaded before the delete)") in f.message


def test_a_single_parent_side_another_many_to_many_also_links_says_so(tmp_path):
    files = _m2m('"Tag", secondary=post_tags, cascade="all, delete-orphan", single_parent=True')
    files["app/models.py"] += '''
page_tags = Table("page_tags", Base.metadata,
    Column("page_id", ForeignKey("pages.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True))

class Page(Base):
    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(primary_key=True)
    tags = relationship("Tag", secondary=page_tags)
'''
    (f,) = found(tmp_path, files, "REL007")
    assert f.severity == Severity.INFO  # the other parent may go with this one (a child of it): not known
    assert f.message.endswith("; but Page.tags links Tag rows through page_tags too: one that both link is deleted with "
                              "this Post, whether or not its Page goes with it")


def test_no_finding_where_the_code_never_deletes_the_parent_through_the_orm(tmp_path):
    """Judged: parents removed only by bulk or SQL deletes (bunkerweb, phoenix, fmn) never load their children this way."""
    files = {"app/models.py": _tree()["app/models.py"].replace("session.delete(order)", "session.execute(delete(Order))")}
    assert found(tmp_path, files, "REL008") == []
