"""``vspec steer judged`` end to end on a tiny model with a scripted judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from valuespectrum.errors import ConfigError

FIXTURE = Path(__file__).parent / "data" / "mmlu-fixture"


def test_vspec_steer_judged_writes_calibrated_gated_and_robustness_results(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from typer.testing import CliRunner

    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.cli import app

    model = build_tiny_text_lm(family="llama")
    runner = CliRunner()
    vec = tmp_path / "vec"
    (tmp_path / "x.yaml").write_text(
        f"model: {model}\nlayers: [0, 1]\nvalues: [benevolence]\nout: {vec}\ntest_fraction: 0.3\n"
        "detector_layer: 0\nbatch_size: 32\n"
    )
    res = runner.invoke(app, ["steer", "extract", str(tmp_path / "x.yaml")])
    assert res.exit_code == 0, res.output
    (tmp_path / "q.txt").write_text("Should I help my neighbour?\n\nWhat should I cook tonight?\n")
    (tmp_path / "j.yaml").write_text(
        f"model: {model}\nvector: vec/benevolence-caa.json\nlayers: [1]\nquestions: q.txt\n"
        "judge: {spec: mock, options: {default: 'Yes'}}\nsettings: [none, negative]\nmax_new_tokens: 3\n"
        "gated: {vector: vec/benevolence-probe.json, mode: conva_raise, p0: 0.9, layers: [0, 1],\n"
        "        detector: vec/benevolence-detector.json, threshold: 0.5}\n"
        f"mmlu: {{folder: {FIXTURE}, k: 2}}\nout: res\n"
    )
    res = runner.invoke(app, ["steer", "judged", str(tmp_path / "j.yaml")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "res" / "judged.json").read_text())
    plain, robust = data["settings"]
    assert (plain["setting"]["persona"], robust["setting"]["persona"]) == ("none", "negative")
    assert robust["setting"]["persona_text"].startswith("You are someone who places very little importance")
    names = [c["name"] for c in plain["conditions"]]
    assert names == ["none", "vector", "random0", "random1", "gated", "gated_random0", "gated_random1"]
    assert all(c["mmlu_accuracy"] is not None for c in plain["conditions"])
    assert all(c["mmlu_accuracy"] is None for c in robust["conditions"])  # measured once
    # the judge always says Yes: on the shipped set (22 Yes / 19 No for CSR, 32 / 9 fluent)
    # exact agreement 22/41 and 32/41, kappa 0 (p_o equals p_e); every answer gets reward 1
    for d in (plain, robust):
        assert d["csr_judge"]["status"] == "calibrated"
        assert d["csr_judge"]["exact"] == pytest.approx(22 / 41)
        assert d["csr_judge"]["kappa"] == pytest.approx(0.0)
        assert d["fluency_judge"]["exact"] == pytest.approx(32 / 41)
        assert all(c["csr"]["mean"] == 1.0 and c["csr"]["n"] == 2 for c in d["conditions"])
    assert plain["setting"]["gated"]["gate"]["source"] == "vec/benevolence-detector.json"
    summary = (tmp_path / "res" / "summary.txt").read_text()
    assert "exact 0.537, kappa 0.000" in summary and "persona: negative" in summary
    assert "exact 0.537, kappa 0.000" in res.output

    (tmp_path / "u.yaml").write_text(
        f"model: {model}\nvector: vec/benevolence-caa.json\nquestions: q.txt\ncalibration: none\n"
        "judge: {spec: mock, options: {default: 'No'}}\nmax_new_tokens: 2\nout: res2\n"
    )
    res = runner.invoke(app, ["steer", "judged", str(tmp_path / "u.yaml")])
    assert res.exit_code == 0, res.output
    (only,) = json.loads((tmp_path / "res2" / "judged.json").read_text())["settings"]
    assert only["csr_judge"]["status"] == only["fluency_judge"]["status"] == "uncalibrated"
    assert [c["name"] for c in only["conditions"]] == ["none", "vector", "random0", "random1"]
    assert res.output.count("uncalibrated judge") == 4


def test_judged_manifest_errors_name_the_file_and_field(tmp_path: Path) -> None:
    from valuespectrum.steering.judged_run import read_questions, run_judged

    (tmp_path / "bad.yaml").write_text("model: mock\nvector: v.json\nquestions: q.txt\nsettings: [hostile]\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: .*field 'settings\.0'"):
        run_judged(tmp_path / "bad.yaml")
    (tmp_path / "q.jsonl").write_text('{"question": "Q1?"}\n{"text": "Q2?"}\n')
    with pytest.raises(ConfigError, match=r"q\.jsonl: line 2: field 'question' is missing"):
        read_questions(tmp_path / "q.jsonl")
    (tmp_path / "q.jsonl").write_text('{"question": "Q1?"}\n{"question": \n')
    with pytest.raises(ConfigError, match=r"q\.jsonl line 2: not valid JSON"):
        read_questions(tmp_path / "q.jsonl")
    (tmp_path / "p0.yaml").write_text("model: mock\nvector: v.json\nquestions: q.txt\nmode: conva_raise\n")
    with pytest.raises(ConfigError, match=r"p0\.yaml: .*'strength' is the p0 target"):
        run_judged(tmp_path / "p0.yaml")
