"""The run path end to end with the scripted mock backend; expected scores computed by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.bank import load_bank
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.jsonl import read_jsonl
from valuespectrum.runs.score import score_run
from valuespectrum.types import GenerateConfig, ModelRequest, ModelResponse
from valuespectrum.values import Value

BANK = load_bank("portrait")
PROBES = {p.id: p for p in BANK.probes}


def power_lover(req: ModelRequest) -> str:
    """Rates every Power item 6 and everything else 2, answering in the presented order."""
    probe = PROBES[req.metadata["probe_id"]]
    true = 6 if Value.POWER in probe.keys else 2
    presented = 7 - true if req.metadata["reverse_labels"] else true
    return str(presented)


def manifest(tmp_path: Path, **over: object):
    raw = {
        "name": "t",
        "models": [{"spec": "mock", "label": "m"}],
        "probes": {"banks": ["portrait"]},
        "personas": ["none"],
        "scoring": {"n_boot": 200},
        "batch_size": 7,
        "cache": False,
        "output_dir": str(tmp_path / "runs"),
    }
    raw.update(over)
    return parse_manifest(raw)


def factory_for(backend):
    return lambda spec, options, label: backend


def expected_power_scores() -> tuple[float, float, float]:
    pos = sum(1 for p in BANK.probes if p.keys.get(Value.POWER, 0) > 0)
    neg = sum(1 for p in BANK.probes if p.keys.get(Value.POWER, 0) < 0)
    power = (pos * 6 + neg * 1) / (pos + neg)  # reverse-keyed: 7 - 6 = 1
    other_pos = sum(1 for p in BANK.probes if p.keys.get(Value.SECURITY, 0) > 0)
    other_neg = sum(1 for p in BANK.probes if p.keys.get(Value.SECURITY, 0) < 0)
    security = (other_pos * 2 + other_neg * 5) / (other_pos + other_neg)
    n_power = pos + neg
    mrat = (n_power * 6 + (len(BANK.probes) - n_power) * 2) / len(BANK.probes)
    return power, security, mrat


def test_run_scores_match_hand_computation(tmp_path: Path) -> None:
    m = manifest(tmp_path)
    backend = MockBackend(power_lover)
    outcome = execute_run(m, out=tmp_path / "run", backend_factory=factory_for(backend))
    assert outcome.n_requests == 2 * len(BANK.probes) and outcome.n_failed == 0
    summary = score_run(outcome.folder)
    g = summary["groups"][0]
    prof = g["profile"]
    power, security, mrat = expected_power_scores()
    assert prof["scores"]["Power"] == pytest.approx(power)
    assert prof["scores"]["Security"] == pytest.approx(security)
    assert prof["mrat"] == pytest.approx(mrat)
    assert prof["centred"]["Power"] == pytest.approx(power - mrat)
    # the same answers read in both label orders agree exactly
    assert g["by_order"]["fwd"]["Power"] == pytest.approx(g["by_order"]["rev"]["Power"])
    assert g["n_parsed"] == 2 * len(BANK.probes) and g["n_unparsed"] == 0
    folder = RunFolder(tmp_path / "run")
    for p in (
        folder.manifest,
        folder.header,
        folder.probes,
        folder.responses,
        folder.scores,
        folder.summary_csv,
    ):
        assert p.is_file(), p
    header = json.loads(folder.header.read_text())
    assert header["seed"] == 0 and "packages" in header


def test_acquiescent_model_is_neutralised_by_reversed_labels(tmp_path: Path) -> None:
    outcome = execute_run(
        manifest(tmp_path), out=tmp_path / "run", backend_factory=factory_for(MockBackend(default="5"))
    )
    g = score_run(outcome.folder)["groups"][0]
    # "5" forward means 5; "5" with reversed labels means 2; positive items average 3.5
    assert g["by_order"]["fwd"]["Power"] != pytest.approx(g["by_order"]["rev"]["Power"])
    assert g["profile"]["mrat"] == pytest.approx(3.5)


def test_unparsed_answers_are_counted_not_scored(tmp_path: Path) -> None:
    backend = MockBackend(lambda r: "maybe" if r.metadata["probe_id"].endswith(("1", "3")) else "4")
    outcome = execute_run(manifest(tmp_path), out=tmp_path / "run", backend_factory=factory_for(backend))
    summary = score_run(outcome.folder)
    n_bad = 2 * sum(1 for p in BANK.probes if p.id.endswith(("1", "3")))
    assert n_bad > 0
    assert summary["n_unparsed"] == n_bad
    scores = [json.loads(x) for x in (tmp_path / "run" / "scores.jsonl").read_text().splitlines()]
    assert sum(1 for s in scores if s["answer"]["status"] == "unparsed") == n_bad
    assert all(s["items"] == [] for s in scores if s["answer"]["status"] == "unparsed")


class Killer(MockBackend):
    """Dies like a killed process after ``n`` batches."""

    def __init__(self, n: int) -> None:
        super().__init__(power_lover)
        self.n = n

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        if self.n == 0:
            raise KeyboardInterrupt
        self.n -= 1
        return super().generate(requests)


def test_killed_run_resumes_without_duplicates_or_losses(tmp_path: Path) -> None:
    m = manifest(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        execute_run(m, out=tmp_path / "run", backend_factory=factory_for(Killer(3)))
    responses = tmp_path / "run" / "responses.jsonl"
    assert len(list(read_jsonl(responses))) == 21
    with open(responses, "a", encoding="utf-8") as fh:  # a torn line from the kill
        fh.write('{"record_id": "m|none|')
    second = MockBackend(power_lover)
    outcome = execute_run(m, out=tmp_path / "run", backend_factory=factory_for(second))
    assert second.calls == 2 * len(BANK.probes) - 21
    ids = [r["record_id"] for r in read_jsonl(responses)]
    assert len(ids) == len(set(ids)) == 2 * len(BANK.probes)
    resumed = score_run(outcome.folder)
    clean = score_run(
        execute_run(m, out=tmp_path / "clean", backend_factory=factory_for(MockBackend(power_lover))).folder
    )
    assert resumed["groups"][0]["profile"]["scores"] == clean["groups"][0]["profile"]["scores"]


def test_failures_are_recorded_and_counted(tmp_path: Path) -> None:
    fail = [p.id for p in BANK.probes[:5]]
    outcome = execute_run(
        manifest(tmp_path),
        out=tmp_path / "run",
        backend_factory=factory_for(MockBackend(power_lover, fail_ids=fail)),
    )
    assert outcome.n_failed == 10
    summary = score_run(outcome.folder)
    assert summary["n_failed"] == 10 and summary["failure_rate"] == pytest.approx(10 / (2 * len(BANK.probes)))


def test_other_manifest_in_same_folder_is_refused(tmp_path: Path) -> None:
    from valuespectrum.errors import ConfigError

    execute_run(
        manifest(tmp_path), out=tmp_path / "run", backend_factory=factory_for(MockBackend(power_lover))
    )
    other = manifest(tmp_path, personas=["none", "neutral"])
    with pytest.raises(ConfigError, match="different manifest"):
        execute_run(other, out=tmp_path / "run", backend_factory=factory_for(MockBackend(power_lover)))
    outcome = execute_run(
        other, out=tmp_path / "run", fresh=True, backend_factory=factory_for(MockBackend(power_lover))
    )
    assert outcome.n_new == 4 * len(BANK.probes)


def _agreement_probe(**metadata: object):
    probe = load_bank("agreement").probes[0]
    return probe.model_copy(update={"metadata": {**probe.metadata, **metadata}})


def test_text_is_generated_only_where_the_run_needs_it(tmp_path: Path) -> None:
    from valuespectrum.runs.execute import needs_text

    m = manifest(tmp_path)
    likert, yes_no = BANK.probes[0], _agreement_probe()
    # Answers read from option scores and the prompt asks for the answer only: no text.
    assert not needs_text(likert, m, scores_options=True)
    assert not needs_text(yes_no, m, scores_options=True)
    # A reason or a custom instruction is asked for: keep the text.
    assert needs_text(_agreement_probe(ask_reason=True), m, scores_options=True)
    assert needs_text(_agreement_probe(instruction="Say Yes or No and why."), m, scores_options=True)
    # The answer is read from the text.
    assert needs_text(likert, m, scores_options=False)
    assert needs_text(likert, manifest(tmp_path, scoring={"use_logprobs": False}), scores_options=True)
    assert needs_text(yes_no, manifest(tmp_path, prompt_style="simple"), scores_options=True)
    # The manifest can switch text off for every request with options.
    off = manifest(tmp_path, generation={"max_new_tokens": 16, "generate_text": False})
    assert not needs_text(_agreement_probe(ask_reason=True), off, scores_options=True)

    # End to end: a backend that scores options gets score-only requests for Likert items...
    scorer = MockBackend(power_lover, logprobs=True)
    execute_run(m, out=tmp_path / "lp", backend_factory=factory_for(scorer))
    assert len(scorer.requests_seen) == 2 * len(BANK.probes)
    assert not any(r.config.generate_text for r in scorer.requests_seen)
    records = list(read_jsonl(RunFolder(tmp_path / "lp").responses))
    with_text = ModelRequest(
        request_id="x",
        messages=records[0]["messages"],
        options=records[0]["options"],
        config=GenerateConfig(max_new_tokens=16),
    )
    score_only = with_text.model_copy(update={"config": scorer.requests_seen[0].config})
    assert score_only.config == GenerateConfig(max_new_tokens=16, generate_text=False)
    assert records[0]["request_key"] == score_only.key("mock") != with_text.key("mock")
    # ...and one that cannot score them is asked for text.
    texter = MockBackend(power_lover)
    execute_run(m, out=tmp_path / "txt", backend_factory=factory_for(texter))
    assert all(r.config.generate_text for r in texter.requests_seen)
