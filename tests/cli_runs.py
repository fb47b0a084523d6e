"""The ``valuespectrum`` command in a child process, as a user runs it: to completion, or killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def vspec(
    *args: str, cwd: Path | None = None, timeout: float = 300, data: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``vspec ARGS`` in ``cwd`` (the repository by default), its data folder ``data`` (default:
    ``cwd``), a wide terminal."""
    env = {**os.environ, "VSPEC_DATA": str(data or cwd or ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "valuespectrum", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def mock_run_manifest(name: str, n_boot: int, /, **over: Any) -> dict[str, Any]:
    """A run manifest for the scripted mock (it answers 4 to everything) on the portrait items of
    Power and Hedonism, no persona, no cache; ``over`` replaces top-level fields (``name`` too)."""
    return {
        "name": name,
        "models": [{"spec": "mock", "label": "m", "options": {"default": "4"}}],
        "probes": {"banks": ["portrait"], "values": ["Power", "Hedonism"]},
        "personas": ["none"],
        "scoring": {"n_boot": n_boot},
        "cache": False,
        "output_dir": "runs",
        **over,
    }


def kill_cli_at_lines(args: list[str], cwd: Path, watched: Path, lines: int, timeout_s: float) -> int:
    """Run ``python -m valuespectrum ARGS`` in ``cwd`` and SIGKILL it once ``watched`` holds ``lines``
    lines (a kill -9 mid-run); its return code, ``-SIGKILL`` when it was killed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "valuespectrum", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            if watched.is_file() and watched.read_text().count("\n") >= lines:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        proc.wait()
    return proc.returncode
