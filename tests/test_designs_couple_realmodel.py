"""Opt-in: COUPLE end to end on the real SmolLM2-135M-Instruct (generator, attributor and evaluator).

Two questions x one objective from the example data. Asserts the plumbing: every request
answered, every target score read (option log-likelihoods), every intermediate stored, the
evaluator-is-generator warning. It prints the MAE/Spearman per method; a 135M model neither
follows the concept format nor rewrites toward a profile, so those numbers show plumbing, not
the published effect.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.smollm2 import SMOLLM2_SLOW, smollm2_spec

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "manifests" / "data" / "couple"
pytestmark = SMOLLM2_SLOW


@pytest.mark.timeout(1800)  # about 2 CPU minutes; far longer in wall time when the cores are shared
def test_smollm2_couple_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = smollm2_spec()
    objectives = yaml.safe_load((DATA / "objectives.yaml").read_text())
    objectives["objectives"] = objectives["objectives"][:1]
    (tmp_path / "obj.yaml").write_text(yaml.safe_dump(objectives))
    m = yaml.safe_load((ROOT / "manifests" / "couple.yaml").read_text())
    m.update(
        generator={"spec": spec},
        evaluator={"spec": spec},
        objectives={"path": str(tmp_path / "obj.yaml")},
        questions={"path": str(DATA / "arguments.tsv"), "format": "touche23", "limit": 2},
        calibration=str(DATA / "labelled.jsonl"),
        answer_tokens=48,
        concept_tokens=32,
        max_unparsed_rate=0.0,
    )
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(m, sort_keys=False))
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "valuespectrum",
            "couple",
            "run",
            str(tmp_path / "m.yaml"),
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "the evaluator is the generator" in res.stderr
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert s["n_pairs"] == 2 and s["score_methods"] == {"attributor": "options", "evaluator": "options"}
    for meth, x in s["methods"].items():
        assert (
            x["overall"]["n"] == 2 and x["overall"]["n_unscored_dims"] == 0 and x["n_failed_responses"] == 0
        ), meth
        assert x["overall"]["mae"] is not None
    calls = s["calls_this_invocation"]
    assert calls["generator"]["generate.raw"] == 2 and calls["attributor"]["attribute.scores"] == 2 * 10
    recs = [json.loads(line) for line in (tmp_path / "run" / "records.jsonl").read_text().splitlines()]
    for r in recs:
        c = r["couple"]
        assert c["delta"] is not None and c["attribution"]["concepts_text"]
        if c["intervened"]:
            assert len(c["counterfactual"]) == 5 and r["responses"]["couple"]["prompt"]
    with capsys.disabled():
        print(
            f"\n{res.stdout}counterfactual: {s['couple']}\ncalibration: exact {s['calibration']['exact']}, "
            f"within one {s['calibration']['within_one']}, kappa {s['calibration']['kappa']}"
        )
