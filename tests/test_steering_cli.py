"""The steer sub-app end to end on a tiny model, and manifest errors that name the field."""

from __future__ import annotations

import json

import pytest
from probe_banks import write_definition_bank
from typer.testing import CliRunner

from valuespectrum.steering.cli import app
from valuespectrum.values import Value

pytest.importorskip("torch")


def test_extract_then_eval(tmp_path):
    from tests.tiny_models import build_tiny_text_lm

    model = build_tiny_text_lm(family="llama")
    (tmp_path / "x.yaml").write_text(
        f"model: {model}\nlayers: [1]\nvalues: [power]\nout: {tmp_path / 'vec'}\ntest_fraction: 0.3\nbatch_size: 32\n"
    )
    runner = CliRunner()
    res = runner.invoke(app, ["extract", str(tmp_path / "x.yaml")])
    assert res.exit_code == 0, res.output
    acc = json.loads((tmp_path / "vec" / "accuracy.json").read_text())
    assert set(acc) == {"Power"} and set(acc["Power"]) == {"1"}
    write_definition_bank(tmp_path / "bank.json", Value)
    (tmp_path / "e.yaml").write_text(
        f"model: {model}\nvectors: [{tmp_path / 'vec' / 'power-caa.json'}]\nprobes: {tmp_path / 'bank.json'}\n"
        f"multipliers: [2.0]\nn_random: 2\nfluency: false\ncapability: false\nout: {tmp_path / 'ev'}\ncache: false\n"
    )
    res = runner.invoke(app, ["eval", str(tmp_path / "e.yaml")])
    assert res.exit_code == 0, res.output
    out = tmp_path / "ev" / "steering"
    report = json.loads((out / "report.json").read_text())
    assert [c["kind"] for c in report["conditions"]].count("random") == 2
    assert (out / "effects.png").is_file() and "Power x2" in res.output
    # 1 steered + 1 persona row; 6 conditions are too few runs for correlations, and the file says so
    inter = json.loads((out / "interdependence.json").read_text())
    assert inter["n_runs"] == 6 and inter["correlation"] is None and "skipped" in inter["notes"][0]
    assert (out / "manifest.yaml").read_text() == (tmp_path / "e.yaml").read_text()


def test_manifest_error_names_file_and_field(tmp_path):
    from valuespectrum.errors import ConfigError

    (tmp_path / "bad.yaml").write_text("model: m\nlayers: []\nout: o\nsurprise: 1\n")
    res = CliRunner().invoke(app, ["extract", str(tmp_path / "bad.yaml")])
    assert isinstance(res.exception, ConfigError)
    msg = str(res.exception)
    assert "bad.yaml" in msg and "field 'layers'" in msg and "field 'surprise'" in msg


def test_eval_names_the_builtin_banks_when_the_probe_file_is_missing(tmp_path):
    from valuespectrum.errors import ConfigError

    (tmp_path / "e.yaml").write_text(
        "model: m\nvectors: [v.json]\nprobes: no-such-bank\nmultipliers: [1.0]\nout: o\n"
    )
    res = CliRunner().invoke(app, ["eval", str(tmp_path / "e.yaml")])
    assert isinstance(res.exception, ConfigError)
    assert "field 'probes'" in str(res.exception) and "built-in bank (portrait" in str(res.exception)


def test_example_manifests_resolve_paths_from_their_folder():
    from pathlib import Path

    from valuespectrum.runs.setup import under
    from valuespectrum.steering.manifest import EvalManifest, ExtractManifest, load_manifest

    x = load_manifest("manifests/steer_extract.yaml", ExtractManifest)
    e = load_manifest("manifests/steer_eval.yaml", EvalManifest)
    base = Path("manifests")
    assert x.model.spec == e.model.spec == "hf:vspec-demo/models/SmolLM2-135M-Instruct"
    # the eval reads the vectors where extract wrote them, both relative to manifests/
    assert (under(base, x.out) / "power-probe.json").resolve() == under(base, e.vectors[1]).resolve()
    assert under(base, e.out).resolve() == Path("runs/steer-eval").resolve()
    assert e.gate is not None and under(base, e.gate.detectors["Power"]).resolve() == (
        Path("runs/steer-vectors/power-detector.json").resolve()
    )
