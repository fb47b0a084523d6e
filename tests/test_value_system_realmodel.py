"""The Moral Foundations manifest on the real SmolLM2-135M-Instruct (opt-in: ``-m realmodel``).

Runs ``manifests/mft_items.yaml`` with the mock replaced by SmolLM2 through the CLI (run, score,
report) and checks what holds for any model: every request answered or counted, profiles over
the six foundations only, no Schwartz value named anywhere, the Schwartz-only analyses marked
not applicable. It prints the profiles; it claims no effect of the care persona (135M mostly
follows label positions).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli_runs import ROOT, vspec
from tests.smollm2 import needs_smollm2, smollm2_folder
from tests.test_value_system_runs import EXPECTED, _schwartz_mentions


@pytest.mark.slow
@pytest.mark.realmodel
@needs_smollm2
def test_mft_manifest_on_smollm2(tmp_path: Path) -> None:
    for name in ("mft_items.csv", "mft_personas.yaml"):
        (tmp_path / name).write_bytes((ROOT / "manifests" / "data" / name).read_bytes())
    raw = yaml.safe_load((ROOT / "manifests" / "mft_items.yaml").read_text(encoding="utf-8"))
    raw["models"] = [{"spec": f"hf:{smollm2_folder()}", "label": "smollm2"}]
    raw["probes"]["files"][0]["path"] = "mft_items.csv"
    raw["personas_file"] = "mft_personas.yaml"
    raw["scoring"] = {"n_boot": 200}
    raw["output_dir"] = "runs"
    (tmp_path / "mft.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    ran = vspec("run", "mft.yaml", cwd=tmp_path, timeout=600)
    assert ran.returncode == 0, ran.stderr
    run = tmp_path / "runs" / "mft-items"
    assert vspec("report", str(run), cwd=tmp_path).returncode == 0
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["value_system"] == "mft6"
    assert summary["n_records"] == 12 * 3 * 2 and summary["n_failed"] == 0
    for g in summary["groups"]:
        assert list(g["profile"]["scores"]) == list(EXPECTED)
        assert g["n_parsed"] + g["n_unparsed"] == 24
        print(g["persona"], {k: round(v, 3) for k, v in g["profile"]["scores"].items() if v is not None})
    report = (run / "report" / "report.html").read_text(encoding="utf-8")
    assert _schwartz_mentions((run / "summary.json").read_text(encoding="utf-8")) == []
    assert _schwartz_mentions(report) == [] and "not applicable to value system mft6" in report
    effect = next(e for e in summary["steerability"]["personas"] if e["persona"] == "care-first")
    print("care-first changes", effect["changes"], "mean target rank", effect["mean_target_rank"])
