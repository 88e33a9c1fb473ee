"""Section 7: Relationships & Associations."""

from __future__ import annotations

import re

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.drift import named_outside
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import (
    delete_cascades, fk_columns, healthcare, is_clinical, is_link_table, unique_keys_with, unique_over,
)

PROFILE_TABLES = re.compile(r"^(providers?|staff|staff_members?|patients?|prox(y|ies))$")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ProfileNotOneToOne(Rule):
    """A role profile's link to its user is not unique.

    What it checks:
        `user_id` on provider, staff, patient and proxy tables without a unique constraint.
    Why it matters:
        The checklist models User -> profile as 1:1. Without uniqueness one user can get two Provider
        rows, and `uselist=False` relationships then raise MultipleResultsFound at run time.
    Example:
        user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    Instead:
        `mapped_column(ForeignKey("users.id"), unique=True)`.
    """

    ID = "REL001"
    ITEM = "7.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
''',)
    INVALID = (HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
''',)

    def check(self):
        for table in self.facts.tables.values():
            col = table.columns.get("user_id")
            if not PROFILE_TABLES.match(table.name) or col is None or col.unique:
                continue
            if not unique_over(self.facts, table, ("user_id",)):
                dropped = next(
                    (op for r in self.facts.revisions for op in r.upgrade
                     if op.name == "drop_constraint" and op.table == table.name and "user_id" in (op.target or "")),
                    None,
                )
                if dropped is not None:
                    yield self.finding(
                        f"{table.name}.user_id is not unique: a migration dropped {dropped.target} "
                        f"({dropped.span.path}:{dropped.span.start}), so several {table.name} profiles per user look "
                        "intended (one per organization?); the checklist models the profile as 1:1: confirm the design",
                        col.span, f"table:{table.name}.user_id:one-to-one", severity=Severity.INFO,
                    )
                    continue
                yield self.finding(
                    f"{table.name}.user_id is not unique: one user can hold two {table.name} profiles", col.span,
                    f"table:{table.name}.user_id:one-to-one",
                )


class AssociationWithoutUniquePair(Rule):
    """An association table lets the same pair be linked twice.

    What it checks:
        Membership and assignment tables (organization memberships, organization patients, proxy
        and care-team assignments) without a unique constraint over their two foreign keys; and any
        link model with a key of its own: an `id` primary key, two foreign keys and nothing else but
        bookkeeping (created_at, created_by ...), with no unique key over the pair in the model or the
        migrations. One with a timestamp is taken for a link only where a relationship names it as its
        `secondary=` (else it may be a log of events, where a pair repeats by nature); a table named like
        a log, an event, a view or a visit never is. A link model that nothing in the application's code
        names outside its class, and no SQL names, is info that says so: no writer of it is in sight.
    Why it matters:
        Duplicate links double-count members and patients, and revoking one leaves the other active:
        access that should be gone survives.
    Example:
        class OrganizationMembership(Base): user_id, organization_id, role   # no UniqueConstraint
    Instead:
        `UniqueConstraint("user_id", "organization_id")` (a partial unique index if rows are soft deleted).
    """

    ID = "REL002"
    ITEM = "7.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class OrganizationMembership(Base):
    __tablename__ = "organization_memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
''',)
    INVALID = (HEADER + '''
class OrganizationMembership(Base):
    __tablename__ = "organization_memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
''',)
    TABLES = (
        (re.compile(r"organization_memberships?$|org_members"), ("user_id", "organization_id"), "7.2"),
        (re.compile(r"organization_patients?$"), ("patient_id", "organization_id"), "7.3"),
        (re.compile(r"patient_proxy_assignments?$|proxy_assignments?$"), ("patient_id", "proxy_id"), "7.4"),
    )

    def check(self):
        for table in self.facts.tables.values():
            for rx, pair, item in self.TABLES:
                if not rx.search(table.name) or not all(c in table.columns for c in pair):
                    continue
                if not unique_over(self.facts, table, pair, exact=False):
                    yield self.finding(
                        f"{table.name} has no unique ({', '.join(pair)}): the same pair can be linked twice",
                        table.columns[pair[0]].span, f"table:{table.name}:unique-pair", item=item,
                    )
        named = {t.name for t in self.facts.tables.values() for rx, pair, _ in self.TABLES
                 if rx.search(t.name) and all(c in t.columns for c in pair)}
        for table in self.facts.tables.values():
            link = None if table.name in named else surrogate_link(self.facts, table)
            if link is None or unique_over(self.facts, table, link[0], exact=False) or any(
                    set(key) <= set(link[0]) for c in link[0] for key in unique_keys_with(self.facts, table, c)):
                continue  # a pair kept unique, or one of its ends unique alone: a pair cannot repeat
            (a, b), how = link
            unused = how[0] is None and _unused(self.facts, table)
            yield self.finding(
                f"{table.name} links {a} and {b} under a key of its own ({_pk(table)}) with no unique ({a}, {b}): the same "
                f"pair can be linked twice{how[1]}" + (
                    f"; but nothing in the application's code names {table.class_name or table.name} outside its class, "
                    "nor SQL names the table: no writer of it is in sight (a schema kept for another tool?)" if unused else ""),
                table.columns[a].span, f"table:{table.name}:unique-pair", item="5.5",
                related=[(how[0], "rows added through this relationship")] if how[0] else [],
                severity=Severity.INFO if unused else None,
            )


# Columns that record who or when, not what: a link row with only these besides its key and its two ends
# says nothing that could make a second row for the same pair meaningful.
_BOOKKEEPING = frozenset((
    "created_at", "updated_at", "created_on", "updated_on", "created", "updated", "modified", "modified_at",
    "date_created", "date_updated", "date_modified", "inserted_at", "created_by", "created_by_id", "updated_by",
    "updated_by_id",
))
# Rows that may repeat for the same pair by nature: a log, an event, a view.
_REPEATING = re.compile(r"(^|_)(logs?|histor(y|ies)|events?|views?|visits?|clicks?|downloads?|reads?|hits?|attempts?|audits?)$")


def _unused(facts, table) -> bool:
    """No code of the application names the model's class outside its definition, and no SQL names its table."""
    word = re.compile(rf"(?<!\w){re.escape(table.name)}(?!\w)")
    return not named_outside(facts, table) and not any(u.text and word.search(u.text) for u in facts.sql)


def _pk(table) -> str:
    return next(c.name for c in table.columns.values() if c.primary_key)


def surrogate_link(facts, table):
    """((a, b), (where rows are added or None, what that adds to the message)) for a link model with a
    surrogate key: an `id` primary key of its own, two foreign keys, and nothing else but bookkeeping
    (created_at, created_by ...). A table with a timestamp is a link only where the code says so (a
    relationship's `secondary=`); without one, its shape does. None for anything else."""
    if table.unknown_bases or _REPEATING.search(table.name) or any(c.from_library for c in table.columns.values()):
        return None
    pk = [c for c in table.columns.values() if c.primary_key]
    pk_cons = [con for con in table.constraints if con.kind == "primary_key"]
    composite = any(con.kind == "foreign_key" and len(con.columns) > 1 for con in table.constraints)
    if any(con.kind == "check" for con in table.constraints):
        return None  # `num_nonnulls(a_id, b_id) = 1` and the like: a row points at one of two things, not a pair
    if len(pk) != 1 or pk[0].foreign_keys or composite or pk_cons and pk_cons[0].columns != (pk[0].name,):
        return None
    fks = {c.name for c in fk_columns(table)} - _BOOKKEEPING - {pk[0].name}
    rest = set(table.columns) - fks - {pk[0].name}
    if len(fks) != 2 or not rest <= _BOOKKEEPING:
        return None
    pair = tuple(sorted(fks, key=list(table.columns).index))
    secondary = _secondary_of(facts, table)
    if secondary is not None:
        cls, rel = secondary
        return pair, (rel.span, f": {cls}.{rel.attr} adds its rows through secondary= ({rel.span.path}:{rel.span.start}), "
                                "and two sessions that each add the same pair insert two rows")
    return (pair, (None, "")) if not rest else None


def _secondary_of(facts, table):
    """(class, relationship) of a relationship whose `secondary=` is this table, as far as its text tells."""
    names = {table.name, f"{table.class_name}.__table__" if table.class_name else table.name}
    for t in facts.tables.values():
        for rel in t.relationships:
            text = (rel.secondary or "").strip("'\"")
            if text in names or text.rsplit(".", 1)[-1] == table.name:
                return t.class_name or t.name, rel
    return None


class OrmCascadeDeletesClinical(Rule):
    """An ORM relationship deletes clinical records with their parent.

    What it checks:
        `relationship(..., cascade="all, delete-orphan")` (or any cascade with delete) whose target
        is a clinical model.
    Why it matters:
        `session.delete(patient)`, or removing a child from the collection, issues DELETEs for the
        clinical rows: a hard delete that bypasses soft-delete logic.
    Example:
        appointments = relationship("Appointment", cascade="all, delete-orphan")
    Instead:
        `cascade="save-update, merge"` and soft delete the children explicitly.
    """

    ID = "REL003"
    ITEM = "7.6"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointments = relationship("Appointment", back_populates="patient")
''',)
    INVALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointments = relationship("Appointment", cascade="all, delete-orphan")
''', HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_methods: Mapped[list["ContactMethod"]] = relationship(back_populates="patient", cascade="all, delete-orphan")
''')

    def check(self):
        if not healthcare(self.facts):
            return
        for table, rel, target_table, target in delete_cascades(self.facts):
            name = target_table.name if target_table else _snake(target)
            if target_table is not None and is_link_table(target_table):
                continue  # deleting enrollment or membership rows with their parent loses no clinical record
            if is_clinical(name):
                yield self.finding(
                    f"{table.class_name}.{rel.attr} cascades deletes ({rel.cascade}) to {target}: clinical rows get hard deleted",
                    rel.span, f"relationship:{table.class_name}.{rel.attr}",
                )


class ScalarOverNonUniqueKey(Rule):
    """A one-to-one relationship rests on a foreign key that is not unique.

    What it checks:
        Relationships declared scalar (`uselist=False`, or annotated `Mapped["Profile"]`) from the parent
        side, whose foreign key is on the other table and is not unique there (no unique constraint,
        unique index or primary key over it, in the model or the migrations). Relationships that pick
        their row themselves (`primaryjoin=`, `order_by=`, `viewonly=`) are left alone, and so is a key
        unique together with columns the parent has too (`UniqueConstraint("org_id", "booking_id")`, each
        booking of one org): one row per parent, as long as the copies agree.
    Why it matters:
        The code treats it as one row per parent; the database lets a second row in. SQLAlchemy then
        warns "Multiple rows returned with uselist=False" and hands back one of them, arbitrarily:
        the profile, settings or subscription the code reads is not the one it wrote.
    Example:
        profile: Mapped["Profile"] = relationship(back_populates="user")   # profiles.user_id not unique
    Instead:
        `unique=True` on the foreign key column (a partial unique index if rows are soft deleted), or a
        collection if several rows are meant.
    """

    ID = "REL004"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped["UserSettings"] = relationship(back_populates="user")
class UserSettings(Base):
    __tablename__ = "user_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    user: Mapped["User"] = relationship(back_populates="settings")
''',)
    INVALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped["UserSettings"] = relationship(back_populates="user")
class UserSettings(Base):
    __tablename__ = "user_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user: Mapped["User"] = relationship(back_populates="settings")
''',)

    def check(self):
        by_class: dict[str, list] = {}
        for t in self.facts.tables.values():
            if t.class_name:
                by_class.setdefault(t.class_name, []).append(t)
        for table in self.facts.tables.values():
            for rel in table.relationships:
                if rel.uselist is not False or rel.secondary or rel.narrowed:
                    continue
                targets = by_class.get((rel.target or "").strip("'\"").split(".")[-1], [])
                if len(targets) != 1 or targets[0] is table:
                    continue
                other = targets[0]
                if _keys_to(table, other) or other.unknown_bases:
                    continue  # many-to-one (the key is on this side), or the other side may hold more than dbreview sees
                keys = _keys_to(other, table)
                if len(keys) != 1:
                    continue  # no key, or several: which one it follows is in foreign_keys=, not read here
                key = keys[0]
                if unique_over(self.facts, other, (key,)) or (PROFILE_TABLES.match(other.name) and key == "user_id"):
                    continue  # unique; or REL001's finding on the profile's user_id
                if any(all(c == key or (c in table.columns and not table.columns[c].primary_key) for c in k)
                       for k in unique_keys_with(self.facts, other, key)):
                    continue  # unique with columns the parent has too ((org_id, booking_id)): one row per parent's values
                col = other.columns.get(key)
                where = f" ({col.span.path}:{col.span.start})" if col is not None else ""
                if _plural(rel.attr) and not _plural(other.class_name or ""):
                    said = (f"{table.class_name}.{rel.attr} is annotated as one {other.class_name} (not a list), so SQLAlchemy "
                            f"loads it as a scalar; its name and {other.name}.{key}{where}, which is not unique, say many: "
                            f"with two {other.class_name} rows it returns one arbitrarily. Annotate it Mapped[list[...]]")
                else:
                    said = (f"{table.class_name}.{rel.attr} is one-to-one (scalar) but {other.name}.{key}{where} is not unique: "
                            f"a second {other.class_name} row for the same {table.class_name} can be inserted, and then the "
                            "relationship returns one of them arbitrarily (SQLAlchemy warns of multiple rows)")
                yield self.finding(
                    said,
                    rel.span, f"relationship:{table.class_name}.{rel.attr}:one-to-one",
                    related=[(col.span, "the foreign key")] if col is not None else (),
                )


def _plural(name: str) -> bool:
    return name.endswith("s") and not name.endswith(("ss", "us", "is", "settings", "preferences", "status", "options"))


def _keys_to(table, target) -> list[str]:
    """The columns of `table` with a foreign key to the table `target` (written "table.id" or "Class.id")."""
    names = {target.name, target.class_name}
    found = [c.name for c in table.columns.values() if any(fk.table.split(".")[-1] in names for fk in c.foreign_keys)]
    found += [n for con in table.constraints if con.kind == "foreign_key" and (con.target or "").rsplit(".", 1)[0].split(".")[-1] in names
              for n in con.columns]
    return list(dict.fromkeys(found))
