"""Reports reach a file whole or not at all: a kill, a file size limit or a full disk at the write
leaves the old report as it was; `-o` onto a link replaces its file; special files are refused."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tui import cli, output

DEMO = str(cli.BUNDLED_DEMO)
OLD = "# the old report\n"


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".dbreview-tmp")]


def test_a_report_replaces_the_old_one_whole(tmp_path: Path) -> None:
    report = tmp_path / "review.md"
    report.write_text(OLD)
    report.chmod(0o640)
    assert cli.main(["scan", DEMO, "-o", str(report)]) == 1  # the demo has critical findings
    assert report.read_text().startswith("# Database Code Review")
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_a_kill_during_the_write_leaves_the_old_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "review.md"
    report.write_text(OLD)

    def killed(fd: int) -> None:
        raise KeyboardInterrupt  # ^C, or any signal, between the write and the rename

    monkeypatch.setattr(output.os, "fsync", killed)
    assert cli.main(["scan", DEMO, "-o", str(report)]) == 130
    assert report.read_text() == OLD and leftovers(tmp_path) == []


_STALLED_AT_THE_WRITE = """
import os, sys, time
from tui import cli, output
real_fsync = os.fsync
def stall(fd):
    real_fsync(fd)
    if os.readlink(f"/proc/self/fd/{fd}").endswith(".dbreview-tmp"):
        print("written", flush=True)
        time.sleep(120)
output.os.fsync = stall
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_sigkill_during_the_write_leaves_the_old_report(tmp_path: Path) -> None:
    """A real SIGKILL once the new report is written and before it replaces the old one."""
    report = tmp_path / "review.md"
    report.write_text(OLD)
    env = {**os.environ, "DBREVIEW_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-c", _STALLED_AT_THE_WRITE, "scan", DEMO, "-o", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout.readline() == "written\n"
        (temporary,) = leftovers(tmp_path)
        assert (tmp_path / temporary).read_text().startswith("# Database Code Review")
    finally:
        proc.kill()
        proc.wait()
    assert report.read_text() == OLD


def test_a_file_size_limit_leaves_the_old_report_and_says_so(tmp_path: Path) -> None:
    """`ulimit -f`: the write fails part way (EFBIG); the old report is still there, whole."""
    report = tmp_path / "review.md"
    report.write_text(OLD)
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # noqa: E731
    env = {**os.environ, "DBREVIEW_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([str(Path(sys.executable).with_name("dbreview")), "scan", DEMO, "-o", str(report)],
                          capture_output=True, text=True, preexec_fn=limit, env=env)
    assert done.returncode == 2, done.stderr
    assert "File too large" in done.stderr and "unchanged" in done.stderr
    assert report.read_text() == OLD and leftovers(tmp_path) == []


def test_onto_a_link_the_file_it_points_at_is_replaced_and_the_link_stays(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "review.md"
    real.parent.mkdir()
    real.write_text(OLD)
    real.chmod(0o600)
    link = tmp_path / "latest.md"
    link.symlink_to(real)
    assert cli.main(["scan", DEMO, "--format", "json", "-o", str(link)]) == 1
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("{") and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert leftovers(real.parent) == []


def test_special_files_are_refused_and_stdout_and_dev_null_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result: list[int] = []
    writer = threading.Thread(target=lambda: result.append(cli.main(["scan", DEMO, "-o", str(fifo)])), daemon=True)
    writer.start()
    writer.join(60)
    assert result == [2], "refused at once, not blocked on a FIFO nobody reads"
    assert "not a regular file" in capsys.readouterr().err
    assert cli.main(["scan", DEMO, "-o", str(tmp_path)]) == 2  # a directory
    assert cli.main(["scan", DEMO, "-o", "/dev/zero"]) == 2  # a device
    assert cli.main(["scan", DEMO, "-o", "/dev/null"]) == 1
    assert capsys.readouterr().out == ""
    for stdout in ("-", "/dev/stdout"):
        assert cli.main(["scan", DEMO, "-o", stdout]) == 1
        assert "# Database Code Review" in capsys.readouterr().out
