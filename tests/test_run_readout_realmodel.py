"""The expected readout on the real SmolLM2-135M-Instruct (opt-in: ``-m realmodel``).

SmolLM2 tends to pick the first-presented label; argmax per order then pooled gives the scale
midpoint, while the option probabilities still vary by item. The test checks the computation
(the summary's numbers follow from scores.jsonl; the verdict and the chance test are there),
not an effect the model may not have.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.smollm2 import needs_smollm2, smollm2_spec
from valuespectrum.manifest import parse_manifest
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.log import read_scores
from valuespectrum.runs.readout_view import finding_line
from valuespectrum.runs.score import score_folder
from valuespectrum.values import CIRCUMPLEX


@pytest.mark.slow
@pytest.mark.realmodel
@needs_smollm2
def test_smollm2_expected_readout_bias_verdict_and_chance_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = parse_manifest(
        {
            "name": "smollm2-readout",
            "models": [{"spec": smollm2_spec(), "label": "smollm2"}],
            "probes": {"banks": ["portrait"], "limit_per_value": 2},
            "personas": ["none", "value-power", "value-tradition"],
            "scoring": {"n_boot": 0, "readout": "expected"},
            "generation": {"max_new_tokens": 4},
            "batch_size": 16,
            "cache": False,
            "output_dir": str(tmp_path),
        }
    )
    outcome = execute_run(m, out=tmp_path / "run")
    summary = score_folder(outcome.folder)
    lines = list(read_scores(outcome.folder.scores))
    assert summary.n_failed == 0 and all(ln.distribution is not None for ln in lines if ln.answer.ok)
    base = summary.group(persona="none")
    arg, exp = base.profiles["argmax"], base.profiles["expected"]
    firsts = base.bias["argmax"].first_option_share
    if min(firsts.values()) == 1.0:
        # a pure first-label picker: label 1 means 1 forward and 6 reversed -> 3.5 everywhere
        assert all(arg.scores[v] == pytest.approx(3.5) for v in CIRCUMPLEX if arg.scores[v] is not None)
        assert base.bias["argmax"].verdict == "position"
    # the expected profile is the mean of the stored expected item scores
    for v in CIRCUMPLEX:
        mine = [i.score for ln in lines if ln.persona == "none" for i in ln.expected_items if i.value == v]
        if mine:
            assert exp.scores[v] == pytest.approx(sum(mine) / len(mine))
    known = [x for x in exp.scores.values() if x is not None]
    assert len(set(round(x, 9) for x in known)) > 1  # continuous, not one midpoint
    assert base.bias["expected"].message and base.bias["argmax"].message
    assert {p.persona for p in summary.chance.personas} == {"value-power", "value-tradition"}
    (verdict,) = summary.chance.verdicts
    assert 0.0 < float(verdict.p_value) <= 1.0 and verdict.message  # type: ignore[arg-type]
    with capsys.disabled():
        print(
            f"\nSmolLM2 argmax {arg.scores}\nexpected {exp.scores}\n{finding_line(summary.model_dump(mode='json'))}"
        )
