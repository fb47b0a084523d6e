"""What a new kind of run builds on, so it behaves like ``vspec run`` without reaching into
the runner: the run-spec base and model entry, the run folder (start, digest guard, header,
writer lock), model sources that close only what they built, crash-safe JSON lines, and the
terminal progress bar. ``agents/`` (browsing runs) is built on exactly this.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from valuespectrum.runs.folder import RunDir
from valuespectrum.runs.folder_lock import RunLockedError
from valuespectrum.runs.jsonl import JsonlWriter, read_jsonl, repair_tail, write_json_atomic
from valuespectrum.runs.setup import BackendFactory, ModelSource, under
from valuespectrum.runs.spec import ModelSpec, RunSpecBase, Strict, check_rate, check_slug

__all__ = [
    "BackendFactory",
    "JsonlWriter",
    "ModelSource",
    "ModelSpec",
    "RunDir",
    "RunLockedError",
    "RunSpecBase",
    "Strict",
    "check_rate",
    "check_slug",
    "exit_if_over",
    "over_threshold",
    "progress_bar",
    "read_jsonl",
    "repair_tail",
    "under",
    "write_json_atomic",
]


def progress_bar() -> AbstractContextManager[Callable[[str, int, int], None]]:
    """A terminal progress bar: yields ``(label, done, total)`` driving one bar per label."""
    from valuespectrum.runs.terminal import progress_bar as bar  # rich loads only when shown

    return bar()


def over_threshold(count: int, total: int, limit: float, what: str, see: Path) -> str | None:
    """The one-line complaint when ``count`` of ``total`` exceeds the share ``limit`` (None within it)."""
    rate = count / total if total else 0.0
    if rate <= limit:
        return None
    return f"{count} of {total} {what} ({rate:.1%} > allowed {limit:.1%}); see {see}"


def exit_if_over(*problems: str | None, code: int = 1) -> None:
    """Print each complaint to stderr and exit ``code`` when there is one (a command's threshold check)."""
    found = [p for p in problems if p]
    if not found:
        return
    import typer

    for line in found:
        typer.secho(line, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)
