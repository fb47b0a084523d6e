"""A steered tiny model browses the demo index through `vspec browse`, beside the same model unsteered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from agents.session import BrowseFolder
from valuespectrum.runs.jsonl import read_jsonl

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow


def _probs(reason: str) -> list[float]:
    return [float(x) for x in re.findall(r"=([0-9.]+)", reason)]


def test_steered_model_browses_and_its_drift_is_measured(demo_index: Path, tmp_path: Path) -> None:
    from tests.test_agent_demo import _invoke
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import Value

    path = build_tiny_text_lm(family="llama")
    d = HFBackend(str(path), device="cpu", dtype="float32").model.config.hidden_size
    gen = torch.Generator().manual_seed(7)
    SteeringVector(
        Value.POWER, "caa", {1: 8.0 * torch.randn(d, generator=gen)}, "tiny", "model.layers.{i}", "sha256:t"
    ).save(tmp_path / "vec" / "power-caa")
    common = {"modality": "text", "decision": "likelihood"}
    opts = {"device": "cpu", "dtype": "float32"}
    result = _invoke(
        {
            "name": "steered",
            "models": [
                {"spec": f"hf:{path}", "label": "plain", "options": opts, **common},
                {
                    "spec": f"steered:hf:{path}",
                    "label": "steered",
                    # the vector path is relative to the manifest's folder (tmp_path)
                    "options": {"vector": "vec/power-caa.json", "strength": 2.0, "model_options": opts},
                    **common,
                },
            ],
            "personas": ["value-achievement"],
            "index": {"data_dir": str(demo_index)},
            "phases": {"training": 6, "evaluation": 3},
            "output_dir": "runs",
        },
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    folder = BrowseFolder(tmp_path / "runs" / "steered")
    plain = list(read_jsonl(folder.trajectory("plain", "value-achievement")))
    steered = list(read_jsonl(folder.trajectory("steered", "value-achievement")))
    assert len(plain) == len(steered) == 9 and not any(r["failed"] for r in plain + steered)
    # the first video is the same seeded pick; the steered model answers it differently, under its own key
    assert plain[0]["video_id"] == steered[0]["video_id"] and plain[0]["prompt"] == steered[0]["prompt"]
    assert plain[0]["request_key"] != steered[0]["request_key"]
    assert _probs(plain[0]["decision"]["reason"]) != pytest.approx(
        _probs(steered[0]["decision"]["reason"]), abs=1e-3
    )
    # drift per session, by hand: the feed's target affinity at the last step minus the first
    summary = json.loads(folder.summary.read_text())
    by = {s["model"]: s for s in summary["sessions"]}
    for name, recs in (("plain", plain), ("steered", steered)):
        aff = [r["feed"]["target_affinity"] for r in recs if r["feed"].get("target_affinity") is not None]
        assert by[name]["drift"]["interest_change"] == pytest.approx(aff[-1] - aff[0])
    caused = by["steered"]["drift"]["interest_change"] - by["plain"]["drift"]["interest_change"]
    print(f"\ndrift the vector causes (interest change, steered - plain): {caused:+.4f}")
    stored = yaml.safe_load(folder.manifest.read_text())
    assert stored["models"][1]["options"]["vector"] == "vec/power-caa.json"
