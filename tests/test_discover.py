"""Which folders discovery reads: a package that happens to be named like a build output is source; a
folder pip installed libraries into, or a vendored copy of another project, is not."""

from __future__ import annotations

from pathlib import Path

from analyzers.discover import discover

MODEL = "from sqlalchemy import Column, Integer\n\nclass Thing(Base):\n    __tablename__ = 'things'\n    id = Column(Integer, primary_key=True)\n"


def _write(root: Path, rel: str, text: str = MODEL) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def test_a_package_named_build_is_read_and_a_build_output_is_not(tmp_path: Path) -> None:
    _write(tmp_path, "app/__init__.py", "")
    _write(tmp_path, "app/features/__init__.py", "")
    _write(tmp_path, "app/features/build/queries.py")  # the namespace package `app.features.build`
    _write(tmp_path, "app/dist/__init__.py", "")
    _write(tmp_path, "app/dist/models.py")
    _write(tmp_path, "build/lib/app/models.py")  # setuptools' copy of the package
    _write(tmp_path, "dist/app-1.0/app/models.py")
    _write(tmp_path, "app.egg-info/models.py")
    read = {c.path for c in discover(tmp_path).python}
    assert "app/features/build/queries.py" in read and "app/dist/models.py" in read
    assert not any(p.startswith(("build/", "dist/", "app.egg-info/")) for p in read)


def test_a_folder_pip_installed_libraries_into_or_a_vendored_copy_is_not_read(tmp_path: Path) -> None:
    _write(tmp_path, "app/models.py")
    _write(tmp_path, "libs/sqlalchemy/sql/schema.py")  # `pip install --target libs`: a library copy
    _write(tmp_path, "libs/SQLAlchemy-2.0.0.dist-info/RECORD", "sqlalchemy/sql/schema.py,,\n")
    _write(tmp_path, "tools/lib/models.py")  # a folder named like one, without pip's records, is the project's
    _write(tmp_path, "src/third-party/enum-tables/enumtables/ops.py")  # a copy of another project, by convention
    layout = discover(tmp_path)
    assert {c.path for c in layout.python} == {"app/models.py", "tools/lib/models.py"}
    assert ("src/third-party", "skipped: other projects' code copied in (a folder named third-party)") in layout.skipped
    assert ("libs", "skipped: third-party packages installed here (it holds SQLAlchemy-2.0.0.dist-info)") in layout.skipped
