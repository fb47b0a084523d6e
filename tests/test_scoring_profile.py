"""Value profiles (means, MRAT centring, like-rate, spread, higher order, bootstrap CIs),
profile comparison, and the reference profiles."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from shared_facts import facts_file

from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.references import get_reference, list_references
from valuespectrum.scoring.items import ItemScore, score_item
from valuespectrum.scoring.parse import ParsedAnswer
from valuespectrum.scoring.profile import build_profile, compare_profiles, profile_from_answers
from valuespectrum.scoring.stats import bootstrap_indices
from valuespectrum.values import HigherOrder, Value

FACTS = facts_file()


def _likert(pid: str, keys: dict[str, float]) -> Probe:
    return Probe(id=pid, text="t", format=AnswerFormat.likert6(), keys=keys)


def _yes_no(pid: str, value: str) -> Probe:
    return Probe(id=pid, text="Do you like it?", format=AnswerFormat.yes_no(), keys={value: 1})


def _ok(v: float | str) -> ParsedAnswer:
    return ParsedAnswer(status="parsed", value=v, method="text")


def _rating_profile_answers() -> list[tuple[Probe, ParsedAnswer]]:
    return [
        (_likert("p1", {"PO": 1}), _ok(2.0)),
        (_likert("p2", {"PO": 1, "UN": -1}), _ok(5.0)),  # UN reversed: 7 - 5 = 2
        (_likert("p3", {"UN": 1}), _ok(6.0)),
        (_likert("p4", {"BE": 1}), _ok(3.0)),
        (_likert("p5", {"AC": 1}), ParsedAnswer(status="unparsed", detail="several numbers")),
        (_likert("p6", {"AC": 1}), ParsedAnswer(status="error", detail="timeout")),
    ]


def test_rating_profile_by_hand() -> None:
    prof = profile_from_answers(_rating_profile_answers(), seed=3)
    assert prof.scale == "rating"
    # Means: PO (2 + 5)/2 = 3.5; UN (2 + 6)/2 = 4; BE 3.
    assert prof.scores[Value.POWER] == pytest.approx(3.5)
    assert prof.scores[Value.UNIVERSALISM] == pytest.approx(4.0)
    assert prof.scores[Value.BENEVOLENCE] == pytest.approx(3.0)
    assert prof.scores[Value.ACHIEVEMENT] is None and prof.n_items[Value.ACHIEVEMENT] == 0
    assert prof.n_items[Value.POWER] == 2
    # MRAT over answered probes, each once, raw ratings: (2 + 5 + 6 + 3)/4 = 4.
    assert prof.mrat == pytest.approx(4.0)
    assert prof.centred[Value.POWER] == pytest.approx(-0.5)
    assert prof.centred[Value.UNIVERSALISM] == pytest.approx(0.0)
    assert prof.centred[Value.BENEVOLENCE] == pytest.approx(-1.0)
    assert prof.centred[Value.HEDONISM] is None
    # Spread, population SD of [3.5, 4, 3]: variance (0 + 0.25 + 0.25)/3 = 1/6.
    assert prof.spread == pytest.approx(math.sqrt(1 / 6))
    # Self-Transcendence = mean(BE, UN) = 3.5; Self-Enhancement lacks Achievement -> None.
    assert prof.higher_order[HigherOrder.SELF_TRANSCENDENCE] == pytest.approx(3.5)
    assert prof.higher_order[HigherOrder.SELF_ENHANCEMENT] is None
    assert all(x is None for x in prof.like_rate.values())
    assert (prof.n_parsed, prof.n_unparsed, prof.n_failed) == (4, 1, 1)
    assert prof.parse_rate == pytest.approx(0.8)
    # CIs: PO has two items (2 and 5), so its interval lies in [2, 5] and contains 3.5.
    lo, hi = prof.ci_low[Value.POWER], prof.ci_high[Value.POWER]
    assert lo is not None and hi is not None
    assert 2.0 <= lo <= 3.5 <= hi <= 5.0
    assert prof.ci_low[Value.BENEVOLENCE] is None  # one item: no interval


def test_like_rate_and_spread_for_yes_no_profile() -> None:
    answers = [
        (_yes_no("h1", "HE"), _ok("yes")),
        (_yes_no("h2", "HE"), _ok("yes")),
        (_yes_no("h3", "HE"), _ok("no")),
        (_yes_no("h4", "HE"), _ok("unsure")),
        (_yes_no("s1", "ST"), _ok("yes")),
        (_yes_no("s2", "ST"), _ok("no")),
        (_yes_no("s3", "ST"), ParsedAnswer(status="unparsed")),
    ]
    prof = profile_from_answers(answers)
    assert prof.scale == "endorse"
    # Hedonism: (1 + 1 + 0 + 0.5)/4 = 0.625 -> 62.5; Stimulation: (1 + 0)/2 -> 50.
    assert prof.like_rate[Value.HEDONISM] == pytest.approx(62.5)
    assert prof.like_rate[Value.STIMULATION] == pytest.approx(50.0)
    assert prof.scores[Value.HEDONISM] == pytest.approx(0.625)
    assert prof.like_rate[Value.POWER] is None
    # Spread over like-rates: mean 56.25, deviations +-6.25 -> population SD 6.25.
    assert prof.spread == pytest.approx(6.25)
    assert prof.mrat is None and prof.centred[Value.HEDONISM] is None
    assert prof.n_unparsed == 1


def test_higher_order_rollup_hedonism_under_openness() -> None:
    items = [
        ItemScore(probe_id=f"i{i}", value=v, score=float(i + 1), kind="rating", weight=1.0, raw=float(i + 1))
        for i, v in enumerate(Value)
    ]
    # Circumplex order gives SD=1, ST=2, HE=3, AC=4, PO=5, SE=6, CO=7, TR=8, BE=9, UN=10.
    prof = build_profile(items, n_parsed=10, n_unparsed=0, n_failed=0, n_boot=50)
    assert prof.higher_order[HigherOrder.OPENNESS] == pytest.approx(2.0)  # (1+2+3)/3
    assert prof.higher_order[HigherOrder.SELF_ENHANCEMENT] == pytest.approx(4.5)  # (4+5)/2
    assert prof.higher_order[HigherOrder.CONSERVATION] == pytest.approx(7.0)  # (6+7+8)/3
    assert prof.higher_order[HigherOrder.SELF_TRANSCENDENCE] == pytest.approx(9.5)
    # Spread of 1..10 with ddof=0: sqrt((10^2 - 1)/12) = sqrt(8.25).
    assert prof.spread == pytest.approx(math.sqrt(8.25))
    assert prof.mrat == pytest.approx(5.5)


def test_mixed_and_empty_profiles() -> None:
    mixed = [
        ItemScore(probe_id="a", value=Value.POWER, score=4.0, kind="rating", weight=1.0, raw=4.0),
        ItemScore(probe_id="b", value=Value.POWER, score=1.0, kind="endorse", weight=1.0, raw=1.0),
    ]
    prof = build_profile(mixed, n_parsed=2, n_unparsed=0, n_failed=0)
    assert prof.scale == "mixed"
    assert prof.mrat == 4.0  # endorse items never enter MRAT
    assert prof.centred[Value.POWER] is None  # centring only for rating profiles
    assert prof.like_rate[Value.POWER] == 100.0
    empty = build_profile([], n_parsed=0, n_unparsed=3, n_failed=0)
    assert empty.scale == "none" and empty.spread is None and empty.mrat is None
    assert empty.parse_rate == 0.0


def test_bootstrap_matches_a_plain_loop_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    probes = [_likert(f"q{i}", {"PO": 1} if i % 2 else {"UN": 1, "PO": -1}) for i in range(40)]
    answers = [(p, _ok(float(rng.integers(1, 7)))) for p in probes]
    items = [s for p, a in answers for s in score_item(p, a)]
    prof = build_profile(items, n_parsed=40, n_unparsed=0, n_failed=0, n_boot=300, seed=11)
    again = build_profile(items, n_parsed=40, n_unparsed=0, n_failed=0, n_boot=300, seed=11)
    assert prof.ci_low == again.ci_low and prof.ci_high == again.ci_high
    # Same resamples, computed one at a time.
    ids = list(dict.fromkeys(s.probe_id for s in items))
    idx = bootstrap_indices(len(ids), 300, 11)
    means = []
    for row in idx:
        chosen = [ids[i] for i in row]
        vals = [s.score for pid in chosen for s in items if s.probe_id == pid and s.value == Value.POWER]
        means.append(np.mean(vals))
    lo, hi = np.quantile(means, [0.025, 0.975])
    assert prof.ci_low[Value.POWER] == pytest.approx(lo)
    assert prof.ci_high[Value.POWER] == pytest.approx(hi)
    score = prof.scores[Value.POWER]
    assert score is not None and lo <= score <= hi


def test_bootstrap_is_fast() -> None:
    items = [
        ItemScore(
            probe_id=f"p{i}", value=list(Value)[i % 10], score=float(i % 6 + 1), kind="rating", weight=1.0
        )
        for i in range(500)
    ]
    t0 = time.perf_counter()
    build_profile(items, n_parsed=500, n_unparsed=0, n_failed=0, n_boot=1000)
    assert time.perf_counter() - t0 < 1.0


def test_compare_profiles_by_hand() -> None:
    a = {Value.SELF_DIRECTION: 1.0, Value.STIMULATION: 2.0, Value.HEDONISM: 3.0, Value.ACHIEVEMENT: None}
    b = {Value.SELF_DIRECTION: 2.0, Value.STIMULATION: 4.0, Value.HEDONISM: 6.0, Value.ACHIEVEMENT: 1.0}
    c = compare_profiles(a, b)
    assert c.n == 3 and c.rho == pytest.approx(1.0)
    assert c.mean_abs_diff == pytest.approx(2.0)  # (1 + 2 + 3)/3
    assert c.values == [Value.SELF_DIRECTION, Value.STIMULATION, Value.HEDONISM]
    small = compare_profiles({Value.POWER: 1.0, Value.SECURITY: 2.0}, {Value.POWER: 2.0, Value.SECURITY: 1.0})
    assert small.rho is None and small.n == 2


def test_human_baseline_against_pan_cultural_hierarchy() -> None:
    # Ranks (1 = most important). Human PVQ-21: BE UN SD SE TR HE ST CO AC PO.
    # Pan-cultural: BE SD UN SE CO AC HE ST TR PO. Differences d: UN -1, SD +1, TR -4, HE -1,
    # ST -1, CO +3, AC +3, others 0; sum d^2 = 38; rho = 1 - 6*38/(10*99) = 1 - 228/990.
    c = compare_profiles(get_reference("human-pvq21").scores, get_reference("pan-cultural").scores)
    assert c.n == 10
    assert c.rho == pytest.approx(1 - 228 / 990)
    assert c.p_value is not None and c.p_value < 0.05


def test_references_names_and_values() -> None:
    names = list_references()
    assert names[:2] == ["pan-cultural", "human-pvq21"]
    assert "paper:GPT-4o" in names and len([n for n in names if n.startswith("paper:")]) == 8
    pan = get_reference("pan-cultural")
    assert pan.kind == "rank"
    assert pan.scores[Value.BENEVOLENCE] == 10.0 and pan.scores[Value.POWER] == 1.0
    assert sorted(pan.scores.values()) == [float(i) for i in range(1, 11)]
    gpt = get_reference("paper:GPT-4o")
    assert gpt.kind == "score"
    assert (gpt.scores[Value.SELF_DIRECTION], gpt.scores[Value.POWER], gpt.scores[Value.SECURITY]) == (
        78,
        80,
        78,
    )
    assert get_reference("PAPER:internvl2").name == "paper:InternVL2 (26B)"
    assert get_reference("human-pvq21").scores[Value.SELF_DIRECTION] == pytest.approx(0.532)
    assert all(r.source for r in map(get_reference, names))
    with pytest.raises(ValueError, match="valid names are: pan-cultural, human-pvq21"):
        get_reference("paper:nonexistent")


@pytest.mark.skipif(FACTS is None, reason="shared facts file (shared/data/schwartz_facts.json) not found")
def test_references_match_the_facts_file() -> None:
    facts = json.loads(FACTS.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    table = facts["value_spectrum_table"]
    for row, nums in table["rows"].items():
        ref = get_reference(f"paper:{row}")
        assert [ref.scores[Value(c)] for c in table["columns"]] == nums
    order = facts["human_baselines"]["Schwartz_Bardi_2001_rank"]["rank_order_textbook_reprint"]
    pan = get_reference("pan-cultural").scores
    assert sorted(pan, key=lambda v: -pan[v]) == [Value(v) for v in order]
