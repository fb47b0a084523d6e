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
