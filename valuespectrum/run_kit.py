"""What a new kind of run builds on, so it behaves like ``vspec run`` without reaching into
the runner: the run-spec base and model entry, the run folder (start, digest guard, header,
writer lock), model sources that close only what they built, crash-safe JSON lines, and the
terminal progress bar. ``agents/`` (browsing runs) is built on exactly this.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

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
