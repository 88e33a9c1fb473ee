"""Which files a scan reads (issue 7, unseen backends): a module that names no SQLAlchemy but imports
the app's models (a Flask-SQLAlchemy service doing `Budget.query...`, a route over a re-exporting
package) is read for how it uses them; one that imports nothing of the models is not. Our own project."""

from __future__ import annotations

from analyzers.discover import imported
from analyzers.engine import scan
from tests.test_precision import _write

DB = '''
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
'''

MODEL = '''
from shop import db


class Invoice(db.Model):
    __tablename__ = "invoices"
    id = db.Column(db.Integer, primary_key=True)
    shop_id = db.Column(db.Integer, nullable=False)
    number = db.Column(db.Integer, nullable=False)
'''

# re-exports the model: no marker of its own
PACKAGE = '''
from .invoice import Invoice

__all__ = ["Invoice"]
'''

SERVICE = '''
from shop.models import Invoice


def new_invoice(shop_id):
    last = Invoice.query.filter_by(shop_id=shop_id).order_by(Invoice.number.desc()).first()
    number = 1 if last is None else last.number + 1
    invoice = Invoice(shop_id=shop_id, number=number)
    invoice.save()
    return invoice
'''

RELATIVE = '''
from ..models import invoice


def count(shop_id):
    return invoice.Invoice.query.filter_by(shop_id=shop_id).count()
'''

UNRELATED = '''
from shop.texts import greeting


def hello(name):
    return greeting(name)
'''

ROUTES = '''
from shop.services.billing import new_invoice


def post_invoice(shop_id):
    return new_invoice(shop_id).id
'''

TEST = '''
from shop.models import Invoice


def test_invoice():
    assert Invoice.query.first() is None
'''


def _project(tmp_path):
    return _write(tmp_path, {
        "shop/__init__.py": DB,
        "shop/models/__init__.py": PACKAGE,
        "shop/models/invoice.py": MODEL,
        "shop/services/billing.py": SERVICE,
        "shop/services/counts.py": RELATIVE,
        "shop/texts.py": "def greeting(name):\n    return 'hello ' + name\n",
        "shop/hello.py": UNRELATED,
        "shop/routes.py": ROUTES,
        "tests/test_billing.py": TEST,
    })


def test_a_module_that_imports_the_models_is_read_for_how_it_uses_them(tmp_path):
    found = scan(_project(tmp_path))
    facts = found.facts
    # the package that re-exports the model imports it too
    assert sorted(facts.derived["readers"]) == ["shop/models/__init__.py", "shop/services/billing.py", "shop/services/counts.py"]
    read = {m.path for m in facts.modules}
    assert "shop/hello.py" not in read and "shop/routes.py" not in read and "tests/test_billing.py" not in read
    (billing,) = [m for m in facts.modules if m.path == "shop/services/billing.py"]
    assert [q.model for q in billing.usage.queries] == ["Invoice"]
    # what reading it finds: the service numbers invoices one above the highest it read
    (race,) = [f for f in found.result.findings if f.rule_id == "RACE002"]
    assert race.location.path == "shop/services/billing.py" and "new_invoice" in race.message
    from tui.cli import explain_layout

    assert ("Python: 9 files; 9 under the size limit; 2 mention SQLAlchemy, Alembic or a table and were read; "
            "3 more import the models and were read for how they use them") in explain_layout(found).splitlines()


def test_a_warm_scan_reads_the_same_readers_from_the_cache(tmp_path):
    root = _project(tmp_path)
    cold = scan(root, cache_dir=tmp_path / "cache").facts.derived["readers"]
    (root / "shop/texts.py").write_text("def greeting(name):\n    return 'hi ' + name\n")  # something changed
    warm = scan(root, cache_dir=tmp_path / "cache")
    assert warm.cache_hits and warm.facts.derived["readers"] == cold


def test_imports_are_read_from_the_bytes_relative_ones_made_absolute():
    text = b'''
from .models import (
    Invoice,  # the model
    Shop as S,
)
from .. import db
import shop.models.invoice as inv, os
    from x import y  # inside a function
'''
    assert imported(text, "shop/services/billing.py") == (
        "os", "shop", "shop.db", "shop.models.invoice", "shop.services.models", "shop.services.models.Invoice",
        "shop.services.models.Shop", "x", "x.y")
