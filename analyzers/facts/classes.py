"""Model classes -> tables: which classes are mapped (their declarative base followed across modules,
analyzers/facts/symbols.py), what their table is called, and the columns they inherit. A base that
leads into a library dbreview cannot read is recorded on the table: its columns may be incomplete."""

from __future__ import annotations

import re
from dataclasses import replace

from analyzers.facts.columns import ANNOTATION_TYPES
from analyzers.facts.model import ClassFact, ColumnFact, IndexFact, ModuleFacts, Span, TableFact
from analyzers.facts.symbols import LIBRARY, Symbols, Value, brings_no_columns

Ancestor = ClassFact | Value  # a class of the target, or what a base outside them resolved to


class ClassIndex:
    def __init__(self, modules: list[ModuleFacts], symbols: Symbols) -> None:
        self.all = [c for m in modules for c in m.classes]
        self.symbols = symbols
        self._ancestors: dict[int, list[Ancestor]] = {}
        self._mapped: dict[int, bool] = {}
        self._declarative: dict[int, Value | None] = {}

    def ancestors(self, cls: ClassFact) -> list[Ancestor]:
        """Base classes, nearest first, depth first (close enough to the MRO for columns)."""
        key = id(cls)
        if key not in self._ancestors:
            self._ancestors[key] = []  # a cycle of bases ends here
            out: list[Ancestor] = []
            seen = {key}
            for base in cls.bases:
                self._add(self.symbols.resolve(base, cls.module), out, seen, 0)
            self._ancestors[key] = out
        return self._ancestors[key]

    def _add(self, value: Value, out: list[Ancestor], seen: set[int], depth: int, through_mapped: bool = True) -> None:
        if depth > 20:
            return
        if value.kind == "class" and value.cls is not None:
            if id(value.cls) in seen:
                return
            seen.add(id(value.cls))
            out.append(value.cls)
            if not through_mapped and self.is_mapped(value.cls):
                return  # its own columns, mixins and bases belong to its own table
            for base in value.cls.bases:
                self._add(self.symbols.resolve(base, value.cls.module), out, seen, depth + 1, through_mapped)
            return
        out.append(value)
        if value.kind == "class":  # made inside a function (`def make_base(): class Base(...)`): its bases
            for b in self.symbols.bases_of(value):
                self._add(b, out, seen, depth + 1, through_mapped)
        for mixin in value.mixins:  # declarative_base(cls=Mixin): every model inherits it
            self._add(mixin, out, seen, depth + 1, through_mapped)

    def own(self, cls: ClassFact) -> list[Ancestor]:
        """The bases whose columns land in this class's own table: not those of a mapped parent
        (joined or single-table inheritance keeps them in the parent's table), nor beyond one."""
        out: list[Ancestor] = []
        seen = {id(cls)}
        for base in cls.bases:
            self._add(self.symbols.resolve(base, cls.module), out, seen, 0, through_mapped=False)
        return out

    def declarative(self, cls: ClassFact) -> Value | None:
        """The declarative base this class maps through, if any (a Value; `is_base` classes give one too)."""
        key = id(cls)
        if key not in self._declarative:
            found = None
            for a in [cls, *self.ancestors(cls)]:
                if isinstance(a, ClassFact):
                    if a.is_base:
                        found = Value("base", "declarative base", site=a.span)
                        break
                    if a.mapped_by and self._is_registry(self.symbols.resolve(a.mapped_by, a.module)):
                        found = Value("base", "registry")  # mapped by a decorator of a registry() of SQLAlchemy's
                        break
                elif self.symbols.is_declarative(a) or (a.kind == "class" and a.cls is None and self._local_base(a)):
                    found = a
                    break
            if found is None and self._declares_table(cls):
                found = Value("base", "a library base dbreview cannot read")
            self._declarative[key] = found
        return self._declarative[key]

    def metadata_of(self, value: Value | None, depth: int = 0) -> str | None:
        """Which MetaData `value.metadata` is, as a key: where its declarative base is made (`Base =
        declarative_base()`, `class Base(DeclarativeBase)`, a Flask-SQLAlchemy `db`), "sqlmodel.SQLModel"
        for SQLModel's own; a model class or an abstract one gives its base's. None: not known."""
        if value is None or depth > 4:
            return None
        if value.kind == "class" and value.cls is not None:
            if value.cls.is_base:
                return f"{value.cls.span.path}:{value.cls.span.start}"
            return self.metadata_of(self.declarative(value.cls), depth + 1)
        if value.site is not None and (value.kind == "base" or value.kind == "instance" and value.of is not None and self.symbols.is_flask(value.of)):
            return f"{value.site.path}:{value.site.start}"
        if value.kind == "external" and value.name in ("sqlmodel.SQLModel", "sqlmodel.main.SQLModel"):
            return "sqlmodel.SQLModel"
        return None

    def _declares_table(self, cls: ClassFact) -> bool:
        """`__tablename__` and columns of its own over a base imported from a library dbreview has no
        stub of (`class Item(LibBase)`): a table, whose inherited columns it cannot know (`unknown_bases`)."""
        if cls.path.startswith(LIBRARY) or not (cls.tablename and cls.columns):
            return False  # a stub's mixin is mapped through the target's own base
        chain = [cls, *(a for a in self.ancestors(cls) if isinstance(a, ClassFact))]
        return any(self._library_import(c, b) for c in chain for b in c.bases)

    def named_by_library(self, cls: ClassFact) -> bool:
        """Columns of its own and no `__tablename__`, over a base an import brings from a library dbreview has no
        stub of: that base may name the table itself, as neutron_lib's BASEV2 does (`agents` for Agent)."""
        if cls.path.startswith(LIBRARY) or cls.abstract or cls.is_base or self.tablename(cls) or not cls.columns \
                or self.is_mapped(cls) or self.single_table_parent(cls) is not None:
            return False
        chain = [cls, *(a for a in self.ancestors(cls) if isinstance(a, ClassFact))]
        return any(self._library_import(c, b) for c in chain for b in c.bases)

    def _library_import(self, cls: ClassFact, base: str) -> bool:
        """`base` names what an import brings from outside the target (bases are qualified through the
        module's imports), not an attribute of an object the module makes itself (`db.Model`, `db = Index()`)."""
        if base.rpartition(".")[2] == "object" and self.symbols.resolve(base, cls.module).kind != "class":
            return False  # `class Lock(object)` with a __tablename__: a plain class nothing maps (tracim's webdav model)
        mod, _ = self.symbols.module(cls.module, "")
        local = mod.bindings.get(base.split(".", 1)[0]) if mod is not None else None
        return (local is None or local.kind == "name") and self.symbols.resolve(base, cls.module).kind == "external"

    @staticmethod
    def _is_registry(value: Value) -> bool:
        """`sqlalchemy.orm.registry()` (the object whose `mapped` decorators map classes)."""
        return value.kind == "external" and value.name.split(".", 1)[0] == "sqlalchemy" and value.name.endswith(".registry()")

    def _local_base(self, value: Value) -> bool:
        return any(self.symbols.is_declarative(b) for b in self.symbols.bases_of(value))

    def flask(self, cls: ClassFact) -> bool:
        """Mapped through Flask-SQLAlchemy's `db.Model`, which names tables itself."""
        base = self.declarative(cls)
        return base is not None and base.name in ("Flask-SQLAlchemy", "sqlalchemy.Model")

    def is_mapped(self, cls: ClassFact) -> bool:
        key = id(cls)
        if key not in self._mapped:
            self._mapped[key] = False  # while deciding: a class is not its own ancestor
            self._mapped[key] = self._decide(cls)
        return self._mapped[key]

    def tablename(self, cls: ClassFact) -> str | None:
        """`__tablename__` of the class or of a mixin it inherits it from (not of a mapped parent: that is
        inheritance, and the parent's table)."""
        if cls.tablename is not None:
            return cls.tablename
        return next((a.tablename for a in self.own(cls) if isinstance(a, ClassFact) and a.tablename
                     and not a.is_base and not self.is_mapped(a)), None)

    def _decide(self, cls: ClassFact) -> bool:
        if cls.abstract or cls.is_base or not (cls.sqlmodel_table or self.declarative(cls) is not None):
            return False
        mapped_parent = any(isinstance(a, ClassFact) and a is not cls and self.is_mapped(a) for a in self.ancestors(cls))
        if self.tablename(cls) is not None or cls.sqlmodel_table:
            # `class Admins(Users): __tablename__ = "admins"` with no columns of its own: single-table
            # inheritance, rows live in the parent's table (no primary key, no table of its own)
            return not (mapped_parent and not cls.columns)
        if self.tablename_rule(cls) is not None:
            return not (mapped_parent and not cls.columns)
        if self.flask(cls):
            # Flask-SQLAlchemy names the table of a class with a primary key; a subclass of a model
            # without one of its own is single-table inheritance
            own = [cls] if mapped_parent else [cls, *(a for a in self.ancestors(cls) if isinstance(a, ClassFact))]
            return any(c.primary_key for a in own for c in a.columns)
        return False

    def single_table_parent(self, cls: ClassFact) -> ClassFact | None:
        """The mapped class whose table holds this subclass's columns (single-table inheritance)."""
        if cls.abstract or cls.is_base or self.is_mapped(cls) or not cls.columns or self.declarative(cls) is None:
            return None
        return next((a for a in self.ancestors(cls) if isinstance(a, ClassFact) and self.is_mapped(a)), None)

    def tablename_rule(self, cls: ClassFact) -> str | None:
        """How an inherited `@declared_attr __tablename__` names this class's table, if one does."""
        if cls.tablename_rule:
            return None if cls.is_base else cls.tablename_rule
        for a in self.ancestors(cls):
            if isinstance(a, ClassFact) and a.tablename_rule:
                return a.tablename_rule
        return None

    def table_name(self, cls: ClassFact) -> str:
        if self.tablename(cls):
            return self.tablename(cls)  # type: ignore[return-value]
        rule, _, affixes = (self.tablename_rule(cls) or "").partition("|")
        prefix, _, suffix = affixes.partition("|")
        if rule == "lower" or (cls.sqlmodel_table and not rule):
            return prefix + cls.name.lower() + suffix
        if not rule and self.flask(cls):
            return flask_table_name(cls.name)
        return prefix + _snake(cls.name) + suffix

    def table_of(self, cls: ClassFact) -> TableFact:
        own = self.own(cls)
        classes = [a for a in own if isinstance(a, ClassFact) and not self.is_mapped(a)]
        type_map: dict[str, tuple[str, dict[str, str], str | None]] = {}
        for a in [*reversed(self.ancestors(cls)), cls]:  # the nearest base's type_annotation_map wins
            if isinstance(a, ClassFact):
                type_map.update(a.type_map)
        table = TableFact(
            name=self.table_name(cls),
            class_name=cls.name,
            path=cls.path,
            span=cls.span,
            mixins=tuple(a.name for a in classes if not a.is_base),
            schema=next((c.schema for c in [cls, *classes] if c.schema), None),
            schema_unsure=next((f"{c.module}:{c.schema_expr}" for c in [cls, *classes] if c.schema_expr), None),
            view=next((c.view for c in [cls, *classes] if c.view), None),
            mapper_primary_key=next((c.mapper_primary_key for c in [cls, *classes] if c.mapper_primary_key is not None), None),
            named_by=cls.named_by if cls.tablename is not None else None,
            unknown_bases=tuple(dict.fromkeys([
                *(a.name or "?" for a in own
                  if isinstance(a, Value) and a.kind in ("external", "unknown") and not brings_no_columns(a.name)),
                *(f"{a.name}.{a.mapping_hook}" for a in [cls, *classes] if a.mapping_hook),  # code may add columns
            ])),
        )
        folded = {n for c in [cls, *classes] for n in c.args_from}  # `__table_args__` = cls._table_args + (...)
        # Farthest ancestor first, so that nearer declarations override.
        for source in [*reversed(classes), cls]:
            for attr in source.cleared:
                for name in [n for n, c in table.columns.items() if (c.attr or c.name) == attr]:
                    del table.columns[name]
            for c in source.columns:
                c = self.typed(c, source.module, type_map)
                if c.type_args.get("annotated") and not c.type_ref and not type_map and table.unknown_bases:
                    # `Mapped[datetime]` over a library's base: its type_annotation_map, unread, may say TIMESTAMPTZ
                    c = replace(c, type_args={**c.type_args, "unresolved": f"{c.py_type} ({table.unknown_bases[0]})"})
                if source.path.startswith(LIBRARY):  # a library's column: shown where the model is declared
                    c = replace(c, span=Span(cls.path, cls.span.start, cls.span.start), from_library=f"{source.module}.{source.name}")
                table.columns[c.name] = c
            made_columns, unread = self._helper_columns(source)
            table.unread_attrs += (*source.unread_attrs, *unread)
            for made in made_columns:
                # the stand-in for `Field(sa_column=created_column())` read with the class: the function's Column replaces it
                for name in [n for n, c in table.columns.items() if c.attr == made.attr and c.declared_in == source.name]:
                    del table.columns[name]
                table.columns.setdefault(made.name, made)
            for item in [*source.table_args, *(i for n in folded for i in source.named_args.get(n, ()))]:
                (table.indexes if isinstance(item, IndexFact) else table.constraints).append(item)
            table.relationships.extend(source.relationships)
        return table

    def _helper_columns(self, cls: ClassFact) -> tuple[list[ColumnFact], list[str]]:
        """The columns of attributes set by a call of the target's function that returns one column
        (`type = varchar_enum(Kind)`), read as if written there with the call's arguments in place of its parameters,
        or by a call of the target's subclass of Column (`name = CIColumn(Text)`); and the attributes whose call
        dbreview cannot read so (what they hold is not known)."""
        from analyzers.facts.link import helper_column

        out, unread = [], []
        for attr, callee, args, keywords, span in cls.helper_calls:
            found = self.symbols.function(callee, cls.module)
            helper = found[0].column_helpers.get(found[1]) if found is not None else None
            if helper is None and self._column_class(callee, cls.module) and all(k != "**" for k, _ in keywords):
                # read as the Column(...) it is, its arguments as written here
                found = self.symbols.module(cls.module)[0], ""
                helper, args, keywords = ((), f"Column({', '.join([*args, *(f'{k}={v}' for k, v in keywords)])})"), (), ()
            made = helper_column(helper, found[0], args, dict(keywords), attr) if helper is not None and found and found[0] else None
            if made is not None:
                out.append(replace(made, span=span, declared_in=cls.name))
            else:
                unread.append(attr)
        return out, unread

    def _column_class(self, callee: str, module: str) -> bool:
        """`callee` is a class of the target's that derives from SQLAlchemy's Column (`class CIColumn(Column)`)."""
        value = self.symbols.resolve(callee, module)
        return value.kind == "class" and value.cls is not None and any(
            isinstance(a, Value) and a.kind == "external" and a.name.startswith("sqlalchemy") and a.name.rsplit(".", 1)[-1] == "Column"
            for a in self.ancestors(value.cls))


    # -- column types defined elsewhere ------------------------------------------------------

    def typed(self, c: ColumnFact, module: str, type_map: dict | None = None, depth: int = 0) -> ColumnFact:
        """A column whose type is named, not spelled out: a Python type the base's type_annotation_map
        maps, an `Annotated[T, mapped_column(...)]` alias, a TypeDecorator (typed by its `impl`), a Python
        enum. What cannot be followed (a library's type) is marked `unresolved`, so that rules about types
        say they cannot tell rather than guess."""
        if not c.type_ref or depth > 4:
            return c
        if c.type_args.get("annotated") and type_map and c.type_ref in type_map:
            name, args, ref = type_map[c.type_ref]
            c = replace(c, type_name=name, type_args=dict(args), type_ref=ref)
            return self.typed(c, module, None, depth + 1)
        if c.type_args.get("annotated") and c.py_type in ANNOTATION_TYPES:
            return replace(c, type_ref=None)  # datetime, str, uuid.UUID ...: SQLAlchemy's default for it
        value = self.symbols.resolve(c.type_ref, module)
        if value.kind == "annotated" and value.column is not None:
            return self.typed(_merged(value.column, c), module, type_map, depth + 1)
        if value.kind == "external" and value.name.startswith("sqlalchemy.") and value.name.endswith(f".{c.type_name}"):
            return replace(c, type_ref=None)  # SQLAlchemy's own type through a Flask-SQLAlchemy `db` or a re-export: known
        if value.kind == "external" and brings_no_columns(value.name):
            return c
        if value.kind == "class" and value.cls is not None:
            chain = [value.cls, *(a for a in self.ancestors(value.cls) if isinstance(a, ClassFact))]
            impl = next((k.impl for k in chain if k.impl), None)
            if impl is not None and not any(k.dialect_impl for k in chain):  # TIMESTAMPAware(timezone=True): to the impl
                args = {k: v for k, v in c.type_args.items() if k != "annotated"}
                return replace(c, type_name=value.cls.name, type_args={**impl[1], **args, "impl": impl[0]})
            if any(isinstance(a, Value) and a.kind == "external" and a.name.startswith("enum.") for a in self.ancestors(value.cls)):
                return replace(c, type_name="Enum", type_args={"values": value.cls.name})
        return replace(c, type_args={**c.type_args, "unresolved": c.type_ref})


def _merged(alias: ColumnFact, c: ColumnFact) -> ColumnFact:
    """`x: Mapped[Alias] = mapped_column(...)`: the alias's mapped_column gives what the attribute's own
    does not say (SQLAlchemy merges them the same way)."""
    typed_here = not c.type_args.get("annotated")
    return replace(
        c,
        type_name=c.type_name if typed_here else alias.type_name,
        type_args=c.type_args if typed_here else alias.type_args,
        nullable=c.nullable if c.nullable is not None else alias.nullable,
        implied_nullable=c.implied_nullable if c.nullable is not None or alias.nullable is None else alias.implied_nullable,
        primary_key=c.primary_key or alias.primary_key,
        unique=c.unique or alias.unique,
        index=c.index or alias.index,
        default=c.default if c.default is not None else alias.default,
        server_default=c.server_default if c.server_default is not None else alias.server_default,
        onupdate=c.onupdate if c.onupdate is not None else alias.onupdate,
        foreign_keys=[*c.foreign_keys, *alias.foreign_keys],
        py_type=alias.py_type if not typed_here else c.py_type,
        type_ref=alias.type_ref if not typed_here else None,
    )


def _snake(name: str) -> str:
    """A declared_attr's `re.sub` of capitals: HTTPLog -> h_t_t_p_log (what such helpers usually write)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def flask_table_name(name: str) -> str:
    """Flask-SQLAlchemy's own rule (camel_to_snake_case): HTTPLog -> http_log, UserV2 -> user_v2."""
    return re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name).lower().lstrip("_")
