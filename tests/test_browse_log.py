"""Typed browse results: a 0.1 browse folder still reads, re-summarises to the same numbers and
reports; steps and summaries round-trip through their one write/read pair."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents.manifest import load_browse_manifest
from agents.metrics import summarise_run
from agents.report_section import browsing_section
from agents.session import BrowseFolder
from valuespectrum.errors import ConfigError
from valuespectrum.personas import resolve_personas
from valuespectrum.results import (
    BrowseSummary,
    read_browse_summary,
    read_steps,
    write_browse_summary,
    write_step,
)
from valuespectrum.run_kit import JsonlWriter

FIXTURE = Path(__file__).parent / "data" / "browse-0.1"


def test_a_0_1_browse_summary_reads_as_format_1() -> None:
    s = read_browse_summary(FIXTURE / "browse" / "summary.json")
    assert s.format_version == 1 and s.run == "browse-0.1"
    assert (s.n_sessions, s.n_steps, s.n_failed, s.n_unparsed) == (2, 40, 1, 6)
    trad = s.session(persona="value-tradition")
    assert trad.targets == ["Tradition"] and trad.phase("training").n_shown == 12
    assert trad.alignment == pytest.approx(-0.333333)
    assert trad.agreement.n_engaged == 3
    assert s.session(persona="none").agreement.n_engaged is None  # absent for untargeted personas


def test_re_summarising_0_1_trajectories_gives_the_0_1_summary_keys_and_numbers(tmp_path: Path) -> None:
    folder = BrowseFolder(FIXTURE)
    manifest = load_browse_manifest(folder.manifest)
    summary = summarise_run(folder, manifest, resolve_personas(manifest.personas))
    assert summary.format_version == 2
    written = tmp_path / "summary.json"
    write_browse_summary(written, summary)
    new = json.loads(written.read_text(encoding="utf-8"))
    old = json.loads((FIXTURE / "browse" / "summary.json").read_text(encoding="utf-8"))
    assert new.pop("format_version") == 2
    assert new == old  # same keys, same values: a 0.1 reader reads what is written now


def test_steps_round_trip_to_the_same_json_lines(tmp_path: Path) -> None:
    for path in sorted((FIXTURE / "browse" / "trajectories").glob("*.jsonl")):
        steps = list(read_steps(path))
        assert [s.step for s in steps] == list(range(20))
        out = tmp_path / path.name
        with JsonlWriter(out) as w:
            for s in steps:
                write_step(w, s)
        lines = path.read_text(encoding="utf-8").splitlines()
        again = out.read_text(encoding="utf-8").splitlines()
        assert [json.loads(x) for x in again] == [json.loads(x) for x in lines]
    failed = [s for s in read_steps(FIXTURE / "browse" / "trajectories" / "m__none.jsonl") if s.failed]
    assert [(s.step, s.outcome(), s.decision) for s in failed] == [(9, "failed", None)]


def test_a_bad_step_line_is_a_one_line_error_naming_file_and_line(tmp_path: Path) -> None:
    src = FIXTURE / "browse" / "trajectories" / "m__none.jsonl"
    lines = src.read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[1])
    bad["shown"]["duration_s"] = "long"
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        list(read_steps(path))
    assert f"{path}: line 2" in str(err.value) and "shown.duration_s" in str(err.value)
    assert "\n" not in str(err.value).strip()


def test_the_report_of_a_0_1_browse_folder_shows_the_summary_values(tmp_path: Path) -> None:
    run = tmp_path / "browse-0.1"
    shutil.copytree(FIXTURE, run)
    summary = read_browse_summary(run / "browse" / "summary.json")
    section = browsing_section(run)
    assert section is not None
    rows = {(r[0], r[1]): r for r in section.tables[0].rows}
    for s in summary.sessions:
        row = rows[(s.model, s.persona)]
        assert row[6] == s.alignment and row[3] == s.n_steps and row[12] == s.n_failed
    assert section.notes[0] == "1 of 40 requests failed; failed steps engage nothing."
    res = subprocess.run(
        [sys.executable, "-m", "valuespectrum", "report", str(run)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    html = next((run / "report").glob("*.html")).read_text(encoding="utf-8")
    assert "Browsing drift" in html


def test_the_summary_model_refuses_a_summary_without_its_run_name(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"n_steps": 3}), encoding="utf-8")
    with pytest.raises(ConfigError, match="field 'run'"):
        read_browse_summary(path)
    assert BrowseSummary(run="x").sessions == []
