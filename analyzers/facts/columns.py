"""Reading columns, constraints, indexes and relationships out of SQLAlchemy calls."""

from __future__ import annotations

import ast
import re

from analyzers.facts.model import ColumnFact, ConstraintFact, ForeignKeyRef, IndexFact, RelationshipFact, Span
from analyzers.facts.names import Names, const_bool, const_str, kwargs, last, source
from analyzers.facts.strings import evaluate

COLUMN_CALLS = {"Column", "mapped_column", "Field"}
# Python annotations -> the SQL type SQLAlchemy maps them to by default.
ANNOTATION_TYPES = {
    "datetime": "DateTime", "date": "Date", "time": "Time", "timedelta": "Interval",
    "str": "String", "int": "Integer", "float": "Float", "bool": "Boolean", "Decimal": "Numeric",
    "UUID": "Uuid", "dict": "JSON", "list": "JSON", "bytes": "LargeBinary",
}
_TYPE_POSITIONAL = {"DateTime": ("timezone",), "TIMESTAMP": ("timezone",),
                    **dict.fromkeys(("String", "VARCHAR", "Unicode", "NVARCHAR", "CHAR", "NCHAR"), ("length",)),
                    **dict.fromkeys(("Numeric", "NUMERIC", "DECIMAL"), ("precision", "scale"))}


def span_of(node: ast.AST, path: str) -> Span:
    """`path` unless the node was grafted from another file (a revision's argument read inside the helper it calls)."""
    return Span(getattr(node, "path", path), node.lineno, getattr(node, "end_lineno", None) or node.lineno)


def is_column_call(node: ast.AST, names: Names) -> bool:
    return isinstance(node, ast.Call) and last(names.callee(node)) in COLUMN_CALLS


def is_relationship_call(node: ast.AST, names: Names) -> bool:
    return isinstance(node, ast.Call) and last(names.callee(node)) in ("relationship", "Relationship", "relation")


def annotation_info(annotation: ast.AST | None, names: Names) -> tuple[str | None, bool]:
    """(python type name, optional?) of `Mapped[Optional[datetime]]`, `datetime | None`, `str` ..."""
    node, optional = _annotation_inner(annotation, names)
    name = last(names.qualname(node)) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return name, optional


def annotation_ref(annotation: ast.AST | None, names: Names) -> str | None:
    """The qualified name of an annotation's type (`datetime.datetime`, `builtins.str`, an `Annotated`
    alias, an enum, a class of the project or of a library): what a type_annotation_map is keyed by, and
    what linking resolves when it is not a Python type SQLAlchemy maps by itself."""
    node, _ = _annotation_inner(annotation, names)
    return python_type_ref(node, names) if isinstance(node, (ast.Name, ast.Attribute)) else None


def python_type_ref(node: ast.AST, names: Names) -> str | None:
    q = names.qualname(node)
    if q and "." not in q and q not in names.aliases and q in _BUILTIN_TYPES:
        return f"builtins.{q}"
    return type_qualname(node, names) if q else None


_BUILTIN_TYPES = {"str", "int", "float", "bool", "bytes", "dict", "list"}


def read_type_map(node: ast.Dict, names: Names) -> dict[str, tuple[str, dict[str, str], str | None]]:
    """`type_annotation_map = {datetime: DateTime(timezone=True), str_30: String(30)}`."""
    out: dict[str, tuple[str, dict[str, str], str | None]] = {}
    for k, v in zip(node.keys, node.values):
        key = python_type_ref(k, names) if isinstance(k, (ast.Name, ast.Attribute)) else None
        typ = read_type(v, names)
        if key and typ:
            out[key] = (typ[0], typ[1], type_qualname(v.func if isinstance(v, ast.Call) else v, names))
    return out


def _annotation_inner(annotation: ast.AST | None, names: Names) -> tuple[ast.AST | None, bool]:
    """The type inside `Mapped[...]`, `Optional[...]`, `X | None`, and whether None is allowed."""
    if annotation is None:
        return None, False
    node = annotation
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None, False
    if isinstance(node, ast.Subscript) and last(names.qualname(node.value)) in ("Mapped", "WriteOnlyMapped", "DynamicMapped"):
        node = node.slice
    optional = False
    if isinstance(node, ast.Subscript) and last(names.qualname(node.value)) == "Optional":
        node, optional = node.slice, True
    if isinstance(node, ast.Subscript) and last(names.qualname(node.value)) == "Union" and isinstance(node.slice, ast.Tuple):
        node = ast.BinOp(node.slice.elts[0], ast.BitOr(), node.slice.elts[-1]) if len(node.slice.elts) == 2 else node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
        rest = [p for p in parts if not (isinstance(p, ast.Constant) and p.value is None)]
        optional = optional or len(rest) < len(parts)
        node = rest[0] if rest else node
    if isinstance(node, ast.Subscript):  # list[str], dict[str, Any]
        node = node.value
    return node, optional


def type_qualname(node: ast.AST, names: Names) -> str | None:
    """A type's qualified name, when it is not SQLAlchemy's own (those are known by their last name)."""
    q = names.qualname(node)
    if not q or q.split(".", 1)[0] in ("sqlalchemy", "sqlmodel"):
        return None
    root = node
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(root, ast.Name) and root.id not in names.aliases:
        return f"{names.module}.{q}"  # defined (or assigned) in this module
    return q


_WRAPPERS = {"Mapped", "WriteOnlyMapped", "DynamicMapped", "Optional", "List", "list", "Set", "set", "Sequence",
             "Collection", "Iterable", "Union", "Relationship", "relationship", "AppenderQuery"}


def annotation_class(annotation: ast.AST | None) -> str | None:
    """The class a relationship annotation names: `Mapped[list["Document"]]`, `Mapped[Optional["Patient"]]`,
    `Mapped["User | None"]` -> Document, Patient, User."""
    node = annotation
    for _ in range(8):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            continue
        if isinstance(node, ast.Subscript):
            head = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            if head not in _WRAPPERS:
                return None
            inner = node.slice
            if isinstance(inner, ast.Tuple):  # Union["A", None], dict[str, "A"]
                rest = [e for e in inner.elts if not (isinstance(e, ast.Constant) and e.value is None)]
                inner = rest[-1] if rest else inner
            node = inner
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            parts = [p for p in (node.left, node.right) if not (isinstance(p, ast.Constant) and p.value is None)]
            node = parts[0] if parts else node.left
            continue
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return None
    return None


def read_type(node: ast.AST, names: Names) -> tuple[str, dict[str, str]] | None:
    """`DateTime(timezone=True)` -> ("DateTime", {"timezone": "True"}); None if not a type. A type with variants
    (`DateTime().with_variant(sqlite.DATETIME(...), "sqlite")`) is its PostgreSQL variant's, else its own."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "with_variant":
        dialects = [const_str(a) for a in node.args[1:]] + [const_str(k.value) for k in node.keywords if k.arg == "dialect_names"]
        node = node.args[0] if node.args and "postgresql" in dialects else node.func.value
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call else node
    if not isinstance(target, (ast.Name, ast.Attribute)):
        return None
    name = last(names.qualname(target))
    if not name or not name[0].isupper() or name in ("ForeignKey", "Sequence", "Identity", "Computed", "FetchedValue"):
        return None
    args: dict[str, str] = {}
    if call:
        for k in call.keywords:
            if k.arg:
                args[k.arg] = ast.unparse(k.value)
        for key, arg in zip(_TYPE_POSITIONAL.get(name, ()), call.args):
            args.setdefault(key, ast.unparse(arg))
        if name in ("ARRAY", "Array") and call.args:
            inner = read_type(call.args[0], names)
            if inner:
                args["item_type"] = inner[0]
        if name == "Enum":
            args["values"] = ", ".join(ast.unparse(a) for a in call.args)
    return name, args


def _column_ref(node: ast.AST) -> str:
    """`users.c.id` (a Table's column, `.columns.` too) as "users.id"; any other expression as written."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr in ("c", "columns"):
        return f"{ast.unparse(node.value.value)}.{node.attr}"
    return ast.unparse(node)


def foreign_key(call: ast.Call, names: Names, path: str) -> ForeignKeyRef:
    kw = kwargs(call)
    target = const_str(call.args[0]) if call.args else None
    if target is None and call.args and isinstance(call.args[0], ast.Name):
        target = names.strings.get(call.args[0].id)
    if target is None and call.args and isinstance(call.args[0], ast.JoinedStr):  # f"{_TREES_TABLE}.id" of a module constant
        texts = evaluate(call.args[0], {k: [v] for k, v in names.strings.items()})
        target = texts[0].value if texts and not texts[0].formatted else None
    if target is None and call.args:
        target = _column_ref(call.args[0])
    return ForeignKeyRef(target or "", const_str(kw.get("ondelete")), const_str(kw.get("onupdate")), span_of(call, path),
                         actions_unread(call))


def actions_unread(call: ast.Call) -> bool:
    """A foreign key's ondelete=/onupdate= written as something other than a string (a name, a call, or
    hidden in **options): what the key does on delete is not known."""
    kw = kwargs(call)
    return any(k.arg is None for k in call.keywords) or any(
        k in kw and const_str(kw[k]) is None and not (isinstance(kw[k], ast.Constant) and kw[k].value is None)
        for k in ("ondelete", "onupdate"))


def read_column(
    call: ast.Call,
    attr: str,
    annotation: ast.AST | None,
    names: Names,
    path: str,
    declared_in: str,
    span_node: ast.AST | None = None,
) -> ColumnFact:
    kw = kwargs(call)
    if last(names.callee(call)) == "Field" and isinstance(kw.get("sa_column"), ast.Call):
        inner = read_column(kw["sa_column"], attr, annotation, names, path, declared_in, span_node or call)
        if last(names.callee(kw["sa_column"])) == "Column":  # SQLModel takes the Column as it is: nullable unless it says
            inner.implied_nullable = not inner.primary_key
        elif not is_column_call(kw["sa_column"], names):
            # `sa_column=created_column()`: the Column a function returns, which linking reads in its place
            # (ClassIndex.table_of); until then, and where it cannot be followed, its type is not known
            inner.type_args = {**inner.type_args, "unresolved": f"{ast.unparse(kw['sa_column'].func)}()"}
        return inner
    name = attr
    type_name: str | None = None
    type_args: dict[str, str] = {}
    type_ref: str | None = None
    fks: list[ForeignKeyRef] = []
    autoincrement = None
    field = last(names.callee(call)) == "Field"
    # SQLModel's Field() takes one positional argument, the default: `Field(ForeignKey("t.id"))` makes the
    # ForeignKey the Python default, and the column has no foreign key (nor a name or type from it).
    for arg in [] if field else call.args:
        text = const_str(arg)
        if text is not None:
            name = text
            continue
        if isinstance(arg, ast.Call) and last(names.callee(arg)) == "ForeignKey":
            fk = foreign_key(arg, names, path)
            if arg.args and isinstance(arg.args[0], ast.Name) and fk.target == arg.args[0].id:
                fk.target = f"{declared_in}.{fk.target}"  # `ForeignKey(id)` in a class body: the class's own column
            fks.append(fk)
            continue
        if isinstance(arg, ast.Call) and last(names.callee(arg)) == "Identity":
            autoincrement = "identity"
            continue
        typ = read_type(arg, names)
        if typ and type_name is None:
            type_name, type_args = typ
            type_ref = type_qualname(arg.func if isinstance(arg, ast.Call) else arg, names)
    for key in ("type_", "sa_type"):  # Column(type_=...), SQLModel Field(sa_type=DateTime(timezone=True))
        typ = read_type(kw[key], names) if key in kw else None
        if typ:
            type_name, type_args = typ
            type_ref = type_qualname(kw[key].func if isinstance(kw[key], ast.Call) else kw[key], names)
    if const_str(kw.get("name")):
        name = const_str(kw["name"]) or name
    py_type, optional = annotation_info(annotation, names)
    if type_name is None and py_type:
        type_name = ANNOTATION_TYPES.get(py_type, py_type)
        type_args = {"annotated": "True"}  # the base's type_annotation_map may still change it
        type_ref = annotation_ref(annotation, names)  # `Mapped[MetadataColumn]`: resolved when linking
    if "foreign_key" in kw and const_str(kw["foreign_key"]):  # SQLModel Field(foreign_key="t.id")
        fks.append(ForeignKeyRef(const_str(kw["foreign_key"]) or "", const_str(kw.get("ondelete")), None, span_of(call, path),
                                   actions_unread(call)))
    primary_key = const_bool(kw.get("primary_key")) or False
    callee = last(names.callee(call))
    if callee == "Column" or annotation is None:
        # Column() takes nothing from an annotation (`x: Mapped[str] = Column(String)`, a declared_attr's
        # `-> Column`): nullable unless it says; only mapped_column() reads Optional[...] off Mapped[...]
        implied = not primary_key and callee in ("Column", "mapped_column")
    else:
        implied = optional and not primary_key
    if field:
        implied = optional and not primary_key
    default = kw.get("default") if "default" in kw else kw.get("default_factory")
    if field and call.args and default is None:
        default = call.args[0]
    return ColumnFact(
        name=name,
        attr=attr,
        type_name=type_name,
        type_args=type_args,
        nullable=const_bool(kw.get("nullable")),
        implied_nullable=implied,
        primary_key=primary_key,
        unique=const_bool(kw.get("unique")) or False,
        index=const_bool(kw.get("index")) or False,
        default=source(default),
        server_default=source(kw.get("server_default")),
        onupdate=source(kw.get("onupdate")),
        foreign_keys=fks,
        span=span_of(span_node or call, path),
        declared_in=declared_in,
        autoincrement=autoincrement or source(kw.get("autoincrement")),
        py_type=py_type,
        type_ref=type_ref,
        keys_unread=_keys_unread(kw),
    )


def _keys_unread(kw: dict[str, ast.expr]) -> str | None:
    """`unique=cls.__email_unique__, index=not cls.__email_unique__`: the keyword arguments that say whether the
    column is indexed but are no constant, as written."""
    unread = [f"{k}={ast.unparse(kw[k])}" for k in ("index", "unique") if k in kw and const_bool(kw[k]) is None
              and not (isinstance(kw[k], ast.Constant) and kw[k].value is None)]
    return ", ".join(unread) or None


def read_relationship(call: ast.Call, attr: str, annotation: ast.AST | None, names: Names, path: str, span_node: ast.AST) -> RelationshipFact:
    kw = kwargs(call)
    kw = {**_sa_kwargs(kw), **kw}
    target = None
    if call.args:
        target = const_str(call.args[0]) or ast.unparse(call.args[0])
    elif annotation is not None:
        target = annotation_class(annotation) or ast.unparse(annotation)
    uselist = const_bool(kw.get("uselist"))
    typed = annotation is not None and (last(names.callee(call)) == "Relationship" or _mapped_annotation(annotation))
    if uselist is None and typed:  # SQLAlchemy reads Mapped[...] (SQLModel any annotation); not RelationshipProperty[...]
        text = ast.unparse(annotation).replace("'", "").replace('"', "")
        inner = text[text.index("Mapped[") + 7:] if "Mapped[" in text else text  # SQLModel: list["Hero"] bare
        uselist = inner.startswith(("List[", "list[", "Set[", "set[", "Sequence[", "typing.List[")) or (
            "Mapped[" in text and any(t in inner for t in ("List[", "list[", "Set[", "set[", "Sequence[")))
    # relationship(argument, secondary=None, ...): `relationship("Tag", tag_links)` links through tag_links
    secondary = kw.get("secondary") or (call.args[1] if len(call.args) > 1 else None)
    return RelationshipFact(
        attr=attr,
        target=target,
        uselist=uselist,
        cascade=const_str(kw.get("cascade")),
        back_populates=const_str(kw.get("back_populates")) or _backref_name(kw.get("backref")),
        lazy=_source(kw.get("lazy")),  # lazy=False is "False" (joined): not the default
        secondary=None if secondary is None else (const_str(secondary) or ast.unparse(secondary)),
        span=span_of(span_node, path),
        narrowed=any(k in kw for k in ("primaryjoin", "order_by", "viewonly")),
        backref="backref" in kw,
        remote_side=_source(kw.get("remote_side")),
        keys=" ".join(_source(kw.get(k)) or "" for k in ("foreign_keys", "primaryjoin")).strip() or None,
        join=_source(kw.get("primaryjoin")),
    )


def _sa_kwargs(kw: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """SQLModel's Relationship(sa_relationship_kwargs={"lazy": "selectin"}) (or dict(lazy="selectin")): what it passes
    to SQLAlchemy's relationship(), where its keys mean what they mean there."""
    given = kw.get("sa_relationship_kwargs")
    if isinstance(given, ast.Dict):
        return {name: v for k, v in zip(given.keys, given.values) if k is not None and (name := const_str(k))}
    if isinstance(given, ast.Call) and isinstance(given.func, ast.Name) and given.func.id == "dict":
        return kwargs(given)
    return {}


def _backref_name(node: ast.AST | None) -> str | None:
    """backref="visits" or backref=backref("visits", lazy="dynamic")."""
    if isinstance(node, ast.Call) and node.args:
        return const_str(node.args[0])
    return const_str(node)


def _source(node: ast.AST | None) -> str | None:
    return None if node is None else (const_str(node) or ast.unparse(node))


def _mapped_annotation(annotation: ast.AST) -> bool:
    text = ast.unparse(annotation).strip("'\"")
    return text.startswith(("Mapped[", "orm.Mapped[", "sa.orm.Mapped[", "sqlalchemy.orm.Mapped["))


def _column_names(args: list[ast.expr]) -> tuple[str, ...]:
    return tuple(_column_name(a) for a in args)


def _column_name(node: ast.expr) -> str:
    """"email", Model.email, Model.__table__.c.email, Model.email.desc() -> "email"; expressions as written."""
    text = const_str(node)
    if text is not None:
        return text
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("desc", "asc"):
        return _column_name(node.func.value)
    return ast.unparse(node)


def function_literals(nodes: list[ast.expr], names: Names) -> tuple[str, ...]:
    """The strings passed straight to SQLAlchemy's `func.*` under `nodes` (`func.md5("value::text")`): SQLAlchemy
    binds a string as a value, so the function reads that text, not a column of that name."""
    out: list[str] = []
    for node in nodes:
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and re.match(r"sqlalchemy(\.sql)?(\.expression)?\.func\.", names.callee(call)):
                out.extend(text for a in call.args for text in [const_str(a)] if text is not None)
    return tuple(out)


def read_table_item(call: ast.Call, names: Names, path: str, table: str | None) -> IndexFact | ConstraintFact | None:
    """An element of __table_args__ or of Table(...)/op.create_table(...): an index or a constraint."""
    kind = last(names.callee(call))
    kw = kwargs(call)
    span = span_of(call, path)
    if kind == "Index":
        name = const_str(call.args[0]) if call.args else None
        return IndexFact(
            name=name,
            table=table,
            columns=_column_names(call.args[1:]),
            unique=const_bool(kw.get("unique")) or False,
            where=_where(kw.get("postgresql_where") or kw.get("sqlite_where")),
            using=const_str(kw.get("postgresql_using")),
            span=span,
            where_python=_python_predicate(kw.get("postgresql_where") or kw.get("sqlite_where")),
            literals=function_literals(call.args[1:], names),
        )
    if kind in ("UniqueConstraint", "PrimaryKeyConstraint"):
        return ConstraintFact(
            "unique" if kind == "UniqueConstraint" else "primary_key",
            const_str(kw.get("name")),
            _column_names(call.args),
            None,
            span,
        )
    if kind == "CheckConstraint":
        expr = call.args[0] if call.args else kw.get("sqltext")
        return ConstraintFact("check", const_str(kw.get("name")), (), const_str(expr) or source(expr), span,
                              literals=function_literals([expr] if expr is not None else [], names))
    if kind == "ForeignKeyConstraint" and len(call.args) >= 2:
        local = _names_list(call.args[0])
        remote = tuple(const_str(e) or _column_ref(e) for e in call.args[1].elts) if isinstance(call.args[1], (ast.List, ast.Tuple)) else ()
        return ConstraintFact(
            "foreign_key",
            const_str(kw.get("name")),
            local,
            None,
            span,
            ondelete=const_str(kw.get("ondelete")),
            target=remote[0] if remote else None,
            onupdate=const_str(kw.get("onupdate")),
            actions_unread=actions_unread(call),
        )
    return None


def _names_list(node: ast.AST) -> tuple[str, ...]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return _column_names(list(node.elts))
    return ()


def _python_predicate(node: ast.AST | None) -> bool:
    """`postgresql_where=(removed_at is None)`, `not x`, `a and b`: Python computes a bool at import time,
    so the index gets `WHERE false`/`WHERE true` instead of the predicate meant."""
    while isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Compare):
        return any(isinstance(o, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for o in node.ops)
    return isinstance(node, (ast.BoolOp, ast.UnaryOp)) and not isinstance(getattr(node, "op", None), ast.Invert) or (
        isinstance(node, ast.Constant) and isinstance(node.value, bool)
    )


def _where(node: ast.AST | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Call) and node.args and const_str(node.args[0]) is not None:  # text("...")
        return const_str(node.args[0])
    return const_str(node) or ast.unparse(node)
