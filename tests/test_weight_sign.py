"""Weighted items: each weight-sign mode and the centring, by hand, in Python and in a run.

The items are tests/data/portrait_upstream.json as the importer reads it (five (query, response)
items on 1..6, keys = correlations); the answers are q1-1: 5, q1-2: 2, q3-1: 4, q3-2: 6, q3-3: 1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_importers_upstream import PORTRAIT, UPSTREAM
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.importers import load_items
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.score import score_run
from valuespectrum.scoring.items import WeightRule, score_item
from valuespectrum.scoring.parse import ParsedAnswer
from valuespectrum.scoring.profile import profile_from_answers
from valuespectrum.values import Value

ANSWERS = {"q1-1": 5, "q1-2": 2, "q3-1": 4, "q3-2": 6, "q3-3": 1}
HE, ST, SE, BE, TR, AC, PO, UN = (
    Value.HEDONISM, Value.STIMULATION, Value.SECURITY, Value.BENEVOLENCE,
    Value.TRADITION, Value.ACHIEVEMENT, Value.POWER, Value.UNIVERSALISM,
)  # fmt: skip


def _answers() -> list[tuple[Probe, ParsedAnswer]]:
    bank = load_items(UPSTREAM, PORTRAIT)
    return [
        (p, ParsedAnswer(status="parsed", value=float(ANSWERS[p.id]), method="text")) for p in bank.probes
    ]


def _scores(**kw: object) -> tuple[dict[Value, float], float | None, dict[Value, float]]:
    prof = profile_from_answers(_answers(), n_boot=0, **kw)  # type: ignore[arg-type]
    scores = {v: s for v, s in prof.scores.items() if s is not None}
    centred = {v: c for v, c in prof.centred.items() if c is not None}
    return scores, prof.mrat, centred


def test_positive_mode_is_the_published_headline_rule() -> None:
    # r > +0.3 only: q1-1 HE .62 ST .45 | q1-2 BE .41 TR .33 | q3-1 AC .51 PO .38 | q3-2 UN .44;
    # q3-3 keeps nothing (HE .12, AC -.35), so it is out of the centring too.
    scores, mrat, centred = _scores(weight_threshold=0.3, weight_sign="positive")
    assert scores == {HE: 5, ST: 5, BE: 2, TR: 2, AC: 4, PO: 4, UN: 6}
    assert mrat == pytest.approx((5 + 2 + 4 + 6) / 4)  # 4.25: the items kept
    assert centred == pytest.approx(
        {HE: 0.75, ST: 0.75, BE: -2.25, TR: -2.25, AC: -0.25, PO: -0.25, UN: 1.75}
    )
    # centring on every answered item instead (PVQ convention): (5 + 2 + 4 + 6 + 1) / 5 = 3.6
    _, mrat_all, centred_all = _scores(weight_threshold=0.3, weight_sign="positive", centre_on="answered")
    assert mrat_all == pytest.approx(3.6)
    assert centred_all[HE] == pytest.approx(1.4) and centred_all[BE] == pytest.approx(-1.6)


def test_both_mode_reverse_scores_negative_correlations() -> None:
    # |r| > 0.3, r < 0 scored 7 - s: q1-2 ST -.38 -> 5; q3-1 BE -.33 -> 3; q3-2 PO -.41 -> 1;
    # q3-3 AC -.35 -> 6. Every item keeps a key: MRAT = 18 / 5.
    scores, mrat, centred = _scores(weight_threshold=0.3, weight_sign="both")
    assert scores == pytest.approx({HE: 5, ST: 5, BE: 2.5, TR: 2, AC: 5, PO: 2.5, UN: 6})
    assert mrat == pytest.approx(3.6)
    assert centred[BE] == pytest.approx(-1.1) and centred[UN] == pytest.approx(2.4)


def test_negative_mode_keeps_only_reverse_keyed_correlations() -> None:
    scores, mrat, _ = _scores(weight_threshold=0.3, weight_sign="negative")
    assert scores == {ST: 5, BE: 3, PO: 1, AC: 6}
    assert mrat == pytest.approx((2 + 4 + 6 + 1) / 4)  # q1-1 keeps no negative r below -0.3


def test_threshold_zero_keeps_every_key() -> None:
    scores, mrat, _ = _scores()
    # q1-1 SE -.12 -> 7 - 5 = 2; q3-3 HE .12 -> 1 joins q1-1's HE 5
    assert scores[SE] == 2 and scores[HE] == 3 and mrat == pytest.approx(3.6)


def test_weight_rule_edges() -> None:
    rule = WeightRule(0.3, "positive")
    assert [rule.keeps(w) for w in (0.31, 0.3, -0.5, 0.0)] == [True, False, False, False]
    assert WeightRule(0.0, "negative").keeps(-0.01) and not WeightRule(0.0, "negative").keeps(0.2)
    with pytest.raises(ValueError, match="weight_sign must be one of both, positive, negative"):
        WeightRule(0.0, "pos")  # type: ignore[arg-type]
    choice = Probe(
        id="c",
        text="t",
        format=AnswerFormat(
            kind="choice",
            options=[
                {"label": "A", "text": "a", "values": {"PO": 1.0}},
                {"label": "B", "text": "b", "values": {"UN": -1.0}},
            ],
        ),
        keys={},
    )
    picked = ParsedAnswer(status="parsed", value="B", method="text")
    assert {s.value for s in score_item(choice, picked, weight_sign="positive")} == {PO}
    assert [(s.value, s.score) for s in score_item(choice, picked, weight_sign="negative")] == [(UN, -1.0)]


def test_a_run_scores_with_the_manifest_weight_sign(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["item_id", "answer"])
        w.writerows(ANSWERS.items())
    raw = {
        "name": "weighted",
        "models": [{"spec": f"replay:{answers}", "label": "recorded"}],
        "probes": {"banks": [], "files": [{"path": str(UPSTREAM), "mapping": PORTRAIT}]},
        "controls": {"reverse_labels": False},
        "scoring": {"weight_threshold": 0.3, "weight_sign": "positive", "n_boot": 0},
        "cache": False,
    }
    outcome = execute_run(parse_manifest(raw), out=tmp_path / "run")
    (group,) = score_run(outcome.folder)["groups"]
    prof = group["profile"]
    assert prof["mrat"] == pytest.approx(4.25)
    assert {k: v for k, v in prof["centred"].items() if v is not None} == pytest.approx(
        {"Hedonism": 0.75, "Stimulation": 0.75, "Benevolence": -2.25, "Tradition": -2.25,
         "Achievement": -0.25, "Power": -0.25, "Universalism": 1.75}
    )  # fmt: skip
    assert "weight_sign: positive" in outcome.folder.manifest.read_text(encoding="utf-8")
