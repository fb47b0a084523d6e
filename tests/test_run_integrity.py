"""Runs that never lie: resume, folder identity, locking, exit codes and one-line errors,
tried the way a user meets them (the vspec command on small files, the scripted mock)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cli_runs import mock_run_manifest, vspec

from tests.test_runs import Killer
from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.bank import load_bank
from valuespectrum.runs.execute import execute_run
from valuespectrum.values import Value

ROOT = Path(__file__).resolve().parents[1]
N_POWER_HEDONISM = sum(
    1 for p in load_bank("portrait").probes if {Value.POWER, Value.HEDONISM} & set(p.values())
)
"""Portrait items informing Power or Hedonism; twice as many requests with both label orders."""


ITEM_COLUMNS = {"text": "item", "value": "value"}


def raw_manifest(**over: object) -> dict[str, object]:
    return mock_run_manifest("r", 50, **over)


def write(tmp_path: Path, file: str = "m.yaml", **over: object) -> Path:
    p = tmp_path / file
    p.write_text(yaml.safe_dump(raw_manifest(**over)), encoding="utf-8")
    return p


def finished_run(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A complete mock run: (manifest, run folder, lines of responses.jsonl)."""
    m = write(tmp_path)
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    run = tmp_path / "runs" / "r"
    return m, run, (run / "responses.jsonl").read_text(encoding="utf-8").splitlines()


def one_line_error(res: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    for n in needles:
        assert n in res.stderr, (n, res.stderr)


def factory_for(backend: MockBackend):
    return lambda spec, options, label: backend


# ----------------------------------------------------------------- 1. resume re-asks failures


def test_resume_re_asks_exactly_the_failed_and_missing_requests(tmp_path: Path) -> None:
    m = parse_manifest({**raw_manifest(), "output_dir": str(tmp_path / "runs")})
    failing = ["portrait-PO-01", "portrait-PO-02"]
    first = execute_run(m, out=tmp_path / "run", backend_factory=factory_for(MockBackend(fail_ids=failing)))
    assert first.n_failed == 4  # 2 items x 2 label orders
    # a server back up: the same manifest again asks the 4 failures, nothing else
    second_backend = MockBackend()
    second = execute_run(m, out=tmp_path / "run", backend_factory=factory_for(second_backend))
    assert second_backend.calls == 4
    assert (
        second.n_failed == 0 and second.n_retried == 4 and second.skipped_existing == 2 * N_POWER_HEDONISM - 4
    )
    from valuespectrum.runs.score import score_run

    summary = score_run(second.folder)
    assert summary["n_records"] == 2 * N_POWER_HEDONISM and summary["n_failed"] == 0


def test_cli_says_how_many_it_re_asked(tmp_path: Path) -> None:
    m, run, lines = finished_run(tmp_path)
    responses = run / "responses.jsonl"
    rec = json.loads(lines[0])
    rec["response"]["error"] = "connection refused"
    rec["response"]["text"] = ""
    responses.write_text("\n".join([json.dumps(rec), *lines[1:]]) + "\n", encoding="utf-8")
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "failed before and re-asked 1" in " ".join(res.stdout.split())


# ----------------------------------------------------------------- 2. a changed prompt is refused


def test_edited_persona_text_mid_run_is_refused_naming_the_persona(tmp_path: Path) -> None:
    pfile = tmp_path / "personas.yaml"
    pfile.write_text(
        "personas:\n  - id: boss\n    description: You like to be in charge.\n    targets: [Power]\n",
        encoding="utf-8",
    )
    raw = {**raw_manifest(personas=["boss"], personas_file=str(pfile)), "output_dir": str(tmp_path / "runs")}
    m = parse_manifest({**raw, "batch_size": 4})
    with pytest.raises(KeyboardInterrupt):
        execute_run(m, out=tmp_path / "run", backend_factory=factory_for(Killer(2)))
    pfile.write_text(
        "personas:\n  - id: boss\n    description: You care about others.\n    targets: [Power]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"persona\(s\) boss changed"):
        execute_run(m, out=tmp_path / "run", backend_factory=factory_for(MockBackend()))


def test_edited_item_text_is_refused_naming_the_item(tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("item,value\nThey like power.,Power\nThey like fun.,Hedonism\n", encoding="utf-8")
    m = write(tmp_path, probes={"banks": [], "files": [{"path": "items.csv", "mapping": ITEM_COLUMNS}]})
    assert vspec("run", str(m), cwd=tmp_path).returncode == 0
    items.write_text("item,value\nThey like money.,Power\nThey like fun.,Hedonism\n", encoding="utf-8")
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 2 and "(changed: 2)" in res.stderr.replace("\n", " "), res.stderr


# ----------------------------------------------------------------- 3. lock and de-duplication


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_writes(tmp_path: Path) -> None:
    m = write(tmp_path, models=[{"spec": "mock", "label": "m", "options": {"delay_s": 0.25}}], batch_size=1)
    env = {**os.environ, "VSPEC_DATA": str(tmp_path)}
    first = subprocess.Popen(
        [sys.executable, "-m", "valuespectrum", "run", str(m)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    responses = tmp_path / "runs" / "r" / "responses.jsonl"
    for _ in range(600):
        if responses.is_file() and responses.stat().st_size > 0:
            break
        time.sleep(0.05)
    second = vspec("run", str(m), cwd=tmp_path)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    one_line_error(second, "another run is writing this folder")
    ids = [json.loads(x)["record_id"] for x in responses.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == 2 * N_POWER_HEDONISM


def test_lock_is_taken_on_the_folder(tmp_path: Path) -> None:
    m = write(tmp_path)
    (tmp_path / "runs" / "r").mkdir(parents=True)
    with open(tmp_path / "runs" / "r" / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        res = vspec("run", str(m), cwd=tmp_path)
    one_line_error(res, "another run is writing this folder")


def test_duplicate_personas_are_an_error(tmp_path: Path) -> None:
    res = vspec("run", str(write(tmp_path, personas=["none", "none"])), cwd=tmp_path)
    one_line_error(res, "m.yaml", "personas must not repeat")
    assert not (tmp_path / "runs").exists()


def test_scoring_counts_one_record_per_request_id(tmp_path: Path) -> None:
    _, run, lines = finished_run(tmp_path)
    responses = run / "responses.jsonl"
    responses.write_text("\n".join(lines + lines[:5]) + "\n", encoding="utf-8")  # two writers' duplicates
    assert vspec("score", str(run), cwd=tmp_path).returncode == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["n_records"] == 2 * N_POWER_HEDONISM
    assert len((run / "scores.jsonl").read_text().splitlines()) == 2 * N_POWER_HEDONISM


# ----------------------------------------------------------------- 4. nothing written before the start


def test_a_failed_start_leaves_no_folder_and_the_corrected_manifest_runs(tmp_path: Path) -> None:
    bad = write(tmp_path, models=[{"spec": "hf:./no-such-model", "label": "m"}])
    res = vspec("run", str(bad), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert not (tmp_path / "runs" / "r").exists()
    good = write(tmp_path)
    res = vspec("run", str(good), cwd=tmp_path)
    assert res.returncode == 0, res.stderr


def test_edits_that_change_no_answer_re_score_instead_of_being_refused(tmp_path: Path) -> None:
    m = write(tmp_path)
    assert vspec("run", str(m), cwd=tmp_path).returncode == 0
    m = write(tmp_path, scoring={"n_boot": 0}, max_failure_rate=0.2)
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())
    assert summary["max_failure_rate"] == 0.2
    assert summary["groups"][0]["profile"]["ci_low"]["Power"] is None  # no bootstrap now
    changed = write(tmp_path, models=[{"spec": "mock", "label": "m", "options": {"default": "2"}}])
    res = vspec("run", str(changed), cwd=tmp_path)
    one_line_error(res, "different manifest", "models")


# ----------------------------------------------------------------- 6. exit codes


def test_fully_unparsed_run_exits_1(tmp_path: Path) -> None:
    m = write(tmp_path, models=[{"spec": "mock", "label": "m", "options": {"default": "banana"}}])
    res = vspec("run", str(m), cwd=tmp_path)
    assert res.returncode == 1 and "answers were unparsed" in res.stderr, res.stderr
    res = vspec("run", str(m), "--max-unparsed-rate", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("bad", ["nan", "1.5", "-0.1"])
def test_thresholds_are_validated(tmp_path: Path, bad: str) -> None:
    one_line_error(vspec("run", str(write(tmp_path)), "--max-failure-rate", bad, cwd=tmp_path), "0 to 1")
    m = write(tmp_path, "n.yaml", max_unparsed_rate=float(bad))
    one_line_error(vspec("run", str(m), cwd=tmp_path), "n.yaml", "max_unparsed_rate")


def test_score_exits_1_on_a_failed_run_and_3_on_an_incomplete_or_empty_one(tmp_path: Path) -> None:
    m = write(tmp_path, models=[{"spec": "mock", "label": "m", "options": {"fail_ids": ["portrait-PO-01"]}}])
    vspec("run", str(m), "--max-failure-rate", "1", cwd=tmp_path)
    run = tmp_path / "runs" / "r"
    assert vspec("score", str(run), cwd=tmp_path).returncode == 1
    assert vspec("score", str(run), "--max-failure-rate", "0.5", cwd=tmp_path).returncode == 0
    responses = run / "responses.jsonl"
    lines = responses.read_text(encoding="utf-8").splitlines()
    responses.write_text("\n".join(lines[:10]) + "\n", encoding="utf-8")
    res = vspec("score", str(run), "--max-failure-rate", "1", cwd=tmp_path)
    assert res.returncode == 3 and f"{2 * N_POWER_HEDONISM - 10} of {2 * N_POWER_HEDONISM}" in res.stderr
    responses.write_text("", encoding="utf-8")
    assert vspec("score", str(run), cwd=tmp_path).returncode == 3


# ----------------------------------------------------------------- 9. the run name


@pytest.mark.parametrize("name", ["../../x", "", ".", "a/b"])
def test_run_name_must_be_a_safe_slug(tmp_path: Path, name: str) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    m = write(tmp_path / "deep" / "er", name=name, output_dir=".")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    one_line_error(vspec("run", str(m), cwd=tmp_path), "m.yaml", "name")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


# ----------------------------------------------------------------- 11. alias bombs


def test_alias_bomb_manifest_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        levels.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    text = "\n".join(["bomb:", *("  " + line for line in levels)])
    text += "\nmodels:\n  - spec: mock\n    options: {script: {x: *a8}}\n"
    p = tmp_path / "bomb.yaml"
    p.write_text(text, encoding="utf-8")
    assert p.stat().st_size < 1000
    one_line_error(vspec("run", str(p), cwd=tmp_path, timeout=120), "bomb.yaml", "YAML nodes")


# ----------------------------------------------------------------- 7. one-line errors


def test_non_utf8_manifest_and_item_file(tmp_path: Path) -> None:
    p = tmp_path / "latin.yaml"
    p.write_bytes("# caf\u00e9 menu\nmodels:\n  - spec: mock\n".encode("latin-1"))
    one_line_error(vspec("run", str(p), cwd=tmp_path), "latin.yaml", "UTF-8")
    (tmp_path / "items.csv").write_bytes("item,value\nThey like caf\u00e9s.,Power\n".encode("latin-1"))
    m = write(tmp_path, probes={"banks": [], "files": [{"path": "items.csv", "mapping": ITEM_COLUMNS}]})
    one_line_error(vspec("run", str(m), cwd=tmp_path), "items.csv", "UTF-8")


def test_mock_option_typo_and_wrong_type(tmp_path: Path) -> None:
    m = write(tmp_path, models=[{"spec": "mock", "label": "m", "options": {"defualt": "4"}}])
    one_line_error(vspec("run", str(m), cwd=tmp_path), "defualt", "unknown option")
    m = write(tmp_path, models=[{"spec": "mock", "label": "m", "options": {"fail_ids": 3}}])
    one_line_error(vspec("run", str(m), cwd=tmp_path), "fail_ids", "list")
    assert not (tmp_path / "runs").exists()


def test_score_on_broken_folders(tmp_path: Path) -> None:
    _, run, lines = finished_run(tmp_path)
    responses = run / "responses.jsonl"
    good = "\n".join(lines) + "\n"
    responses.write_text("\n".join([lines[0], "{not json", *lines[2:]]) + "\n", encoding="utf-8")
    one_line_error(vspec("score", str(run), cwd=tmp_path), "responses.jsonl", "line 2")
    rec = json.loads(lines[0])
    rec["probe_id"] = "nope-01"
    responses.write_text("\n".join([json.dumps(rec), *lines[1:]]) + "\n", encoding="utf-8")
    one_line_error(vspec("score", str(run), cwd=tmp_path), "'nope-01'", "--fresh")
    responses.write_text(good, encoding="utf-8")
    (run / "manifest.yaml").unlink()
    one_line_error(vspec("score", str(run), cwd=tmp_path), "manifest.yaml: not found")


def test_output_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("I am a file", encoding="utf-8")
    one_line_error(vspec("run", str(write(tmp_path)), cwd=tmp_path), "runs", "a file of that name")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes everywhere")
def test_output_folder_not_writable(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs").chmod(0o555)
    try:
        one_line_error(vspec("run", str(write(tmp_path)), cwd=tmp_path), "runs", "writable")
    finally:
        (tmp_path / "runs").chmod(0o755)
