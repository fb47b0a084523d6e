"""`vspec steer eval` as an ordinary probe run, end to end on a tiny model: a kill -9 resumes to
the records of a clean run, the response cache serves a repeat, `vspec score` and `vspec report`
work on its folder, and its persona rows are those of a `vspec run` of the same personas."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from cli_runs import kill_cli_at_lines
from typer.testing import CliRunner

from valuespectrum.cli import app
from valuespectrum.runs.jsonl import read_jsonl

pytest.importorskip("torch")
pytestmark = pytest.mark.slow

# 10 portrait items (one per value) x 2 label orders x (3 base personas + 1 steered + 2 random)
N_REQUESTS = 10 * 2 * (3 + 1 + 2)


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    """An extract manifest and an eval manifest in tmp/cfg, with paths relative to that folder."""
    from tests.tiny_models import build_tiny_text_lm

    cfg = tmp_path / "cfg"
    cfg.mkdir()
    model = {"spec": f"hf:{build_tiny_text_lm(family='llama')}", "label": "tiny"}
    model["options"] = {"device": "cpu", "dtype": "float32", "batch_size": 1}
    (cfg / "x.yaml").write_text(
        json.dumps(
            {
                "model": model,
                "layers": [1],
                "values": ["power"],
                "out": "vec",
                "test_fraction": 0.3,
                "batch_size": 32,
            }
        )
    )
    res = CliRunner().invoke(app, ["steer", "extract", str(cfg / "x.yaml")])
    assert res.exit_code == 0, res.output
    assert (cfg / "vec" / "power-caa.json").is_file()  # `out: vec` is read from the manifest's folder
    return cfg, cfg / "vec" / "power-caa.json"


def _eval_manifest(cfg: Path, name: str, out: str, cache: str | bool = False) -> Path:
    path = cfg / name
    path.write_text(
        json.dumps(
            {
                "model": {
                    "spec": json.loads((cfg / "x.yaml").read_text())["model"]["spec"],
                    "label": "tiny",
                    "options": {"device": "cpu", "dtype": "float32", "batch_size": 1},
                },
                "vectors": ["vec/power-caa.json"],
                "probes": {"banks": ["portrait"], "limit_per_value": 1},
                "multipliers": [4.0],
                "n_random": 2,
                "fluency": False,
                "capability": False,
                "batch_size": 1,
                "cache": cache,
                "out": out,
            }
        )
    )
    return path


def _records(run: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for rec in read_jsonl(run / "responses.jsonl"):
        resp = {k: v for k, v in rec["response"].items() if k not in ("latency_s", "cached")}
        out[rec["record_id"]] = {**rec, "response": resp}
    return out


def _eval(manifest: Path) -> Any:
    res = CliRunner().invoke(app, ["steer", "eval", str(manifest)])
    assert res.exit_code == 0, res.output
    return res


def test_killed_eval_resumes_to_the_clean_run_and_the_folder_is_a_run(tmp_path: Path) -> None:
    cfg, _ = _setup(tmp_path)
    clean = _eval_manifest(cfg, "clean.yaml", "clean", cache="c.sqlite")
    _eval(clean)
    want = _records(cfg / "clean")
    assert len(want) == N_REQUESTS

    killed = _eval_manifest(cfg, "killed.yaml", "killed")
    responses = cfg / "killed" / "responses.jsonl"
    returncode = kill_cli_at_lines(["steer", "eval", str(killed)], tmp_path, responses, 20, timeout_s=300)
    at_kill = responses.read_text().count("\n")
    assert returncode == -signal.SIGKILL and 20 <= at_kill < N_REQUESTS  # killed mid-run
    assert not (cfg / "killed" / "steering" / "report.json").exists()
    _eval(killed)  # the same command again resumes
    got = _records(cfg / "killed")
    assert sum(1 for _ in read_jsonl(responses)) == N_REQUESTS  # no duplicates, nothing lost
    assert got == want
    a = json.loads((cfg / "clean" / "steering" / "report.json").read_text())
    b = json.loads((cfg / "killed" / "steering" / "report.json").read_text())
    assert [c["profile"] for c in a["conditions"]] == [c["profile"] for c in b["conditions"]]
    assert a["effects"] == b["effects"] and a["run_dir"].endswith("clean")

    # steered, random and unsteered conditions have their own model ids and cache keys
    by_model: dict[str, set[str]] = {}
    for rec in want.values():
        by_model.setdefault(rec["model"], set()).add(rec["model_id"])
    assert len(by_model) == 4 and all(len(ids) == 1 for ids in by_model.values())
    assert len({i for ids in by_model.values() for i in ids}) == 4
    assert by_model["tiny+steer:Power:caa:4"].pop().startswith(by_model["tiny"].pop() + "+steer:")
    # a repeat through the same cache file is answered from it, with the same answers
    repeat = _eval_manifest(cfg, "repeat.yaml", "repeat", cache="c.sqlite")
    _eval(repeat)
    rep = list(read_jsonl(cfg / "repeat" / "responses.jsonl"))
    assert len(rep) == N_REQUESTS and all(r["response"]["cached"] for r in rep)
    assert _records(cfg / "repeat") == want

    # the folder is an ordinary run: re-scored and reported like any
    res = CliRunner().invoke(app, ["score", str(cfg / "clean")])
    assert res.exit_code == 0, res.output
    summary = json.loads((cfg / "clean" / "summary.json").read_text())
    groups = {(g["model"], g["persona"]): g for g in summary["groups"]}
    assert set(groups) == {
        ("tiny", "none"),
        ("tiny", "neutral"),
        ("tiny", "value-power"),
        ("tiny+steer:Power:caa:4", "none"),
        ("tiny+random:Power:caa:4:0", "none"),
        ("tiny+random:Power:caa:4:1", "none"),
    }
    assert all(g["n_records"] == 20 for g in groups.values())
    assert {(s["model"], s["persona"]) for s in summary["steerability"]["personas"]} == {
        ("tiny", "neutral"),
        ("tiny", "value-power"),
    }
    res = CliRunner().invoke(app, ["report", str(cfg / "clean")])
    assert res.exit_code == 0, res.output
    assert "steering" in res.output and "profiles" in res.output
    assert (cfg / "clean" / "report" / "report.html").is_file()


def test_persona_rows_equal_a_vspec_run_of_the_same_personas(tmp_path: Path) -> None:
    cfg, _ = _setup(tmp_path)
    _eval(_eval_manifest(cfg, "e.yaml", "steer-run"))
    model = json.loads((cfg / "x.yaml").read_text())["model"]
    (cfg / "run.yaml").write_text(
        json.dumps(
            {
                "name": "plain",
                "models": [model],
                "probes": {"banks": ["portrait"], "limit_per_value": 1},
                "personas": ["none", "neutral", "value-power"],
                "batch_size": 1,
                "cache": False,
                "output_dir": "runs",
            }
        )
    )
    res = CliRunner().invoke(app, ["run", str(cfg / "run.yaml")])
    assert res.exit_code == 0, res.output
    plain = _records(cfg / "runs" / "plain")
    steer = {k: v for k, v in _records(cfg / "steer-run").items() if v["model"] == "tiny"}
    assert len(plain) == 60 and plain == steer
