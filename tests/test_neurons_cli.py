"""``vspec steer neurons locate|edit`` end to end on a tiny Llama (real files, the built-in pairs)."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from tests.tiny_models import build_tiny_text_lm
from valuespectrum.cli import app

pytest.importorskip("torch")


def test_locate_then_edit_end_to_end(tmp_path):
    model = f"hf:{build_tiny_text_lm(family='llama')}"
    out = tmp_path / "neurons"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "steer", "neurons", "locate", "--model", model, "--contrast", "Self-Transcendence:Self-Enhancement",
            "--contrast", "Openness:Conservation", "--k", "6", "--out", str(out), "--n-random", "2",
            "--dtype", "float32",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "locate.json").read_text())
    st = summary["contrasts"]["Self-Transcendence:Self-Enhancement"]
    assert st["size"] == 6 and sum(st["per_layer"].values()) == 6
    # held-out texts: a quarter of the 4 values' pairs, both aspects
    assert st["readout_n"] % 2 == 0 and 0.0 <= st["readout_accuracy"] <= 1.0
    assert len(st["random_readout_accuracy"]) == 2
    assert set(summary["jaccard"]) == {"Openness to Change:Conservation|Self-Transcendence:Self-Enhancement"}
    stem = out / "self-transcendence-self-enhancement"
    for suffix in (".json", ".safetensors", "-stats-a.json", "-stats-b.safetensors"):
        assert (stem.parent / (stem.name + suffix)).is_file()
    meta = json.loads(stem.with_suffix(".json").read_text())
    assert meta["neuron_template"] == "model.layers.{i}.mlp.down_proj"
    assert (
        meta["widths"] == {"0": 64, "1": 64} and len(meta["settings"]["test_pairs"]) == st["readout_n"] // 2
    )

    res = runner.invoke(
        app,
        [
            "steer", "neurons", "edit", "--model", model, "--set", str(stem.with_suffix(".json")), "--mode", "patch",
            "--gamma", "1", "--n-random", "2", "--out", str(tmp_path / "edit.json"), "--dtype", "float32",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "edit.json").read_text())
    assert rep["mode"] == "patch" and rep["n_pairs"] == st["readout_n"] // 2
    (eff,) = rep["effects"]
    assert len(eff["random"]) == 2 and all(math.isfinite(x) for x in eff["random"])
    assert "baseline preference" in res.output

    # scale with gamma 1 changes nothing: every effect is exactly zero
    res = runner.invoke(
        app,
        [
            "steer", "neurons", "edit", "--model", model, "--set", str(stem.with_suffix(".json")), "--mode", "scale",
            "--gamma", "1", "--n-random", "2", "--out", str(tmp_path / "scale.json"),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    (eff,) = json.loads((tmp_path / "scale.json").read_text())["effects"]
    assert eff["target"] == 0.0 and eff["opposite"] is None and eff["random"] == [0.0, 0.0]


def test_bad_options_fail_with_a_clear_message(tmp_path):
    res = CliRunner().invoke(
        app,
        ["steer", "neurons", "edit", "--model", "hf:x", "--set", str(tmp_path / "s.json"), "--mode", "boost"],
    )
    assert res.exit_code != 0
    assert "--mode 'boost'" in str(res.exception) + res.output
