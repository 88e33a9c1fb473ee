"""PERF001 (a foreign key with no index): which reads of the table by the key dbreview sees, and how it words
what it cannot tell (issue 7's precision classes, each rebuilt as a small repository of our own)."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing as found
from tests.test_precision import HEADER, revision


def calls(module: str, *functions: str) -> dict[str, str]:
    """A view that calls `functions` of `module`: what the application runs (a function nothing calls is dead)."""
    body = "".join(f"    {module}.{f}(session, 1)\n" for f in functions)
    return {"app/views_calling.py": f"from app import {module}\ndef page(session):\n{body}"}

SHELF = HEADER + """
from sqlalchemy.orm import relationship

class Reader(Base):
    __tablename__ = "readers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Bookmark(Base):
    __tablename__ = "bookmarks"
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), primary_key=True)
    page: Mapped[int] = mapped_column(Integer)
"""

# The migrations give the primary key its order: (reader_id, book_id) serves lookups by reader_id only.
SHELF_MIGRATED = revision("""
op.create_table("readers", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("books", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "bookmarks",
    sa.Column("reader_id", sa.Integer, sa.ForeignKey("readers.id"), primary_key=True),
    sa.Column("book_id", sa.Integer, sa.ForeignKey("books.id"), primary_key=True),
    sa.Column("page", sa.Integer),
)
""")

SHELF_READS = """
from sqlalchemy import select
from app.models import Bookmark
def mark_of(session, reader_id, book_id):
    return session.scalars(select(Bookmark).where(Bookmark.reader_id == reader_id, Bookmark.book_id == book_id)).first()
"""


def test_a_bulk_delete_or_update_by_the_key_is_a_read_by_it(tmp_path):
    """`delete(Bookmark).filter_by(book_id=...)` finds its rows by book_id alone, which only comes second in the
    primary key: a read that scans, as a query's would; so is an update that filters by it."""
    quiet = {f.anchor: f for f in found(tmp_path / "a", {"app/models.py": SHELF, "migrations/versions/0001_init.py": SHELF_MIGRATED, "app/reads.py": SHELF_READS}, "PERF001")}
    assert quiet["table:bookmarks.book_id"].severity == Severity.INFO  # every read also tests reader_id
    purge = SHELF_READS + """
from app.db import db
def forget_book(book):
    db.session.execute(db.delete(Bookmark).filter_by(book_id=book.id))
"""
    (f,) = [f for f in found(tmp_path / "b", {"app/models.py": SHELF, "migrations/versions/0001_init.py": SHELF_MIGRATED, "app/reads.py": purge,
                                                        **calls("reads", "forget_book")}, "PERF001")
            if f.anchor == "table:bookmarks.book_id"]
    assert f.severity == Severity.WARNING
    assert "the bulk delete at app/reads.py:9 filters on it, so each such read scans bookmarks" in f.message
    bump = SHELF_READS + """
from sqlalchemy import update
def reset_pages(session, book_id):
    session.execute(update(Bookmark).filter_by(book_id=book_id).values(page=0))
"""
    (g,) = [f for f in found(tmp_path / "c", {"app/models.py": SHELF, "migrations/versions/0001_init.py": SHELF_MIGRATED, "app/reads.py": bump,
                                                        **calls("reads", "reset_pages")}, "PERF001")
            if f.anchor == "table:bookmarks.book_id"]
    assert g.severity == Severity.WARNING and "the bulk update at app/reads.py:9 filters on it" in g.message


CASES = HEADER + """
from sqlalchemy.orm import relationship

class Claim(Base):
    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_on": "kind"}

class ClaimTicket(Ticket):
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    __mapper_args__ = {"polymorphic_identity": "claim"}
"""


def test_a_join_condition_through_a_single_table_subclass_column_is_a_read(tmp_path):
    """`ClaimTicket.claim_id == Claim.id` compares tickets.claim_id (the subclass shares its parent's table) with
    another table's key, in a correlated subquery: each claim's check finds tickets by claim_id."""
    quiet = found(tmp_path / "a", {"app/models.py": CASES}, "PERF001")
    assert [f.severity for f in quiet] == [Severity.INFO]
    reads = """
from sqlalchemy import exists, select
from app.models import Claim, ClaimTicket
def open_claims(session):
    has_ticket = (
        select(ClaimTicket.id)
        .where(
            ClaimTicket.claim_id == Claim.id,
        )
        .exists()
    )
    return session.scalars(select(Claim).where(~has_ticket)).all()
"""
    (f,) = found(tmp_path / "b", {"app/models.py": CASES, "app/reads.py": reads, **calls("reads", "open_claims")}, "PERF001")
    assert f.severity == Severity.WARNING and f.anchor == "class:ClaimTicket.claim_id"
    # its `.where(...)` two lines down is the same query's, not a second read (Hyperion's counts were doubled)
    assert "the query at app/reads.py:6 filters on it" in f.message and "(and 1 more)" not in f.message


HALLS = HEADER + """
from sqlalchemy.orm import relationship

class Picture(Base):
    __tablename__ = "pictures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Hall(Base):
    __tablename__ = "halls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    picture_id: Mapped[int | None] = mapped_column(ForeignKey("pictures.id"))
    picture = relationship("Picture", backref="hall")

class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    hall = relationship("Hall")

class Slot(Base):
    __tablename__ = "slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    booking = relationship("Booking")
"""


def test_a_loader_option_named_by_a_string_is_resolved_on_its_querys_entity(tmp_path):
    """`joinedload("booking").joinedload("hall")` on slots loads Booking.hall, a many-to-one: not the backref
    Picture.hall, which shares its name; `joinedload("hall")` on a Picture query does load it; an option built apart
    from its query names no entity dbreview can tell: it says so (info), never guesses."""
    other = ("from sqlalchemy.orm import joinedload\nfrom app.models import Slot\n"
             "def slots():\n    return Slot.query.options(joinedload('booking').joinedload('hall')).all()\n")
    (f,) = found(tmp_path / "a", {"app/models.py": HALLS, "app/views.py": other}, "PERF001")
    assert f.anchor == "table:halls.picture_id" and f.severity == Severity.INFO
    assert "no code that reads Picture.hall" in f.message
    mine = ("from sqlalchemy import select\nfrom sqlalchemy.orm import joinedload\nfrom app.models import Picture\n"
            "def pictures(session):\n    return session.scalars(select(Picture).options(joinedload('hall'))).all()\n")
    (g,) = found(tmp_path / "b", {"app/models.py": HALLS, "app/views.py": mine, **calls("views", "pictures")}, "PERF001")
    assert g.severity == Severity.WARNING
    assert "the backref Picture.hall of Hall.picture loads its rows by it (the code reads it at app/views.py:5)" in g.message
    apart = ("from sqlalchemy.orm import joinedload\n"
             "def strategy():\n    return joinedload('hall')\n")
    (h,) = found(tmp_path / "c", {"app/models.py": HALLS, "app/views.py": apart, **calls("views", "strategy")}, "PERF001")
    assert h.severity == Severity.INFO
    assert ("dbreview found no code it can tell reads Picture.hall (app/views.py:3 loads hall by name, on a query whose "
            "entity dbreview cannot tell)") in h.message


KENNEL = HEADER + """
from sqlalchemy.orm import relationship

class Stored:
    def remove(self, session):
        session.delete(self)
        session.commit()

class Owner(Base, Stored):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Pet(Base, Stored):
    __tablename__ = "pets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    owner = relationship("Owner", backref="pets")
"""


def test_a_delete_through_a_base_class_helper_is_a_delete_of_the_callers_class(tmp_path):
    """`owner.remove(session)` runs the mixin's `session.delete(self)` on an Owner: deleting it loads the backref
    Owner.pets to clear their key (the call shown; info, as nothing else reads pets by it: the scans come with the
    deletes of owners, tests/test_perf001_lowered.py); a method of that name on something that is passed no
    session (`owner_cache.remove(key)`) is no delete, and then dbreview only says the helper may load it."""
    views = "def close_account(session, account):\n    account.owner.remove(session)\n"
    (f,) = found(tmp_path / "a", {"app/models.py": KENNEL, "app/views.py": views, **calls("views", "close_account")}, "PERF001")
    assert f.severity == Severity.INFO
    assert ("the backref Owner.pets of Pet.owner loads its rows by it (deleting a Owner loads it: "
            "account.owner.remove(session) at app/views.py:2, which deletes it through session.delete at "
            "app/models.py:15)") in f.message
    other = "def forget(owner_cache, key):\n    owner_cache.remove(key)\n"
    (g,) = found(tmp_path / "b", {"app/models.py": KENNEL, "app/views.py": other}, "PERF001")
    assert g.severity == Severity.INFO
    assert "session.delete at app/models.py:15, of an object whose class dbreview cannot tell, may load it" in g.message


def test_a_read_or_delete_in_a_function_nothing_calls_is_no_reason_for_a_warning(tmp_path):
    """The only delete of an Owner (which loads Owner.pets) and the only query by owner_id are in module functions
    that no code of the application calls: info that says so; once a view calls one, a warning again."""
    service = ("from sqlalchemy import select\nfrom app.models import Owner, Pet\n"
               "def drop_owner(session, owner_id):\n    owner = session.get(Owner, owner_id)\n    session.delete(owner)\n"
               "def pets_of(session, owner_id):\n    return session.scalars(select(Pet).where(Pet.owner_id == owner_id)).all()\n")
    model = KENNEL.replace("class Stored:\n    def remove(self, session):\n        session.delete(self)\n        session.commit()\n",
                           "class Stored:\n    pass\n")
    (f,) = found(tmp_path / "a", {"app/models.py": model, "app/service.py": service}, "PERF001")
    assert f.severity == Severity.INFO
    assert ("the query at app/service.py:7 filters on it, but app/service.py:7 is in pets_of(), which dbreview found no "
            "call of in the application's code outside tests") in f.message
    views = "from app import service\ndef show(session, owner_id):\n    return service.pets_of(session, owner_id)\n"
    (g,) = found(tmp_path / "b", {"app/models.py": model, "app/service.py": service, "app/views.py": views}, "PERF001")
    assert g.severity == Severity.WARNING and "the query at app/service.py:7 filters on it" in g.message
    only_delete = service.replace("def pets_of", "def _unused").replace("Pet.owner_id == owner_id", "Pet.id == owner_id")
    (h,) = found(tmp_path / "c", {"app/models.py": model, "app/service.py": only_delete}, "PERF001")
    assert h.severity == Severity.INFO
    assert ("the backref Owner.pets of Pet.owner loads its rows by it, but the only delete of a Owner that would load it "
            "is session.delete at app/service.py:5, in drop_owner(), which dbreview found no call of in the application's "
            "code outside tests") in h.message


LEDGER = HEADER + """
class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
"""

LEDGER_RLS = '''
op.create_table("tenants", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("entries", sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id")))
op.execute("ALTER TABLE entries ENABLE ROW LEVEL SECURITY")
op.execute("CREATE POLICY entries_tenant ON entries USING (tenant_id = current_setting('app.tenant_id')::int)")
'''


def test_a_row_level_security_policy_reads_the_column_on_every_query(tmp_path):
    """A policy's USING test on tenant_id is added to every query of entries: each reads by tenant_id (warning, the
    policy shown); a policy on a table whose RLS is never enabled does nothing, and reads nothing."""
    (f,) = found(tmp_path / "a", {"app/models.py": LEDGER, "migrations/versions/0001_init.py": revision(LEDGER_RLS)}, "PERF001")
    assert f.severity == Severity.WARNING
    assert ("the policy entries_tenant on entries adds a test of it to every query of entries it applies to, which finds "
            "its rows by it where the query tests no other indexed column (a listing of the rows the policy lets through), "
            "so each such read scans entries") in f.message
    assert [r.note for r in f.related] == ["the policy"]
    off = LEDGER_RLS.replace('op.execute("ALTER TABLE entries ENABLE ROW LEVEL SECURITY")\n', "")
    (g,) = found(tmp_path / "b", {"app/models.py": LEDGER, "migrations/versions/0001_init.py": revision(off)}, "PERF001")
    assert g.severity == Severity.INFO


TRANSFERS = HEADER + """
class Wallet(Base):
    __tablename__ = "wallets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Transfer(Base):
    __tablename__ = "transfers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    state: Mapped[str] = mapped_column(String(20), index=True)
    archived: Mapped[bool] = mapped_column(Boolean, index=True)
"""


def test_a_read_that_also_tests_the_leading_column_of_another_index_is_no_scan(tmp_path):
    """Every read by wallet_id also tests state, which an index of its own leads: PostgreSQL finds the rows through
    it, not by a scan of transfers (info, the index named); a flag most rows share (a boolean) narrows nothing."""
    model = TRANSFERS.replace("from sqlalchemy import DateTime,", "from sqlalchemy import Boolean, DateTime,")
    reads = ("from sqlalchemy import select\nfrom app.models import Transfer\n"
             "def open_of(session, wallet_id):\n"
             "    return session.scalars(select(Transfer).where(Transfer.wallet_id == wallet_id, Transfer.state.in_(['held', 'sent']))).all()\n")
    (f,) = found(tmp_path / "a", {"app/models.py": model, "app/reads.py": reads, **calls("reads", "open_of")}, "PERF001")
    assert f.severity == Severity.INFO
    assert ("every read of transfers by it that dbreview found also tests state, which the index (state) is led by, so it "
            "finds their rows through that index, not by a scan of transfers (the query at app/reads.py:4 filters on it)") in f.message
    flagged = reads.replace("Transfer.state.in_(['held', 'sent'])", "Transfer.archived.is_(False)")
    (g,) = found(tmp_path / "b", {"app/models.py": model, "app/reads.py": flagged, **calls("reads", "open_of")}, "PERF001")
    assert g.severity == Severity.WARNING


def test_a_keyword_argument_given_a_literal_does_not_read_a_relationship_of_its_name(tmp_path):
    """`Sources(pets="the pets table")` names pets but reads no Owner.pets: the backref stays unread (info)."""
    model = KENNEL.replace("class Stored:\n    def remove(self, session):\n        session.delete(self)\n        session.commit()\n",
                           "class Stored:\n    pass\n")
    views = "def sources(Sources):\n    return Sources(pets='the pets table', owners=None)\n"
    (f,) = found(tmp_path, {"app/models.py": model, "app/views.py": views}, "PERF001")
    assert f.severity == Severity.INFO
    assert "dbreview found no code that reads Owner.pets and no delete that loads it" in f.message


def test_a_join_out_of_the_table_written_over_several_lines_is_no_read(tmp_path):
    """`.outerjoin(\\n Claim,\\n ClaimTicket.claim_id == Claim.id)` joins claims from tickets: the claims' key serves it."""
    reads = """
from sqlalchemy import select
from app.models import Claim, ClaimTicket
def tickets(session):
    return session.execute(
        select(ClaimTicket)
        .outerjoin(
            Claim,
            ClaimTicket.claim_id == Claim.id,
        )
    ).all()
"""
    (f,) = found(tmp_path, {"app/models.py": CASES, "app/reads.py": reads, **calls("reads", "tickets")}, "PERF001")
    assert f.severity == Severity.INFO


def test_a_condition_added_to_a_statement_built_before_it_is_weighed_with_its_filters(tmp_path):
    """`stmt = stmt.where(Transfer.wallet_id == w)` narrows a statement that already tests state: together, the
    index on state finds the rows (info); a filter in a branch beside it is not one that always runs. A statement
    the function is given is its caller's (simpler-grants-gov: a warning judged wrong on a condition added to a
    statement its caller had narrowed by an indexed column): whether that tests another index's column, info says."""
    model = TRANSFERS.replace("from sqlalchemy import DateTime,", "from sqlalchemy import Boolean, DateTime,")
    reads = ("from sqlalchemy import select\nfrom app.models import Transfer\n"
             "class Transfers:\n"
             "    def open_of(self, session, wallet_id, states):\n"
             "        stmt = self.base().where(Transfer.state.in_(states))\n"
             "        if wallet_id is not None:\n"
             "            stmt = stmt.where(Transfer.wallet_id == wallet_id)\n"
             "        return session.scalars(stmt).all()\n")
    (f,) = found(tmp_path / "a", {"app/models.py": model, "app/reads.py": reads}, "PERF001")
    assert f.severity == Severity.INFO and "also tests state, which the index (state) is led by" in f.message
    beside = reads.replace("        stmt = self.base().where(Transfer.state.in_(states))\n",
                           "        if states:\n            stmt = self.base().where(Transfer.state.in_(states))\n"
                           "        else:\n            stmt = self.base()\n")
    (g,) = found(tmp_path / "b", {"app/models.py": model, "app/reads.py": beside}, "PERF001")
    assert g.severity == Severity.WARNING
    given = ("from app.models import Transfer\n"
             "def of_wallet(stmt, wallet_id):\n    return stmt.where(Transfer.wallet_id == wallet_id)\n")
    (h,) = found(tmp_path / "c", {"app/models.py": model, "app/reads.py": given, **calls("reads", "of_wallet")}, "PERF001")
    assert h.severity == Severity.INFO and "whether it also tests a column another index leads" in h.message


def test_a_partial_index_serves_the_reads_that_test_its_predicate(tmp_path):
    """tickets.claim_id is led only by a partial index WHERE claim_id IS NOT NULL AND deleted_at IS NULL: a read
    that also tests deleted_at IS NULL is served by it (info); one on a statement built elsewhere (a repository's
    base, which may add that test) is said not to be known; one by the key alone scans (warning)."""
    model = CASES.replace('''    kind: Mapped[str] = mapped_column(String(20))''', '''    kind: Mapped[str] = mapped_column(String(20))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (
        Index("ix_tickets_claim", "claim_id", postgresql_where=text("claim_id IS NOT NULL AND deleted_at IS NULL")),
    )''').replace("from sqlalchemy.orm import relationship", "from sqlalchemy import Index, text\nfrom sqlalchemy.orm import relationship")
    head = "from sqlalchemy import select\nfrom app.models import ClaimTicket\n"
    live = head + ("def of_claim(session, c):\n"
                   "    return session.scalars(select(ClaimTicket).where(ClaimTicket.claim_id == c, ClaimTicket.deleted_at.is_(None))).all()\n")
    (f,) = found(tmp_path / "a", {"app/models.py": model, "app/reads.py": live, **calls("reads", "of_claim")}, "PERF001")
    assert f.severity == Severity.INFO
    assert ("keeping to the predicate of the index ix_tickets_claim (claim_id) WHERE claim_id IS NOT NULL AND deleted_at "
            "IS NULL, so it finds its rows through that index") in f.message
    based = head + ("class Tickets:\n    def of_claim(self, c):\n"
                    "        return self.get_base_statement().where(ClaimTicket.claim_id == c)\n")
    (g,) = found(tmp_path / "b", {"app/models.py": model, "app/reads.py": based}, "PERF001")
    assert g.severity == Severity.INFO
    assert ("with a condition dbreview could not read: whether it keeps to the predicate of the index ix_tickets_claim "
            "(claim_id), so that it serves it, dbreview cannot tell") in g.message
    alone = head + "def of_claim(session, c):\n    return session.scalars(select(ClaimTicket).where(ClaimTicket.claim_id == c)).all()\n"
    (h,) = found(tmp_path / "c", {"app/models.py": model, "app/reads.py": alone, **calls("reads", "of_claim")}, "PERF001")
    assert h.severity == Severity.WARNING


def test_conditions_gathered_in_a_list_are_weighed_with_the_others_and_ed_with_them(tmp_path):
    """`conds = [Transfer.state == s]`, `conds.append(or_(Transfer.wallet_id == w, ...))`, `.where(and_(*conds))`:
    the test of wallet_id is and-ed with the test of state, which an index leads, so that index finds the rows (info);
    a list whose only unconditional element is the key's test leaves the read scanning (warning)."""
    model = TRANSFERS.replace("from sqlalchemy import DateTime,", "from sqlalchemy import Boolean, DateTime,")
    reads = ("from sqlalchemy import and_, or_, select\nfrom app.models import Transfer\n"
             "def open_of(session, state, wallet_id):\n"
             "    conds: list[object] = [Transfer.state == state]\n"
             "    if wallet_id:\n"
             "        conds.append(or_(Transfer.wallet_id == wallet_id, Transfer.wallet_id.is_(None)))\n"
             "    return session.scalars(select(Transfer.id).where(and_(*conds))).all()\n")
    (f,) = found(tmp_path / "a", {"app/models.py": model, "app/reads.py": reads, **calls("reads", "open_of")}, "PERF001")
    assert f.severity == Severity.INFO
    assert ("also tests state, which the index (state) is led by, so it finds their rows through that index, not by a "
            "scan of transfers (the condition at app/reads.py:6 filters on it") in f.message
    star = reads.replace(".where(and_(*conds))", ".where(*conds)")
    (g,) = found(tmp_path / "b", {"app/models.py": model, "app/reads.py": star, **calls("reads", "open_of")}, "PERF001")
    assert g.severity == Severity.INFO
    alone = reads.replace("    conds: list[object] = [Transfer.state == state]\n", "    conds = []\n")
    (h,) = found(tmp_path / "c", {"app/models.py": model, "app/reads.py": alone, **calls("reads", "open_of")}, "PERF001")
    assert h.severity == Severity.WARNING and "the condition at app/reads.py:6 filters on it" in h.message


def test_a_join_condition_whose_sides_stand_on_separate_lines_is_weighed_as_a_join(tmp_path):
    """`.join(Claim, and_(Claim.id\\n == ClaimTicket.claim_id, ...))`: the comparison's other side is on the line before;
    it joins claims from tickets (the claims' key serves it), no filter of tickets by claim_id."""
    reads = """
from sqlalchemy import and_, select
from app.models import Claim, ClaimTicket
def tickets(session):
    return session.execute(
        select(ClaimTicket)
        .join(
            Claim,
            and_(
                Claim.id
                == ClaimTicket.claim_id,
            ),
        )
    ).all()
"""
    (f,) = found(tmp_path / "a", {"app/models.py": CASES, "app/reads.py": reads, **calls("reads", "tickets")}, "PERF001")
    assert f.severity == Severity.INFO
    by_value = """
from sqlalchemy import select
from app.models import ClaimTicket
def tickets(session, claim):
    return session.execute(
        select(ClaimTicket).where(
            ClaimTicket.claim_id
            == claim.id,
        )
    ).all()
"""  # compared with a value's attribute (`claim.id`, not a class's): a filter
    (g,) = found(tmp_path / "b", {"app/models.py": CASES, "app/reads.py": by_value, **calls("reads", "tickets")}, "PERF001")
    assert g.severity == Severity.WARNING and "app/reads.py:" in g.message and "joins" not in g.message


def test_an_unnamed_constraint_a_later_migration_drops_by_its_postgresql_name_serves_no_read(tmp_path):
    """A migration creates `UniqueConstraint("shelf_id", "book_id")` unnamed, so PostgreSQL names it
    shelf_books_shelf_id_book_id_key; a later one renames the table and the column and drops it by that name. The schema
    the migrations build has no (stack_id, book_id) key: a read by book_id and stack_id scans (osparc's projects_tags,
    judged wrong when the dropped constraint was counted as serving it)."""
    models = HEADER + """
class Stack(Base):
    __tablename__ = "stacks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class StackBook(Base):
    __tablename__ = "stack_books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stack_id: Mapped[int] = mapped_column(ForeignKey("stacks.id"))
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    label: Mapped[str] = mapped_column()
    __table_args__ = (UniqueConstraint("label", "book_id", name="stack_books_label_unique"),)
"""
    first = revision("""
op.create_table("stacks", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("books", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "shelf_books",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shelf_id", sa.Integer, sa.ForeignKey("stacks.id")),
    sa.Column("book_id", sa.Integer, sa.ForeignKey("books.id")),
    sa.UniqueConstraint("shelf_id", "book_id"),
)
""")
    second = revision("""
op.rename_table("shelf_books", "stack_books")
op.alter_column("stack_books", "shelf_id", new_column_name="stack_id")
op.add_column("stack_books", sa.Column("label", sa.String()))
op.drop_constraint("shelf_books_shelf_id_book_id_key", "stack_books", type_="unique")
op.create_unique_constraint("stack_books_label_unique", "stack_books", ["label", "book_id"])
""", rev="0002", down="0001")
    reads = """
from sqlalchemy import delete
def unshelve(session, stack_id, book_id):
    session.execute(delete(StackBook).where(StackBook.stack_id == stack_id, StackBook.book_id == book_id))
""".replace("from sqlalchemy import delete", "from sqlalchemy import delete\nfrom app.models import StackBook")
    files = {"app/models.py": models.replace("from sqlalchemy import", "from sqlalchemy import UniqueConstraint,", 1),
             "migrations/versions/0001_init.py": first, "migrations/versions/0002_label.py": second,
             "app/reads.py": reads, **calls("reads", "unshelve")}
    f = {f.anchor: f for f in found(tmp_path, files, "PERF001")}["table:stack_books.book_id"]
    assert f.severity == Severity.WARNING
    assert "the bulk delete at app/reads.py:5 filters on it" in f.message
    assert "(stack_id, book_id)" not in f.message


def test_a_model_imported_under_another_name_is_read_through_that_name(tmp_path):
    """`from app.models import Bookmark as MarkTable`: its query by book_id, and a condition that names the alias, read
    bookmarks by the key as the class's own name would; an alias two imports give to two models stands for neither."""
    aliased = """
from app.db import db
from app.models import Bookmark as MarkTable
def forget_book(book_id):
    MarkTable.query.filter_by(book_id=book_id).delete()
def marks_in(session, book_id):
    return session.query(MarkTable.page).filter(MarkTable.book_id == book_id).all()
"""
    (f,) = [f for f in found(tmp_path / "a", {"app/models.py": SHELF, "migrations/versions/0001_init.py": SHELF_MIGRATED,
                                              "app/reads.py": aliased, **calls("reads", "forget_book", "marks_in")}, "PERF001")
            if f.anchor == "table:bookmarks.book_id"]
    assert f.severity == Severity.WARNING
    assert "app/reads.py:5" in f.message and "no query of the application" not in f.message
    other = """
from app.models import Book as MarkTable
def book(session, book_id):
    return session.query(MarkTable).filter(MarkTable.id == book_id).first()
"""
    (g,) = [f for f in found(tmp_path / "b", {"app/models.py": SHELF, "migrations/versions/0001_init.py": SHELF_MIGRATED,
                                              "app/reads.py": aliased, "app/books.py": other,
                                              **calls("reads", "forget_book", "marks_in")}, "PERF001")
            if f.anchor == "table:bookmarks.book_id"]
    assert g.severity == Severity.INFO and "no query of the application" in g.message


def test_a_query_of_a_class_name_two_modules_share_is_told_apart_by_its_import(tmp_path):
    """Hyperion (PERF001 judged wrong x2): `models_cdr.Checkout` and `models_checkout.Checkout` map two tables; the
    query `select(models_cdr.Checkout).where(models_cdr.Checkout.checkout_id == x)` was dropped as ambiguous, and the
    finding said no query filters on the key."""
    payments = HEADER + """
class Checkout(Base):
    __tablename__ = "payment_checkout"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""
    shop = HEADER.replace("class Base(DeclarativeBase):\n    pass\n", "from app.payments.models_payments import Base\n") + """
class Checkout(Base):
    __tablename__ = "shop_checkout"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("payment_checkout.id"))
"""
    crud = ("from sqlalchemy import select\nfrom app.shop import models_shop\n\n\ndef by_checkout(session, checkout_id):\n"
            "    return session.scalars(select(models_shop.Checkout).where(models_shop.Checkout.checkout_id == checkout_id)).first()\n")
    files = {"app/__init__.py": "", "app/payments/__init__.py": "", "app/shop/__init__.py": "",
             "app/payments/models_payments.py": payments, "app/shop/models_shop.py": shop, "app/shop/crud.py": crud,
             "app/views.py": "from app.shop import crud\n\ndef page(session):\n    crud.by_checkout(session, 1)\n"}
    (f,) = [f for f in found(tmp_path, files, "PERF001") if f.anchor == "table:shop_checkout.checkout_id"]
    assert "the query at app/shop/crud.py:6 filters on it" in f.message


def test_a_relationship_loaded_eagerly_is_read_by_every_query_of_its_class(tmp_path):
    """funding-assessment-store (PERF001 judged wrong): `updates = relationship(..., lazy="selectin")` loads the
    children by the key with every comment queried; "no code it can tell reads Comment.updates" was false."""
    models = HEADER + """
class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    updates = relationship("CommentUpdate", lazy="selectin")

class CommentUpdate(Base):
    __tablename__ = "comments_update"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
"""
    queries = ("from sqlalchemy import select\nfrom app.models import Comment\n\n\ndef comments(session):\n"
               "    return session.scalars(select(Comment)).all()\n")
    files = {"app/__init__.py": "", "app/models.py": models, "app/queries.py": queries,
             "app/views.py": "from app import queries\n\ndef page(session):\n    queries.comments(session)\n"}
    (f,) = [f for f in found(tmp_path, files, "PERF001") if f.anchor == "table:comments_update.comment_id"]
    assert 'lazy="selectin" loads it with every Comment queried, as at app/queries.py:6' in f.message
    assert "no code it can tell reads" not in f.message


def test_an_index_built_in_the_class_body_on_its_own_columns_is_the_tables(tmp_path):
    """ras-party (PERF001 judged wrong): `Index("attributes_business_idx", business_id)` as a statement of the class
    body, after the columns, is an index of the table; "a foreign key with no index" was false."""
    models = HEADER.replace("from sqlalchemy import ", "from sqlalchemy import Column, ") + """
class Business(Base):
    __tablename__ = "business"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attributes = relationship("BusinessAttributes")

class BusinessAttributes(Base):
    __tablename__ = "business_attributes"
    id = Column(Integer, primary_key=True)
    business_id = Column(Integer, ForeignKey("business.id"))
    Index("attributes_business_idx", business_id)
"""
    files = {"app/__init__.py": "", "app/models.py": models}
    assert [f for f in found(tmp_path, files, "PERF001") if f.anchor == "table:business_attributes.business_id"] == []

