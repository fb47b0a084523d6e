"""The option-distribution readout, bias verdicts and chance tests through the run path.

A scripted mock backend returns given option log-likelihoods; every expected number below is
computed by hand from them (in the comments) and checked in scores.jsonl and summary.json.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.reports.build import build_report
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.log import read_scores, read_summary
from valuespectrum.runs.readout_view import finding_line
from valuespectrum.runs.score import score_folder
from valuespectrum.types import ModelRequest, ModelResponse
from valuespectrum.values import CIRCUMPLEX, Value

ROOT = Path(__file__).resolve().parents[1]
LOG = math.log

LIKERT = [
    Probe(id="pa", text="Power portrait.", format=AnswerFormat.likert6(), keys={Value.POWER: 1}),
    Probe(id="pb", text="Security portrait.", format=AnswerFormat.likert6(), keys={Value.SECURITY: 1}),
]
# Probabilities on the presented labels 1..6, per (probe, order). A first-label picker that
# puts a little extra on rating 6 for the Power item in the forward order.
LIKERT_PROBS = {
    ("pa", False): [0.4, 0.1, 0.1, 0.1, 0.1, 0.2],  # E = 0.4 + 0.1*(2+3+4+5) + 0.2*6 = 3.0
    ("pa", True): [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],  # label k means 7-k: E = 0.5*6 + 0.1*15 = 4.5
    ("pb", False): [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],  # E = 0.5 + 0.1*20 = 2.5
    ("pb", True): [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],  # E = 4.5
}


def likert_scores(req: ModelRequest) -> list[float]:
    return [LOG(p) for p in LIKERT_PROBS[(req.metadata["probe_id"], req.metadata["reverse_labels"])]]


def manifest(tmp_path: Path, **over: object):
    raw: dict[str, object] = {
        "name": "t",
        "models": [{"spec": "mock", "label": "m"}],
        "probes": {"banks": []},
        "personas": ["none"],
        "scoring": {"n_boot": 0},
        "cache": False,
        "output_dir": str(tmp_path / "runs"),
    }
    raw.update(over)
    return parse_manifest(raw)


def run(tmp_path: Path, backend: MockBackend, probes: list[Probe], **over: object) -> RunFolder:
    m = manifest(tmp_path, **over)
    out = execute_run(m, out=tmp_path / "run", backend_factory=lambda s, o, lb: backend, probes=probes)
    return out.folder


def test_likert_expected_readout_beside_argmax_in_scores_and_summary(tmp_path: Path) -> None:
    folder = run(
        tmp_path,
        MockBackend(option_scores=likert_scores),
        LIKERT,
        scoring={"n_boot": 0, "readout": "expected"},
    )
    summary = score_folder(folder)
    lines = {ln.record_id: ln for ln in read_scores(folder.scores)}
    rev = lines["m|none|pa|rev"]
    # the stored distribution is in the probe's keying: presented label 1 means rating 6
    assert rev.distribution == pytest.approx({"6": 0.5, "5": 0.1, "4": 0.1, "3": 0.1, "2": 0.1, "1": 0.1})
    assert rev.answer.value == 6.0 and rev.position == 0
    assert [i.score for i in rev.expected_items] == pytest.approx([4.5])
    assert [i.score for i in lines["m|none|pa|fwd"].expected_items] == pytest.approx([3.0])

    g = summary.group()
    assert summary.readout == "expected" and g.readout == "expected" and g.n_distribution == 4
    arg, exp = g.profiles["argmax"], g.profiles["expected"]
    # argmax: 1 forward, 6 reversed -> the exact midpoint for both values
    assert arg.scores[Value.POWER] == pytest.approx(3.5) and arg.scores[Value.SECURITY] == pytest.approx(3.5)
    # expected: Power (3.0 + 4.5) / 2 = 3.75, Security (2.5 + 4.5) / 2 = 3.5, MRAT 14.5 / 4 = 3.625
    assert exp.scores[Value.POWER] == pytest.approx(3.75) and exp.scores[Value.SECURITY] == pytest.approx(3.5)
    assert exp.mrat == pytest.approx(3.625)
    assert exp.centred[Value.POWER] == pytest.approx(0.125) and exp.centred[Value.SECURITY] == pytest.approx(
        -0.125
    )
    # the headline profile is the expected one and analyses compare its centred scores
    assert g.profile == exp and g.measure == "centred"
    assert g.rank_order == [["Power"], ["Security"]]

    # bias, argmax: first-presented option always; order explains all variance:
    # pairs (1, 6), (1, 6): between 2*2.5^2 + 2*2.5^2 = 25 of total 4 * 2.5^2 = 25
    b = g.bias["argmax"]
    assert b.first_option_share == {"fwd": 1.0, "rev": 1.0}
    assert b.position_variance_share == pytest.approx(1.0) and b.verdict == "position"
    assert "this profile carries no value information" in b.message
    # expected: P(first) fwd (0.4 + 0.5) / 2, rev 0.5; pairs (3.0, 4.5), (2.5, 4.5):
    # grand 3.625, total 0.625^2 + 0.875^2 + 1.125^2 + 0.875^2 = 3.1875, between 2*0.875^2*2 = 3.0625
    e = g.bias["expected"]
    assert e.first_option_share == pytest.approx({"fwd": 0.45, "rev": 0.5})
    assert e.position_variance_share == pytest.approx(3.0625 / 3.1875)
    assert e.verdict == "position"


YES_NO = [
    Probe(id=f"{v.short}-{k}", text=f"An item for {v.value}.", format=AnswerFormat.yes_no(), keys={v: 1})
    for v in CIRCUMPLEX
    for k in ("a", "b")
]


def p_yes(req: ModelRequest) -> float:
    """A content-only model: 0.6 without persona; under value-power 0.8 / 0.82 (items a / b),
    Power items 0.9 / 0.96."""
    pid = req.metadata["probe_id"]
    if req.metadata["persona"] == "none":
        return 0.6
    if pid.startswith("PO-"):
        return 0.9 if pid.endswith("a") else 0.96
    return 0.8 if pid.endswith("a") else 0.82


def yes_no_scores(req: ModelRequest) -> list[float]:
    p = p_yes(req)
    return [LOG(p) if o == "Yes" else LOG(1 - p) for o in req.options or []]


def test_yes_no_centring_acquiescence_and_the_chance_test(tmp_path: Path) -> None:
    folder = run(
        tmp_path,
        MockBackend(option_scores=yes_no_scores),
        YES_NO,
        personas=["none", "value-power"],
        scoring={"n_boot": 0, "readout": "expected"},
    )
    summary = score_folder(folder)
    base, power = summary.group(persona="none"), summary.group(persona="value-power")
    # uncentred P(yes): 60 everywhere without persona; 81 / 93 under value-power
    assert base.profiles["expected"].like_rate[Value.HEDONISM] == pytest.approx(60.0)
    assert power.profiles["expected"].like_rate[Value.HEDONISM] == pytest.approx(81.0)
    # centred: mean P(yes) under value-power (9 * 1.62 + 1.86) / 20 = 0.822;
    # Power (0.078 + 0.138) / 2 = 0.108, every other value (-0.022 - 0.002) / 2 = -0.012
    assert all(base.profile.centred[v] == pytest.approx(0.0) for v in CIRCUMPLEX)
    assert power.profile.centred[Value.POWER] == pytest.approx(0.108)
    assert power.profile.centred[Value.HEDONISM] == pytest.approx(-0.012)
    line = summary.steerability.personas[0]
    assert line.measure == "centred" and line.changes["Power"] == pytest.approx(0.108)
    assert line.target_ranks == {"Power": 1.0}

    # argmax: every answer is yes -> acquiescent; expected under the persona: min P(yes) 0.81
    assert base.bias["argmax"].verdict == "acquiescent" and base.bias["expected"].verdict == "none"
    assert power.bias["expected"].verdict == "acquiescent"
    assert power.bias["expected"].message == "acquiescent: P(yes) 0.81 or more for every value"
    assert power.bias["expected"].yes_rate == pytest.approx(0.822)

    # chance: one single-target persona at rank 1 of 10 -> exact p = 1/10
    test = summary.chance.personas[0]
    assert test.mean_target_rank == 1.0 and test.p_value == pytest.approx(0.1) and test.exact
    # per-value paired t-tests over 2 items (df 1, a Cauchy: p = 1 - 2 atan|t| / pi):
    # Power diffs 0.078, 0.138: mean 0.108, se 0.03, t 3.6; others -0.022, -0.002: t -1.2
    p_power = 1 - 2 * math.atan(3.6) / math.pi
    p_other = 1 - 2 * math.atan(1.2) / math.pi
    rows = {r.value: r for r in test.values}
    assert rows["Power"].p_value == pytest.approx(p_power) and rows["Power"].n_items == 2
    assert rows["Hedonism"].p_value == pytest.approx(p_other)
    # Holm: Power first (x10), the nine others 9 x p_other capped at 1; BH: Power 10 p / 1 ...
    assert rows["Power"].p_holm == pytest.approx(min(1.0, 10 * p_power))
    assert rows["Hedonism"].p_holm == pytest.approx(min(1.0, max(10 * p_power, 9 * p_other)))
    assert rows["Power"].p_bh == pytest.approx(min(10 * p_power, p_other))
    assert rows["Hedonism"].p_bh == pytest.approx(p_other)
    # CI: mean +- t(0.975, 1) * se = 0.108 +- 12.7062 * 0.03
    assert rows["Power"].ci_low == pytest.approx(0.108 - 12.706204736 * 0.03, abs=1e-6)
    verdict = summary.chance.verdicts[0]
    assert not verdict.distinguishable and verdict.n_target_effects == 0
    assert verdict.message.startswith("no persona effect distinguishable from chance")

    # the report and the demo's one line read the same summary
    html = build_report(folder.root).html.read_text()
    for sid in ("chance", "readout", "bias"):
        assert f'<section id="{sid}">' in html
    assert "no persona effect distinguishable from chance" in html
    assert "acquiescent: P(yes) 0.81 or more for every value" in html
    found = finding_line(summary.model_dump(mode="json"))
    assert found.startswith("found: t, expected readout; argmax: acquiescent")
    assert "no persona effect distinguishable from chance" in found

    # the argmax headline of the same folder: like-rates, all 100, no change; chance p = 1
    again = score_folder(folder, readout="argmax")
    assert again.readout == "argmax" and again.group(persona="value-power").measure == "like_rate"
    assert again.steerability.personas[0].changes["Power"] == pytest.approx(0.0)
    assert again.chance.personas[0].p_value == pytest.approx(1.0)


class Bounded(MockBackend):
    """Marks the second option score of every yes/no response as an upper bound."""

    def generate(self, requests):  # type: ignore[no-untyped-def]
        out: list[ModelResponse] = super().generate(requests)
        return [r.model_copy(update={"option_logprobs_bounded": [False, True]}) for r in out]


def test_bounded_readings_are_counted(tmp_path: Path) -> None:
    folder = run(tmp_path, Bounded(option_scores=yes_no_scores), YES_NO[:3])
    summary = score_folder(folder)
    assert summary.n_bounded == 6 and summary.group().n_bounded == 6
    assert all(ln.bounded for ln in read_scores(folder.scores))


def test_vspec_score_switches_the_readout_without_a_model(tmp_path: Path) -> None:
    folder = run(tmp_path, MockBackend(option_scores=likert_scores), LIKERT)
    assert score_folder(folder).readout == "argmax"
    responses = folder.responses.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "valuespectrum", "score", str(folder.root), "--readout", "expected"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert folder.responses.read_bytes() == responses  # no new requests
    s = read_summary(folder.summary)
    assert s.readout == "expected" and s.group().profile.scores[Value.POWER] == pytest.approx(3.75)
    assert "argmax and expected readouts side by side (headline: expected)" in proc.stdout
    assert "answers follow label position" in proc.stdout
    raw = json.loads(folder.summary.read_text())
    assert raw["groups"][0]["bias"]["argmax"]["verdict"] == "position"
    bad = subprocess.run(
        [sys.executable, "-m", "valuespectrum", "score", str(folder.root), "--readout", "mean"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and "expected argmax or expected" in bad.stderr


CHOICE = Probe(
    id="c1",
    text="Which would you do?",
    format=AnswerFormat.choice(
        [("Help a friend", {Value.BENEVOLENCE: 1}), ("Follow the rule", {Value.CONFORMITY: 1})]
    ),
)


def choice_scores(req: ModelRequest) -> list[float]:
    """Prefers the first-presented letter: 0.7 forward, 0.6 reversed."""
    first = 0.6 if req.metadata["reverse_labels"] else 0.7
    return [LOG(first), LOG(1 - first)]


def test_choice_expected_value_is_probability_weighted_through_both_orders(tmp_path: Path) -> None:
    folder = run(tmp_path, MockBackend(option_scores=choice_scores), [CHOICE])
    summary = score_folder(folder)
    lines = {ln.order: ln for ln in read_scores(folder.scores)}
    # reversed, letter A shows the second option: P(B) = 0.6 in the probe's own labels
    assert lines["rev"].distribution == pytest.approx({"B": 0.6, "A": 0.4})
    g = summary.group()
    # argmax: A forward (Benevolence 1), B reversed (Conformity 1) -> 0.5 each
    assert g.profiles["argmax"].scores[Value.BENEVOLENCE] == pytest.approx(0.5)
    # expected: Benevolence (0.7 + 0.4) / 2 = 0.55, Conformity (0.3 + 0.6) / 2 = 0.45
    assert g.profiles["expected"].scores[Value.BENEVOLENCE] == pytest.approx(0.55)
    assert g.profiles["expected"].scores[Value.CONFORMITY] == pytest.approx(0.45)
    assert g.bias["argmax"].verdict == "position" and g.bias["argmax"].position_variance_share == 1.0


class ServerReadings(MockBackend):
    """Tags its option scores the way a server backend does: probe pa's exact, pb's a
    first-token approximation."""

    def generate(self, requests):  # type: ignore[no-untyped-def]
        out: list[ModelResponse] = super().generate(requests)
        tags = {"pa": "exact", "pb": "topk"}
        return [
            r.model_copy(update={"option_scores": tags[q.metadata["probe_id"]]})
            for r, q in zip(out, requests, strict=True)
        ]


def test_option_readings_are_counted_by_how_they_were_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from valuespectrum.runs.terminal import print_summary

    folder = run(tmp_path, ServerReadings(option_scores=likert_scores), LIKERT)
    summary = score_folder(folder)
    # 2 probes x 2 label orders: pa's two readings exact, pb's two first-token top-k
    assert (summary.n_option_readings, summary.n_exact, summary.n_topk) == (4, 2, 2)
    assert {ln.probe_id: ln.option_scores for ln in read_scores(folder.scores)} == {
        "pa": "exact",
        "pb": "topk",
    }
    print_summary(summary.model_dump(mode="json"))
    line = "2 of 4 option readings bounded/approximated (0 bounded by a server's top-k, 2 first-token top-k"
    assert line in " ".join(capsys.readouterr().out.split())
    local = score_folder(run(tmp_path / "local", MockBackend(option_scores=likert_scores), LIKERT))
    assert (local.n_option_readings, local.n_exact, local.n_topk) == (4, 4, 0)  # local scores are exact
