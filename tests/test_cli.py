"""The vspec command as users call it (subprocesses, real files)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml
from cli_runs import ROOT, mock_run_manifest, vspec


def test_help_is_fast_and_imports_no_torch() -> None:
    code = "import sys, valuespectrum.cli; print(sorted(m for m in ('torch','transformers','chromadb','cv2','open_clip') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    t0 = time.perf_counter()
    res = vspec("--help")
    assert res.returncode == 0 and "run" in res.stdout and "demo" in res.stdout
    assert time.perf_counter() - t0 < 30  # generous: a guard against importing torch, not a timing test


def write_manifest(tmp_path: Path, **over: object) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(mock_run_manifest("cli", 100, **over)), encoding="utf-8")
    return p


def test_run_then_score_from_stored_responses(tmp_path: Path) -> None:
    m = write_manifest(tmp_path)
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    run_dir = tmp_path / "runs" / "cli"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["n_failed"] == 0 and summary["groups"][0]["profile"]["scores"]["Power"] is not None
    (run_dir / "summary.json").unlink()
    res = vspec("score", str(run_dir), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    again = json.loads((run_dir / "summary.json").read_text())
    assert again["groups"] == summary["groups"]


def test_failures_over_threshold_exit_non_zero(tmp_path: Path) -> None:
    m = write_manifest(
        tmp_path, models=[{"spec": "mock", "label": "m", "options": {"fail_ids": ["portrait-PO-01"]}}]
    )
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 1
    assert "requests failed" in res.stderr
    res = vspec("run", str(m), "--max-failure-rate", "0.5", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


def test_bad_manifest_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("models:\n  - spec: mock\nprobes:\n  values: [Powr]\n", encoding="utf-8")
    res = vspec("run", str(p), cwd=tmp_path)
    assert res.returncode == 2
    assert "bad.yaml" in res.stderr and "Powr" in res.stderr and "Traceback" not in res.stderr


def test_score_on_a_non_run_folder(tmp_path: Path) -> None:
    res = vspec("score", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 2 and "not a run folder" in res.stderr


def test_relative_cache_path_is_relative_to_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    m = write_manifest(tmp_path / "exp", cache="cache.sqlite")
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "exp" / "cache.sqlite").is_file() and not (tmp_path / "cache.sqlite").exists()
