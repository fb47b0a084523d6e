"""The value circle: order, opposites, neighbours, name parsing, refined-to-basic mapping."""

from __future__ import annotations

import json

import pytest
from shared_facts import facts_file

from valuespectrum.values import (
    CIRCUMPLEX,
    HEDONISM_SHARED,
    HIGHER_ORDER,
    REFINED19,
    REFINED_TO_BASIC,
    HigherOrder,
    Value,
    circular_distance,
    higher_order_of,
    neighbours,
    opposite,
    parse_value,
)

FACTS = facts_file()

# PVQ-RR scoring key (item numbers), from Schwartz's coding instructions for the PVQ-RR.
PVQ_RR_KEY19: dict[str, list[int]] = {
    "Self-Direction-Thought": [1, 23, 39],
    "Self-Direction-Action": [16, 30, 56],
    "Stimulation": [10, 28, 43],
    "Hedonism": [3, 36, 46],
    "Achievement": [17, 32, 48],
    "Power-Dominance": [6, 29, 41],
    "Power-Resources": [12, 20, 44],
    "Face": [9, 24, 49],
    "Security-Personal": [13, 26, 53],
    "Security-Societal": [2, 35, 50],
    "Tradition": [18, 33, 40],
    "Conformity-Rules": [15, 31, 42],
    "Conformity-Interpersonal": [4, 22, 51],
    "Humility": [7, 38, 54],
    "Benevolence-Dependability": [19, 27, 55],
    "Benevolence-Caring": [11, 25, 47],
    "Universalism-Concern": [5, 37, 52],
    "Universalism-Nature": [8, 21, 45],
    "Universalism-Tolerance": [14, 34, 57],
}
PVQ_RR_KEY10: dict[str, list[int]] = {
    "Self-Direction": [1, 23, 39, 16, 30, 56],
    "Stimulation": [10, 28, 43],
    "Hedonism": [3, 36, 46],
    "Achievement": [17, 32, 48],
    "Power": [6, 29, 41, 12, 20, 44],
    "Security": [13, 26, 53, 2, 35, 50],
    "Conformity": [15, 31, 42, 4, 22, 51],
    "Tradition": [18, 33, 40, 7, 38, 54],
    "Benevolence": [11, 25, 47, 19, 27, 55],
    "Universalism": [8, 21, 45, 5, 37, 52, 14, 34, 57],
}


def _key10_from_refined(key19: dict[str, list[int]]) -> dict[Value, set[int]]:
    out: dict[Value, set[int]] = {v: set() for v in Value}
    for refined, items in key19.items():
        basic = REFINED_TO_BASIC[refined]
        if basic is not None:
            out[basic].update(items)
    return out


def test_circle_order() -> None:
    assert [v.value for v in CIRCUMPLEX] == [
        "Self-Direction",
        "Stimulation",
        "Hedonism",
        "Achievement",
        "Power",
        "Security",
        "Conformity",
        "Tradition",
        "Benevolence",
        "Universalism",
    ]


@pytest.mark.parametrize(
    ("value", "opp"),
    [
        (Value.POWER, Value.UNIVERSALISM),
        (Value.ACHIEVEMENT, Value.BENEVOLENCE),
        (Value.SELF_DIRECTION, Value.SECURITY),
        (Value.STIMULATION, Value.CONFORMITY),
        (Value.HEDONISM, Value.TRADITION),
    ],
)
def test_opposites(value: Value, opp: Value) -> None:
    assert opposite(value) is opp
    assert opposite(opp) is value
    assert circular_distance(value, opp) == 5


def test_opposite_is_an_involution_without_fixed_points() -> None:
    for v in Value:
        assert opposite(opposite(v)) is v and opposite(v) is not v


def test_neighbours_wrap_around() -> None:
    assert neighbours(Value.UNIVERSALISM) == (Value.BENEVOLENCE, Value.SELF_DIRECTION)
    assert neighbours(Value.SELF_DIRECTION) == (Value.UNIVERSALISM, Value.STIMULATION)
    assert neighbours(Value.POWER) == (Value.ACHIEVEMENT, Value.SECURITY)
    for v in Value:
        assert all(circular_distance(v, n) == 1 for n in neighbours(v))
    assert circular_distance(Value.SELF_DIRECTION, Value.BENEVOLENCE) == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Self-Direction", Value.SELF_DIRECTION),
        ("self_direction", Value.SELF_DIRECTION),
        ("Self_Direction", Value.SELF_DIRECTION),
        ("Self Direction", Value.SELF_DIRECTION),
        ("selfdirection", Value.SELF_DIRECTION),
        ("SELF_DIRECTION", Value.SELF_DIRECTION),
        ("SD", Value.SELF_DIRECTION),
        (" power ", Value.POWER),
        ("PO", Value.POWER),
        ("un", Value.UNIVERSALISM),
        ("Hedonism", Value.HEDONISM),
    ],
)
def test_parse_value_aliases(name: str, value: Value) -> None:
    assert parse_value(name) is value


def test_parse_value_unknown_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown value 'Honesty'.*Self-Direction, Stimulation"):
        parse_value("Honesty")


def test_refined_values_roll_up_to_the_pvq_rr_10_value_key() -> None:
    assert list(REFINED19) == list(PVQ_RR_KEY19)
    assert set(REFINED_TO_BASIC) == set(REFINED19)
    rolled = _key10_from_refined(PVQ_RR_KEY19)
    assert rolled == {Value(k): set(v) for k, v in PVQ_RR_KEY10.items()}
    # Face is outside the 10-value key; Humility is scored with Tradition there.
    assert REFINED_TO_BASIC["Face"] is None
    assert REFINED_TO_BASIC["Humility"] is Value.TRADITION
    keyed = set().union(*rolled.values())
    assert keyed == set(range(1, 58)) - {9, 24, 49}


@pytest.mark.skipif(FACTS is None, reason="shared facts file (shared/data/schwartz_facts.json) not found")
def test_key_copies_match_the_facts_file() -> None:
    rr = json.loads(FACTS.read_text(encoding="utf-8"))["instrument_keys"]["PVQ_RR"]  # type: ignore[union-attr]
    assert rr["key19"] == PVQ_RR_KEY19
    assert rr["key10"] == PVQ_RR_KEY10


def test_higher_order_groups() -> None:
    members = [v for group in HIGHER_ORDER.values() for v in group]
    assert sorted(members, key=CIRCUMPLEX.index) == list(CIRCUMPLEX)  # each value in one group
    assert HIGHER_ORDER[HigherOrder.SELF_ENHANCEMENT] == (Value.ACHIEVEMENT, Value.POWER)
    assert Value.HEDONISM in HIGHER_ORDER[HigherOrder.OPENNESS]
    assert higher_order_of(Value.HEDONISM) == HEDONISM_SHARED
    assert higher_order_of(Value.TRADITION) == (HigherOrder.CONSERVATION,)
    assert Value.SELF_DIRECTION.short == "SD" and Value.POWER.definition
