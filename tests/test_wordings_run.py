"""Runs asked in several wordings and repeats, end to end on the scripted mock (numbers by hand)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_runs import vspec

from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import load_manifest, parse_manifest
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.log import read_records, read_summary
from valuespectrum.runs.score import score_folder
from valuespectrum.types import ModelRequest
from valuespectrum.values import Value

ROOT = Path(__file__).resolve().parents[1]

#: One Likert item per value; the true rating each wording draws (both label orders alike).
TRUE = {
    "default": {"i-sd": 5, "i-po": 2, "i-un": 3},
    "direct": {"i-sd": 6, "i-po": 1, "i-un": 2},
    "reflective": {"i-sd": 4, "i-po": 4, "i-un": 6},
}
PROBES = [
    Probe(id=pid, text=f"Portrait {pid}.", format=AnswerFormat.likert6(), keys={v: 1})
    for pid, v in (("i-sd", Value.SELF_DIRECTION), ("i-po", Value.POWER), ("i-un", Value.UNIVERSALISM))
]


def by_wording(req: ModelRequest) -> str:
    """Answers the wording's true rating as presented (reversed labels: 7 - rating)."""
    true = TRUE[req.metadata["wording"]][req.metadata["probe_id"]]
    return str(7 - true if req.metadata["reverse_labels"] else true)


def manifest(**over: Any):  # type: ignore[no-untyped-def]
    raw: dict[str, Any] = {
        "name": "w",
        "models": [{"spec": "mock", "label": "m"}],
        "wordings": ["default", "direct", "reflective"],
        "scoring": {"n_boot": 200},
        "cache": False,
        "batch_size": 5,
    }
    raw.update(over)
    return parse_manifest(raw, "w.yaml")


def test_per_wording_profiles_from_a_scripted_mock(tmp_path: Path) -> None:
    backend = MockBackend(by_wording, logprobs=True)
    outcome = execute_run(manifest(), out=tmp_path / "run", backends={"m": backend}, probes=PROBES)
    # 3 items x 3 wordings x 2 orders, each asked once
    assert outcome.n_requests == backend.calls == 18
    summary = score_folder(outcome.folder)
    block = summary.wordings
    assert block is not None and block.wordings == ["default", "direct", "reflective"]
    (g,) = block.groups
    for w, ratings in TRUE.items():
        assert g.profiles[w]["Self-Direction"] == ratings["i-sd"]
        assert g.profiles[w]["Power"] == ratings["i-po"]
        assert g.profiles[w]["Universalism"] == ratings["i-un"]
        assert g.n_answers[w] == 6
    # the pooled profile is the mean over wordings: SD (5 + 6 + 4) / 3 = 5
    assert summary.groups[0].profile.scores[Value.SELF_DIRECTION] == pytest.approx(5.0)
    assert g.mean_spearman == pytest.approx(1 / 3) and g.icc_consistency == pytest.approx(0.25)
    # 18 scores: wording SS 6 (14/9) = 28/3, item SS 6 (32/9) = 64/3, total 52; orders agree
    (dec,) = block.decomposition
    assert dec.shares["wording"] == pytest.approx(28 / 3 / 52)
    assert dec.shares["item"] == pytest.approx(64 / 3 / 52)
    assert dec.shares["order"] == pytest.approx(0.0) and dec.balanced
    # the records name their wording; ids carry it because three are asked
    recs = list(read_records(outcome.folder.responses))
    assert {r.wording for r in recs} == set(TRUE)
    assert "m|none|i-sd|rev|w=direct" in {r.record_id for r in recs}
    assert read_summary(outcome.folder.summary).wordings == block


def test_a_changed_wording_text_is_refused(tmp_path: Path) -> None:
    mine = {"id": "mine", "likert": {"instruction": "Is this you?", "scale": "From {lo} to {hi}:\n{legend}"}}
    first = manifest(wordings=["default", mine])
    execute_run(first, out=tmp_path / "run", backends={"m": MockBackend(logprobs=True)}, probes=PROBES)
    edited = {**mine, "likert": {**mine["likert"], "instruction": "Is this like you?"}}
    with pytest.raises(ConfigError, match=r"different manifest \(changed: wordings\)"):
        execute_run(
            manifest(wordings=["default", edited]),
            out=tmp_path / "run",
            backends={"m": MockBackend(logprobs=True)},
            probes=PROBES,
        )


def test_resume_with_wordings_asks_only_what_is_missing(tmp_path: Path) -> None:
    m = manifest()
    failing = MockBackend(by_wording, logprobs=True, fail_ids=["i-po"])
    first = execute_run(m, out=tmp_path / "run", backends={"m": failing}, probes=PROBES)
    assert first.n_failed == 6  # i-po in 3 wordings x 2 orders
    again = MockBackend(by_wording, logprobs=True)
    resumed = execute_run(m, out=tmp_path / "run", backends={"m": again}, probes=PROBES)
    assert again.calls == 6 and resumed.n_retried == 6 and resumed.skipped_existing == 12
    assert resumed.n_failed == 0
    block = score_folder(resumed.folder).wordings
    assert block is not None and block.groups[0].profiles["direct"]["Power"] == 1.0


def test_folders_of_one_wording_keep_their_ids_and_resume(tmp_path: Path) -> None:
    """A folder written before wordings existed (0.1) resumes without asking anything again."""
    run = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "data" / "run-0.1", run)
    m = load_manifest(run / "manifest.yaml")
    assert m.wordings == [] and m.repeats == 1
    backend = MockBackend()
    outcome = execute_run(m, out=run, backends={"m": backend})
    assert backend.calls == 0 and outcome.skipped_existing == outcome.n_requests > 0
    summary = score_folder(outcome.folder)
    assert summary.wordings is None and summary.complete


def seeded(req: ModelRequest) -> str:
    """A sampled answer that depends on the seed only: seeds 10, 11 -> 2, seed 12 -> 5."""
    true = 5 if req.config.seed == 12 else 2
    return str(7 - true if req.metadata["reverse_labels"] else true)


def test_repeat_seeds_are_recorded_and_reduced(tmp_path: Path) -> None:
    over: dict[str, Any] = {
        "wordings": [],
        "repeats": 3,
        "seed": 10,
        "generation": {"temperature": 0.7, "max_new_tokens": 4},
        "scoring": {"use_logprobs": False, "n_boot": 0},
    }
    backend = MockBackend(seeded)
    outcome = execute_run(manifest(**over), out=tmp_path / "run", backends={"m": backend}, probes=PROBES[:1])
    assert backend.calls == outcome.n_requests == 6  # 1 item x 2 orders x 3 repeats
    assert sorted(r.config.seed for r in backend.requests_seen) == [10, 10, 11, 11, 12, 12]
    assert all(r.config.temperature == 0.7 for r in backend.requests_seen)
    recs = {r.record_id: r for r in read_records(outcome.folder.responses)}
    assert recs["m|none|i-sd|fwd|r=2"].seed == 12 and recs["m|none|i-sd|fwd|r=2"].repeat == 2
    assert recs["m|none|i-sd|rev|r=0"].seed == 10
    mean = score_folder(outcome.folder)
    # mean of 2, 2, 5 = 3 in each order
    assert mean.groups[0].profile.scores[Value.SELF_DIRECTION] == pytest.approx(3.0)
    assert mean.wordings is not None and mean.wordings.groups[0].profiles["default"]["Self-Direction"] == 3.0
    # the reducer is a scoring setting: switching it re-scores without asking the model again
    mode_m = manifest(**{**over, "scoring": {**over["scoring"], "reducer": "mode"}})
    again = MockBackend(seeded)
    execute_run(mode_m, out=tmp_path / "run", backends={"m": again}, probes=PROBES[:1])
    assert again.calls == 0
    mode = score_folder(outcome.folder)
    assert mode.groups[0].profile.scores[Value.SELF_DIRECTION] == pytest.approx(2.0)
    assert mode.wordings is not None and mode.wordings.reducer == "mode"


def test_wordings_example_manifest_runs_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "run"
    data = tmp_path / "data"
    res = vspec(
        "run",
        str(ROOT / "manifests" / "wordings.yaml"),
        "--out",
        str(out),
        cwd=tmp_path,
        data=data,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "profiles per wording (3 wordings" in res.stdout
    assert "share of item-score variance" in res.stdout
    raw = yaml.safe_load((ROOT / "manifests" / "wordings.yaml").read_text(encoding="utf-8"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    block = summary["wordings"]
    assert len(block["wordings"]) == 3 and block["repeats"] == raw["repeats"]
    n_probes = len((out / "probes.jsonl").read_text(encoding="utf-8").splitlines())
    assert summary["n_records"] == n_probes * 3 * 2 * raw["repeats"] * len(raw["personas"])
    rep = vspec("report", str(out), cwd=tmp_path, data=data, timeout=600)
    assert rep.returncode == 0, rep.stderr[-3000:]
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert 'id="wordings"' in html and "Profile reliability across wordings" in html


def test_evaluate_takes_wordings() -> None:
    import valuespectrum as vs

    res = vs.evaluate(MockBackend(by_wording, logprobs=True), probes=PROBES, wordings=list(TRUE), n_boot=0)
    assert res.summary.wordings is not None
    assert res.summary.wordings.groups[0].profiles["reflective"]["Universalism"] == 6.0
    assert len(res.records) == 18 and {s.wording for s in res.scores} == set(TRUE)
