"""The run folder's writer lock, on every platform.

A run holds its folder's lock while it writes, so a second run on the same folder is refused
with a clear error instead of interleaving lines. Three mechanisms, best first:

- ``fcntl.flock`` (POSIX): released by the kernel when the process dies, even by kill -9;
- ``msvcrt.locking`` (Windows): the same guarantee for a byte range of the lock file;
- an exclusive lock file (``O_CREAT | O_EXCL``) holding the writer's pid, removed on exit:
  for platforms with neither. A file left by a killed writer is taken over when that pid is
  no longer alive (checked on POSIX only; elsewhere the error names the file to delete).

``VSPEC_FOLDER_LOCK=exclusive`` forces the lock file, e.g. on a network file system whose
``flock`` is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from valuespectrum.errors import ValueSpectrumError

Method = Literal["auto", "fcntl", "msvcrt", "exclusive"]


class RunLockedError(ValueSpectrumError):
    """Another run is writing the same folder."""


def available_method() -> Literal["fcntl", "msvcrt", "exclusive"]:
    """The best mechanism this platform offers."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        pass
    else:
        return "fcntl"
    try:
        import msvcrt  # noqa: F401
    except ImportError:
        return "exclusive"
    return "msvcrt"


def _env_method() -> Method:
    raw = os.environ.get("VSPEC_FOLDER_LOCK", "auto").strip().lower() or "auto"
    if raw not in ("auto", "fcntl", "msvcrt", "exclusive"):
        raise ValueSpectrumError(
            f"VSPEC_FOLDER_LOCK={raw!r}: use auto, fcntl, msvcrt or exclusive (or unset it)"
        )
    return raw  # type: ignore[return-value]


def _locked_message(root: Path, holder: str) -> str:
    return (
        f"{root}: another run is writing this folder (pid {holder}); wait for it to finish, "
        "or give this run another 'name' or --out"
    )


@contextmanager
def hold_lock(path: Path, *, root: Path, method: Method = "auto") -> Iterator[None]:
    """Hold the lock at ``path`` (a file inside the run folder ``root``) for the block."""
    if method == "auto":
        method = _env_method()
    chosen = available_method() if method == "auto" else method
    if chosen == "exclusive":
        with _exclusive_file(path, root):
            yield
        return
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        try:
            _lock_handle(fh.fileno(), chosen)
        except OSError as exc:
            fh.seek(0)
            raise RunLockedError(_locked_message(root, fh.read().strip() or "another process")) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()  # closing releases both flock and msvcrt locks


def _lock_handle(fd: int, method: Literal["fcntl", "msvcrt"]) -> None:
    if method == "fcntl":
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:  # pragma: no cover - Windows only
        import msvcrt

        # lock one byte far past the pid text, so writing the pid is not blocked by our own lock
        os.lseek(fd, 1 << 20, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        os.lseek(fd, 0, os.SEEK_SET)


def _pid_alive(pid: int) -> bool | None:
    """Whether ``pid`` runs (None where that cannot be asked safely: os.kill ends processes on Windows)."""
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _exclusive_file(path: Path, root: Path) -> Iterator[None]:
    excl = path.with_name(path.name + ".pid")
    for _attempt in range(2):
        try:
            fd = os.open(excl, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = excl.read_text(encoding="utf-8").strip() if excl.is_file() else ""
            alive = _pid_alive(int(holder)) if holder.isdigit() else None
            if alive is False:  # its writer was killed: take the folder over
                excl.unlink(missing_ok=True)
                continue
            message = _locked_message(root, holder or "unknown")
            if alive is None:
                message += f" (if no run is writing it, delete {excl})"
            raise RunLockedError(message) from None
        break
    else:  # pragma: no cover - another writer won the race for a stale lock
        raise RunLockedError(_locked_message(root, "unknown"))
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        excl.unlink(missing_ok=True)
