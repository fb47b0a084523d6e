"""`vspec run` + `vspec report` on the real demo corpus with tiny random VLMs (no download).

The same VLM answers every item from its frames (vision) and from the caption alone (text),
with and without a persona, both label orders; the answers are read from option
log-likelihoods, so every answer parses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_cli import vspec
from tiny_models import build_tiny_vlm

from valuespectrum.values import CIRCUMPLEX


@pytest.mark.parametrize(("family", "frames"), [("qwen2_vl", "all"), ("smolvlm", "middle")])
def test_tiny_vlm_value_spectrum_run_end_to_end(
    tmp_path: Path, demo_index: Path, family: str, frames: str
) -> None:
    model = build_tiny_vlm(None, family)
    raw = {
        "name": "tiny-vlm",
        "models": [{"spec": f"hf:{model}", "label": f"tiny-{family}", "options": {"device": "cpu"}}],
        "probes": {
            "banks": [],
            "from_index": {"data_dir": str(demo_index), "per_value": 1, "frames": frames},
        },
        "personas": ["none", "value-power"],
        "modalities": ["vision", "text"],
        "controls": {"reverse_labels": True},
        "scoring": {"use_logprobs": True, "n_boot": 100},
        "generation": {"max_new_tokens": 4},
        "cache": False,
        "output_dir": "runs",
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    res = vspec("run", "m.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    run = tmp_path / "runs" / "tiny-vlm"
    summary = json.loads((run / "summary.json").read_text())
    n_probes = len((run / "probes.jsonl").read_text(encoding="utf-8").splitlines())
    assert n_probes == 10  # one video per value, each used once
    # 10 items x 2 orders x 2 personas x 2 modalities, none failed, all read from likelihoods
    assert summary["n_records"] == 80 and summary["n_failed"] == 0 and summary["n_unparsed"] == 0
    assert {(g["persona"], g["modality"]) for g in summary["groups"]} == {
        ("none", "vision"),
        ("none", "text"),
        ("value-power", "vision"),
        ("value-power", "text"),
    }
    for g in summary["groups"]:
        rates = g["profile"]["like_rate"]
        assert all(0.0 <= rates[v.value] <= 100.0 for v in CIRCUMPLEX)
    (gap,) = [x for x in summary["modality_gap"] if x["persona"] == "none"]
    assert gap["measure"] == "like_rate" and len(gap["vision_minus_text"]) == 10
    assert {p["persona"] for p in summary["steerability"]["personas"]} == {"value-power"}
    # vision requests carried the frames (with their digests); text requests none
    records = [json.loads(x) for x in (run / "responses.jsonl").read_text(encoding="utf-8").splitlines()]
    vision = [r for r in records if r["variant"] == "vision"]
    text = [r for r in records if r["variant"] == "text"]
    media_kind = "video" if frames == "all" else "image"
    for r in vision:
        parts = [p for m in r["messages"] for p in m["content"] if p["type"] == media_kind]
        assert parts, r["record_id"]
    assert all(p["type"] == "text" for r in text for m in r["messages"] for p in m["content"])
    assert all(r["response"]["option_logprobs"] for r in records)

    rep = vspec("report", str(run), cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr[-3000:]
    html = (run / "report" / "report.html").read_text(encoding="utf-8")
    assert "Persona steerability" in html
