"""The run folder lock where ``fcntl`` is missing: the exclusive lock file, forced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_run_integrity import one_line_error, vspec, write
from valuespectrum.runs.folder_lock import RunLockedError, available_method, hold_lock


def test_without_fcntl_or_msvcrt_the_exclusive_lock_file_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)  # an import of a None entry raises ImportError
    monkeypatch.setitem(sys.modules, "msvcrt", None)
    assert available_method() == "exclusive"


def test_exclusive_lock_refuses_a_second_writer_and_is_removed_after(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    with hold_lock(lock, root=tmp_path, method="exclusive"):
        pid_file = tmp_path / ".lock.pid"
        assert pid_file.read_text(encoding="utf-8") == str(os.getpid())
        busy = f"another run is writing this folder \\(pid {os.getpid()}\\)"
        with pytest.raises(RunLockedError, match=busy), hold_lock(lock, root=tmp_path, method="exclusive"):
            pass
        assert pid_file.is_file()  # the refused writer left the holder's file alone
    assert not pid_file.exists()
    with hold_lock(lock, root=tmp_path, method="exclusive"):  # free again
        pass


def test_a_lock_file_left_by_a_killed_writer_is_taken_over(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    (tmp_path / ".lock.pid").write_text(str(dead_pid), encoding="utf-8")
    with hold_lock(tmp_path / ".lock", root=tmp_path, method="exclusive"):
        assert (tmp_path / ".lock.pid").read_text(encoding="utf-8") == str(os.getpid())
    assert not (tmp_path / ".lock.pid").exists()


def test_vspec_run_with_the_forced_fallback_is_refused_while_a_live_writer_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = write(tmp_path)
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / ".lock.pid").write_text(str(os.getpid()), encoding="utf-8")  # this test process: alive
    monkeypatch.setenv("VSPEC_FOLDER_LOCK", "exclusive")
    one_line_error(
        vspec("run", str(m), cwd=tmp_path), "another run is writing this folder", f"pid {os.getpid()}"
    )
    (run / ".lock.pid").unlink()
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (run / "summary.json").is_file()
    assert not (run / ".lock.pid").exists()


def test_an_unknown_lock_method_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = write(tmp_path)
    monkeypatch.setenv("VSPEC_FOLDER_LOCK", "nfs")
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and "VSPEC_FOLDER_LOCK='nfs'" in res.stderr, res.stderr
