"""Steering manifests are run specs: the model entry, output folder, cache and thresholds of run
manifests, every path from the manifest's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.manifest import load_manifest as load_run_manifest
from valuespectrum.runs.spec import RunSpecBase
from valuespectrum.steering.manifest import EvalManifest, load_manifest

BASE = "vectors: [v/power.json]\nprobes: portrait\nmultipliers: [2.0]\n"


def _write(folder: Path, text: str, name: str = "eval.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_eval_manifest_is_a_run_spec_with_run_defaults(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "manifests", BASE + "model: {spec: mock, label: base, options: {default: '3'}}\n"
    )
    m = load_manifest(path, EvalManifest)
    assert isinstance(m, RunSpecBase)
    assert (m.model.spec, m.model.label, m.model.options) == ("mock", "base", {"default": "3"})
    assert m.run_dir(path.parent) == tmp_path / "manifests" / "runs" / "run"  # output_dir/name
    assert (m.cache, m.max_failure_rate, m.max_unparsed_rate) == (True, 0.0, 1.0)
    assert m.cache_setting(path.parent) is True


def test_paths_resolve_against_the_manifest_folder(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "m",
        BASE + "model: models/tiny\nname: ev\noutput_dir: ../out\ncache: cache/steer.sqlite\n",
    )
    m = load_manifest(path, EvalManifest)
    assert m.model.spec == "hf:models/tiny"  # a bare path is an hf model, as in run manifests
    assert m.run_dir(path.parent) == tmp_path / "m" / ".." / "out" / "ev"
    assert m.cache_setting(path.parent) == str(tmp_path / "m" / "cache" / "steer.sqlite")
    out = load_manifest(
        _write(tmp_path / "m", BASE + "model: mock\nout: here\ncache: refresh\n", "b.yaml"), EvalManifest
    )
    assert (
        out.run_dir(tmp_path / "m") == tmp_path / "m" / "here"
        and out.cache_setting(tmp_path / "m") == "refresh"
    )


def test_the_same_model_entry_is_accepted_by_run_and_steering_manifests(tmp_path: Path) -> None:
    entry = "{spec: mock, label: base, options: {default: '3'}}"
    run = _write(tmp_path, f"models: [{entry}]\nprobes: {{banks: [portrait]}}\n", "run.yaml")
    ev = _write(tmp_path, BASE + f"model: {entry}\n")
    assert load_run_manifest(run).models[0].model_dump() | {"modalities": None, "personas": None} == (
        load_manifest(ev, EvalManifest).model.model_dump() | {"modalities": None, "personas": None}
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("model: {spec: mock, lable: x}\n", "field 'model.lable': unknown field"),
        ("model: mock\nmax_failure_rate: 1.5\n", "field 'max_failure_rate'"),
        ("model: mock\npersonas: [value-power]\n", "chosen by the evaluation"),
        ("model: mock\nname: ../escape\n", "field 'name'"),
    ],
)
def test_bad_fields_are_one_line_errors_naming_file_and_field(
    tmp_path: Path, extra: str, needle: str
) -> None:
    path = _write(tmp_path, BASE + extra)
    with pytest.raises(ConfigError) as err:
        load_manifest(path, EvalManifest)
    assert str(err.value).startswith(f"{path}: ") and needle in str(err.value), str(err.value)


def test_conva_modes_are_eval_modes_with_p0_multipliers_and_a_gate(tmp_path: Path) -> None:
    gate = "gate: {pooling: last, threshold: 0.6}\n"
    m = load_manifest(
        _write(tmp_path, BASE.replace("[2.0]", "[0.9, 0.95]") + "model: mock\nmode: conva_raise\n" + gate),
        EvalManifest,
    )
    assert (m.mode, m.multipliers) == ("conva_raise", [0.9, 0.95])
    assert m.gate is not None and (m.gate.pooling, m.gate.threshold) == ("last", 0.6)
    lower = load_manifest(
        _write(tmp_path, BASE.replace("[2.0]", "[0.1]") + "model: mock\nmode: conva_lower\n", "l.yaml"),
        EvalManifest,
    )
    assert (lower.mode, lower.gate) == ("conva_lower", None)
    with pytest.raises(ConfigError, match=r"in mode: conva_lower the multipliers are p0 targets"):
        load_manifest(_write(tmp_path, BASE + "model: mock\nmode: conva_lower\n", "bad.yaml"), EvalManifest)
    with pytest.raises(ConfigError, match=r"field 'mode'"):
        load_manifest(_write(tmp_path, BASE + "model: mock\nmode: conva\n", "bad2.yaml"), EvalManifest)


def test_vspec_steer_eval_runs_the_conva_shift_with_a_gate(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import json

    from typer.testing import CliRunner

    from tests.probe_banks import write_definition_bank
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.cli import app
    from valuespectrum.steering.evaluate import SteeringReport
    from valuespectrum.values import Value

    model = build_tiny_text_lm(family="llama")
    runner = CliRunner()
    vec = tmp_path / "vec"
    _write(
        tmp_path,
        f"model: {model}\nlayers: [0, 1]\nvalues: [power]\nout: {vec}\ntest_fraction: 0.3\nbatch_size: 32\n",
        "x.yaml",
    )
    res = runner.invoke(app, ["steer", "extract", str(tmp_path / "x.yaml")])
    assert res.exit_code == 0, res.output
    write_definition_bank(tmp_path / "bank.json", [Value.POWER, Value.UNIVERSALISM])
    run = tmp_path / "run"
    _write(
        tmp_path,
        f"model: {model}\nvectors: [{vec / 'power-probe.json'}]\nprobes: {tmp_path / 'bank.json'}\n"
        f"mode: conva_raise\nmultipliers: [0.99]\nn_random: 2\nfluency: false\ncapability: false\n"
        f"out: {run}\ncache: false\ngate: {{threshold: 0.5, layer: 0}}\n",
        "e.yaml",
    )
    res = runner.invoke(app, ["steer", "eval", str(tmp_path / "e.yaml")])
    assert res.exit_code == 0, res.output
    report = SteeringReport.model_validate_json((run / "steering" / "report.json").read_text())
    cond = report.condition("steer:Power:probe:0.99")
    assert cond.steered_share is not None and 0.0 <= cond.steered_share <= 1.0
    # the run's manifest gives each steered model (vector and two random controls) the mode
    assert (run / "manifest.yaml").read_text().count("mode: conva_raise") == 3
    # and the shift changed the option log-likelihoods of the steered condition
    rows = [json.loads(line) for line in (run / "responses.jsonl").read_text().splitlines()]
    by = {
        (r["model"], r["probe_id"], r["order"]): r["response"]["option_logprobs"]
        for r in rows
        if r["persona"] == "none"
    }
    base = {k[1:]: v for k, v in by.items() if "+" not in k[0]}
    steered = {k[1:]: v for k, v in by.items() if k[0].endswith("+steer:Power:probe:0.99")}
    assert steered.keys() == base.keys() and any(steered[k] != base[k] for k in base)
