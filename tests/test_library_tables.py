"""Tables a library makes for the models (SQLAlchemy-Continuum's `<table>_version` and `transaction`): the scan and
--explain-layout name them and what makes them, and no rule takes one that a migration drops for a table nothing
uses. A small repository of our own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_precision import found, revision
from tui import cli, paths

_MODELS = '''
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy_continuum import make_versioned

make_versioned(user_cls=None)

db = SQLAlchemy()


class Tracked(db.Model):
    __abstract__ = True
    __versioned__ = {}


class Wallet(Tracked):
    __tablename__ = "wallet"
    id = db.Column(db.Integer, primary_key=True)


class Payment(db.Model):
    __versioned__ = {}
    __tablename__ = "payment"
    id = db.Column(db.Integer, primary_key=True)


class Note(db.Model):
    __tablename__ = "note"
    id = db.Column(db.Integer, primary_key=True)


wallet_payments = db.Table(
    "wallet_payments",
    db.Column("wallet_id", db.Integer, db.ForeignKey("wallet.id")),
    db.Column("payment_id", db.Integer, db.ForeignKey("payment.id")),
)
'''

_HISTORY = {
    "migrations/versions/0001_make.py": revision(
        'op.create_table("payment_version", sa.Column("id", sa.Integer(), nullable=False))',
        'op.drop_table("payment_version")', rev="0001"),
    "migrations/versions/0002_drop.py": revision('op.drop_table("payment_version")', "pass", rev="0002", down="0001"),
}


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path / "data"))
    return tmp_path / "data"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_explain_layout_and_the_scan_name_the_tables_continuum_makes(tmp_path: Path, capsys) -> None:
    _write(tmp_path / "repo", {"app/models.py": _MODELS})
    cli.main(["scan", str(tmp_path / "repo"), "--explain-layout"])
    out = capsys.readouterr().out
    assert ("  made by a library dbreview does not read, SQLAlchemy-Continuum (make_versioned() at app/models.py:5): "
            "payment_version (Payment, marked __versioned__), transaction (one row per versioned transaction), "
            "wallet_payments_version (the association table wallet_payments), wallet_version (Wallet, marked "
            "__versioned__); their columns are not known") in out
    assert "note_version" not in out
    cli.main(["scan", str(tmp_path / "repo"), "-o", str(tmp_path / "report.md")])
    assert "tables made by a library dbreview does not read, SQLAlchemy-Continuum" in capsys.readouterr().err


def test_no_library_tables_without_make_versioned(tmp_path: Path, capsys) -> None:
    _write(tmp_path / "repo", {"app/models.py": _MODELS.replace("make_versioned(user_cls=None)", "")})
    cli.main(["scan", str(tmp_path / "repo"), "--explain-layout"])
    assert "made by a library" not in capsys.readouterr().out


def test_a_dropped_history_table_is_not_called_unused(tmp_path: Path) -> None:
    (f,) = [f for f in found(tmp_path, {"app/models.py": _MODELS, **_HISTORY}, "MIG012")]
    assert f.message.startswith("revision 0002 drops table payment_version: code deployed before this migration that "
                                "still uses payment_version fails")
    plain = {"app/models.py": _MODELS.replace("make_versioned(user_cls=None)", ""), **_HISTORY}
    (f,) = [f for f in found(tmp_path / "plain", plain, "MIG012")]
    assert "no model maps it and no Python code of the application names it" in f.message
