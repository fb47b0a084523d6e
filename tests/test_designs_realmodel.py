"""Opt-in: both designs from the example manifests on the real SmolLM2-135M-Instruct.

Asserts that every request was answered and read, and prints the numbers the report gives:
per-step preferences beside the position bias, and the oracle assessor's similarity with
people for each MCDM method. A 135M model is expected to answer by label position. Where
Chromium is installed, each SmolLM2 report is also opened in it (tests/test_design_reports_browser.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.smollm2 import SMOLLM2_SLOW, smollm2_spec

ROOT = Path(__file__).resolve().parents[1]
pytestmark = SMOLLM2_SLOW


def _run_on_smollm2(tmp_path: Path, *command: str) -> dict:
    """``vspec COMMAND tmp_path/m.yaml --model <SmolLM2> --out tmp_path/o``; its summary."""
    args = [*command, str(tmp_path / "m.yaml"), "--model", smollm2_spec(), "--out", str(tmp_path / "o")]
    res = subprocess.run(
        [sys.executable, "-m", "valuespectrum", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    return json.loads((tmp_path / "o" / "summary.json").read_text())


def test_smollm2_dilemmas_from_the_example_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "manifests" / "dilemmas.yaml").read_text()
    text = text.replace("data/mmd_dilemmas.json", str(ROOT / "manifests" / "data" / "mmd_dilemmas.json"))
    # one dilemma and two context modes keep this within minutes on a CPU
    text = text.replace("contexts: [none, full, previous]", "contexts: [none, full]\nlimit: 1")
    (tmp_path / "m.yaml").write_text(text)
    s = _run_on_smollm2(tmp_path, "dilemmas", "run")
    with capsys.disabled():
        for ctx, c in s["contexts"].items():
            assert c["counts"] == {"parsed": 10, "unparsed": 0, "error": 0}
            pb = c["position_bias"]
            print(
                f"\n[{ctx}] share of A: AB {pb['AB']['share_A']}, BA {pb['BA']['share_A']}; "
                f"same choice in both orders {pb['order_consistent']['share']}"
            )
            for step, prefs in c["per_step"].items():
                print(
                    f"  step {step}: "
                    + ", ".join(f"{v} {e['chosen']}/{e['offered']}" for v, e in prefs.items())
                )
    assert (tmp_path / "o" / "staircase-full.png").exists()
    _render(tmp_path, ["context: none", "context: full", "agreement between context modes"], 4)


def _render(tmp_path: Path, headings: list[str], n_images: int) -> None:
    from tests.browser import browser_available
    from tests.test_design_reports_browser import check_in_chromium

    if browser_available():
        check_in_chromium(tmp_path / "o" / "report.html", tmp_path, headings, n_images)


def test_smollm2_decisions_from_the_example_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ROOT / "manifests" / "data" / "valuepilot"
    text = (ROOT / "manifests" / "decisions.yaml").read_text().replace("data/valuepilot", str(data))
    text = text.replace("assessors: [oracle]", "assessors: [oracle, judge, probe]")
    text = text.replace("decision_maker: false", "decision_maker: true")
    (tmp_path / "m.yaml").write_text(text)
    s = _run_on_smollm2(tmp_path, "decide")
    assert s["model_answers"] == {"requests": 3 * 4 * 6 + 3 * 3, "unread": 0}
    rows = [r for r in s["similarity"] if r["reference"] == "human"]
    assert len(rows) == 3 * 10 + 1 and all(r["n"] == 3 for r in rows)
    with capsys.disabled():
        print()
        for r in s["similarity"]:
            print(
                f"  {r['assessor']:>6} {r['method']:<22} vs {r['reference']:<28} {r['similarity']:.4f} "
                f"first {r['first_choice']:.4f}"
            )
        print(f"  probe rating MAE on the scenarios: {s['assessors']['probe']['mae']:.4f}")
    _render(tmp_path, ["similarity", "paired bootstrap differences (over people)", "assessors"], 0)
