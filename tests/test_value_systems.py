"""Value systems: alias resolution and refusal messages per built-in system, by hand."""

from __future__ import annotations

import pytest

from valuespectrum.designs.dilemmas.loader import value_list
from valuespectrum.errors import ConfigError
from valuespectrum.value_systems import BUILTIN, free, get_system, system_from, to_schwartz10
from valuespectrum.values import Value, opposite


def test_schwartz10_aliases_and_circle() -> None:
    s = get_system("schwartz10")
    assert s.dimensions == tuple(v.value for v in Value)
    for raw in ("SD", "self direction", "SELF_DIRECTION", "Self-Direction", "self-direction."):
        assert s.resolve(raw) == "Self-Direction"
    assert s.opposite("Self-Direction") == opposite(Value.SELF_DIRECTION).value == "Security"
    assert s.distance("UN", "SD") == 1 and s.distance("PO", "UN") == 5
    s.require_schwartz("the circumplex check")  # no error


def test_schwartz19_maps_onto_the_ten() -> None:
    s = get_system("schwartz19")
    assert len(s.dimensions) == 19 and s.resolve("SDT") == "Self-Direction-Thought"
    assert s.resolve("universalism nature") == "Universalism-Nature"
    assert to_schwartz10(s, "Face") is Value.POWER and to_schwartz10(s, "HUM") is Value.TRADITION
    assert {to_schwartz10(s, d) for d in s.dimensions} == set(Value)
    with pytest.raises(ConfigError, match=r"rests on Schwartz's ten values .* 'schwartz19'"):
        s.require_schwartz("Higher-order values")


def test_mft6_aliases_and_refusals() -> None:
    s = get_system("MFT6")
    assert s.dimensions == ("Care", "Fairness", "Loyalty", "Authority", "Sanctity", "Liberty")
    assert [s.resolve(x) for x in ("Care/Harm", "purity", "care (harm)", "ingroup")] == [
        "Care",
        "Sanctity",
        "Care",
        "Loyalty",
    ]
    with pytest.raises(
        ConfigError,
        match=r"items.csv: 'Honesty' is not a dimension of value system 'mft6'; use one of \['Care'",
    ):
        s.resolve("Honesty", where="items.csv")
    with pytest.raises(
        ConfigError, match=r"2 name\(s\) are not dimensions .*\['Honesty', 'Power'\].*value_map"
    ):
        s.resolve_all(["Care", "Honesty", "Power"])
    with pytest.raises(ConfigError, match="has no circular order"):
        s.opposite("Care")
    with pytest.raises(ConfigError, match="does not apply to value system 'mft6'"):
        s.require_schwartz("The circumplex check")
    assert to_schwartz10(s, "Care") is None


def test_free_systems_and_manifest_settings() -> None:
    s = free("daily", ["honesty", "Trust", "honesty ", "self-respect"])
    assert s.dimensions == ("honesty", "Trust", "self-respect") and s.resolve("TRUST") == "Trust"
    assert system_from(["a", "b"]).dimensions == ("a", "b")
    assert value_list("mft6") == list(BUILTIN["mft6"].dimensions)
    with pytest.raises(ConfigError, match=r"unknown value system 'mft5'; built-in systems are \['mft6'"):
        get_system("mft5")
    with pytest.raises(ConfigError, match="no dimension names"):
        free("x", [" "])
