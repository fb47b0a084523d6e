"""The shipped instrument keys and reference tables against the published scoring keys.

Every expected list below is entered by hand from the instruments' published scoring
instructions (Schwartz's PVQ-21 for the European Social Survey, the PVQ-40, the PVQ-RR
coding instructions, the SVS-57 value indexes) and from Schwartz & Bardi (2001); none is
read from the package's data files. The last test also checks the project's shared facts
file against the same hand-entered keys, when that file is present.
"""

from __future__ import annotations

import json

import pytest
from shared_facts import facts_file

from valuespectrum.probes.instruments import instrument_key, list_instruments
from valuespectrum.references import get_reference, list_references
from valuespectrum.values import Value

SD, ST, HE, AC, PO = "Self-Direction", "Stimulation", "Hedonism", "Achievement", "Power"
SE, CO, TR, BE, UN = "Security", "Conformity", "Tradition", "Benevolence", "Universalism"

PVQ21 = {
    SD: [1, 11], ST: [6, 15], HE: [10, 21], AC: [4, 13], PO: [2, 17],
    SE: [5, 14], CO: [7, 16], TR: [9, 20], BE: [12, 18], UN: [3, 8, 19],
}  # fmt: skip
PVQ40 = {
    SD: [1, 11, 22, 34], ST: [6, 15, 30], HE: [10, 26, 37], AC: [4, 13, 24, 32], PO: [2, 17, 39],
    SE: [5, 14, 21, 31, 35], CO: [7, 16, 28, 36], TR: [9, 20, 25, 38], BE: [12, 18, 27, 33],
    UN: [3, 8, 19, 23, 29, 40],
}  # fmt: skip
PVQRR_19 = {
    "Self-Direction-Thought": [1, 23, 39], "Self-Direction-Action": [16, 30, 56],
    "Stimulation": [10, 28, 43], "Hedonism": [3, 36, 46], "Achievement": [17, 32, 48],
    "Power-Dominance": [6, 29, 41], "Power-Resources": [12, 20, 44], "Face": [9, 24, 49],
    "Security-Personal": [13, 26, 53], "Security-Societal": [2, 35, 50], "Tradition": [18, 33, 40],
    "Conformity-Rules": [15, 31, 42], "Conformity-Interpersonal": [4, 22, 51],
    "Humility": [7, 38, 54], "Benevolence-Dependability": [19, 27, 55],
    "Benevolence-Caring": [11, 25, 47], "Universalism-Concern": [5, 37, 52],
    "Universalism-Nature": [8, 21, 45], "Universalism-Tolerance": [14, 34, 57],
}  # fmt: skip
# The ten original values from the PVQ-RR: each value pools its refined sub-values, Humility
# joins Tradition, and Face (between Power and Security) is left out of the ten.
PVQRR_10 = {
    SD: [1, 16, 23, 30, 39, 56], ST: [10, 28, 43], HE: [3, 36, 46], AC: [17, 32, 48],
    PO: [6, 12, 20, 29, 41, 44], SE: [2, 13, 26, 35, 50, 53], CO: [4, 15, 22, 31, 42, 51],
    TR: [7, 18, 33, 38, 40, 54], BE: [11, 19, 25, 27, 47, 55],
    UN: [5, 8, 14, 21, 34, 37, 45, 52, 57],
}  # fmt: skip
# SVS-57 value indexes (the items with near-equivalent meaning across cultures, plus item 57).
SVS57 = {
    SD: [5, 16, 31, 41, 53], ST: [9, 25, 37], HE: [4, 50, 57], AC: [34, 39, 43, 55],
    PO: [3, 12, 27, 46], SE: [8, 13, 15, 22, 56], CO: [11, 20, 40, 47],
    TR: [18, 32, 36, 44, 51], BE: [33, 45, 49, 52, 54], UN: [1, 17, 24, 26, 29, 30, 35, 38],
}  # fmt: skip

PVQ_ANCHORS = {  # PVQ-21 and PVQ-40
    1: "not like me at all", 2: "not like me", 3: "a little like me",
    4: "somewhat like me", 5: "like me", 6: "very much like me",
}  # fmt: skip
PVQRR_ANCHORS = {**PVQ_ANCHORS, 4: "moderately like me"}
SVS_ANCHORS = {-1: "opposed to my values", 0: "not important", 3: "important", 6: "very important",
               7: "of supreme importance"}  # fmt: skip


def _key(name: str) -> dict[str, list[int]]:
    return {v.value: sorted(items) for v, items in instrument_key(name).key.items()}


@pytest.mark.parametrize(
    ("name", "expected", "n_items", "n_keyed", "scale", "anchors"),
    [
        ("PVQ-21", PVQ21, 21, 21, (1, 6), PVQ_ANCHORS),
        ("PVQ-40", PVQ40, 40, 40, (1, 6), PVQ_ANCHORS),
        ("PVQ-RR", PVQRR_10, 57, 54, (1, 6), PVQRR_ANCHORS),
        ("SVS", SVS57, 57, 46, (-1, 7), SVS_ANCHORS),
    ],
)
def test_instrument_key_matches_the_published_key(
    name: str,
    expected: dict[str, list[int]],
    n_items: int,
    n_keyed: int,
    scale: tuple[int, int],
    anchors: dict[int, str],
) -> None:
    key = instrument_key(name)
    assert _key(name) == expected
    assert key.n_items == n_items and len(key.keyed_items()) == n_keyed
    assert (key.scale_min, key.scale_max) == scale
    assert key.labels == anchors


def test_every_shipped_instrument_is_checked() -> None:
    assert sorted(list_instruments()) == ["PVQ21", "PVQ40", "PVQRR", "SVS57"]


def test_pvq_rr_refined_key_matches_the_coding_instructions() -> None:
    key = instrument_key("PVQ-RR")
    assert {k: sorted(v) for k, v in (key.key19 or {}).items()} == PVQRR_19
    assert key.refined_of(9) == "Face" and key.value_of(9) is None
    assert key.refined_of(38) == "Humility" and key.value_of(38) is Value.TRADITION


def test_pan_cultural_hierarchy_follows_schwartz_and_bardi() -> None:
    # Schwartz & Bardi (2001): benevolence, self-direction and universalism most important
    # (in that order), security then conformity next, achievement and hedonism in between,
    # stimulation, tradition and power least important, power last.
    pan = get_reference("pan-cultural")
    order = [v.value for v in sorted(pan.scores, key=lambda v: -pan.scores[v])]
    assert order[:5] == [BE, SD, UN, SE, CO]
    assert set(order[5:7]) == {AC, HE}
    assert set(order[7:]) == {ST, TR, PO} and order[-1] == PO
    assert sorted(pan.scores.values()) == [float(i) for i in range(1, 11)]


def test_human_pvq21_baseline_is_mrat_centred() -> None:
    # MRAT-centred scores of a full PVQ-21 satisfy sum(n_items(value) * centred) = 0 for every
    # respondent (MRAT is the mean over all 21 items), so also for the mean over respondents;
    # the shipped means are rounded to 3 decimals: 21 items x 0.0005 bounds the residual.
    ref = get_reference("human-pvq21")
    residual = sum(len(PVQ21[v.value]) * x for v, x in ref.scores.items())
    assert abs(residual) <= 21 * 0.0005
    order = sorted(ref.scores, key=lambda v: -ref.scores[v])
    assert order[0] is Value.BENEVOLENCE and order[-1] is Value.POWER


def test_value_spectrum_table_is_a_like_rate_table() -> None:
    # Like-rates over about 50 screenshots per value: percentages 0..100 in steps of 2.
    rows = [n for n in list_references() if n.startswith("paper:")]
    assert len(rows) == 8
    for name in rows:
        scores = get_reference(name).scores
        assert set(scores) == set(Value)
        assert all(0 <= x <= 100 and x % 2 == 0 for x in scores.values()), name
    gpt = get_reference("paper:GPT-4o").scores
    assert gpt[Value.UNIVERSALISM] == 90 and gpt[Value.STIMULATION] == 56


FACTS = facts_file()


@pytest.mark.skipif(FACTS is None, reason="shared facts file (shared/data/schwartz_facts.json) not found")
def test_shared_facts_file_agrees_with_the_published_keys() -> None:
    facts = json.loads(FACTS.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    keys = facts["instrument_keys"]

    def norm(k: dict[str, list[int]]) -> dict[str, list[int]]:
        return {v: sorted(items) for v, items in k.items()}

    assert norm(keys["PVQ21_ESS"]["key"]) == PVQ21
    assert norm(keys["PVQ40"]["key"]) == PVQ40
    assert norm(keys["PVQ_RR"]["key19"]) == PVQRR_19
    assert norm(keys["PVQ_RR"]["key10"]) == PVQRR_10
    assert norm(keys["SVS57"]["key"]) == SVS57
