"""Built-in probe banks and shipped instrument keys."""

from __future__ import annotations

import re
import statistics
from collections import Counter

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.probes.bank import list_banks, load_bank
from valuespectrum.probes.instruments import apply_key, instrument_key, list_instruments
from valuespectrum.values import REFINED19, Value

GENDERED = re.compile(r"\b(he|she|his|her|hers|him|himself|herself)\b", re.IGNORECASE)


def test_list_banks_names_the_three_banks() -> None:
    assert list_banks() == ["portrait", "agreement", "dilemma"]


def test_unknown_bank_lists_valid_names() -> None:
    with pytest.raises(ConfigError) as err:
        load_bank("portraits")
    assert "'portraits'" in str(err.value)
    assert "portrait, agreement, dilemma" in str(err.value)


@pytest.mark.parametrize("name", ["portrait", "agreement", "dilemma"])
def test_bank_ids_unique_and_wording_gender_neutral(name: str) -> None:
    bank = load_bank(name)
    ids = [p.id for p in bank.probes]
    assert len(ids) == len(set(ids))
    for p in bank.probes:
        texts = [p.text, *(o.text for o in p.format.options)]
        for t in texts:
            assert not GENDERED.search(t), f"{p.id}: gendered word in {t!r}"
        assert p.instrument == f"builtin-{name}"


def test_portrait_bank_is_balanced_with_two_reversed_items_per_value() -> None:
    bank = load_bank("portrait")
    assert len(bank.probes) == 80
    per_value = bank.by_value()
    assert {v: len(ps) for v, ps in per_value.items()} == {v: 8 for v in Value}
    for v, ps in per_value.items():
        weights = sorted(p.keys[v] for p in ps)
        assert weights == [-1.0, -1.0] + [1.0] * 6, v
        assert all(len(p.keys) == 1 for p in ps)
        # The flag and the key agree.
        assert all(p.metadata["reversed"] == (p.keys[v] < 0) for p in ps)
    fmt = bank.probes[0].format
    assert (fmt.kind, fmt.scale_min, fmt.scale_max) == ("likert", 1, 6)
    assert fmt.labels[1] == "not like me at all" and fmt.labels[6] == "very much like me"


def test_portrait_items_are_third_person_they_and_matched_in_length() -> None:
    bank = load_bank("portrait")
    for p in bank.probes:
        assert re.search(r"\b(they|them|their)\b", p.text, re.IGNORECASE), p.id
    words = {v: [len(p.text.split()) for p in ps] for v, ps in bank.by_value().items()}
    overall = statistics.mean(n for ns in words.values() for n in ns)
    # No value's items are noticeably longer or shorter than the rest (within 15%).
    for v, ns in words.items():
        assert abs(statistics.mean(ns) - overall) / overall < 0.15, v


def test_agreement_bank_has_two_agree_and_two_disagree_keyed_items_per_value() -> None:
    bank = load_bank("agreement")
    assert len(bank.probes) == 40
    for v, ps in bank.by_value().items():
        assert sorted(p.keys[v] for p in ps) == [-1.0, -1.0, 1.0, 1.0], v
    assert all(p.format.kind == "yes_no" for p in bank.probes)
    assert all(p.text.startswith("I think ") for p in bank.probes)


def test_dilemma_bank_options_each_carry_one_value_and_cover_every_value() -> None:
    bank = load_bank("dilemma")
    assert len(bank.probes) >= 15
    seen: Counter[Value] = Counter()
    for p in bank.probes:
        assert p.format.kind == "choice"
        assert 2 <= len(p.format.options) <= 4
        labels = [o.label for o in p.format.options]
        assert labels == ["A", "B", "C", "D"][: len(labels)]
        values = [next(iter(o.values)) for o in p.format.options]
        assert all(len(o.values) == 1 and next(iter(o.values.values())) == 1.0 for o in p.format.options)
        assert len(set(values)) == len(values), f"{p.id}: two options express the same value"
        seen.update(values)
    assert set(seen) == set(Value)
    assert min(seen.values()) >= 3


def test_load_bank_returns_an_independent_copy() -> None:
    first = load_bank("portrait")
    original = first.probes[0].text
    first.probes[0].text = "changed"
    first.probes.pop()
    again = load_bank("Portrait")
    assert again.probes[0].text == original
    assert len(again.probes) == 80


# --- instrument keys -------------------------------------------------------------------------


def test_list_and_resolve_instruments_by_alias() -> None:
    assert list_instruments() == ["PVQ21", "PVQ40", "PVQRR", "SVS57"]
    assert instrument_key("pvq-40").name == "PVQ40"
    assert instrument_key("PVQ_RR").name == "PVQRR"
    assert instrument_key("svs").name == "SVS57"
    assert instrument_key("PVQ21_ESS").name == "PVQ21"
    with pytest.raises(ConfigError, match="unknown instrument 'PVQ99'; valid instruments are: PVQ21, PVQ40"):
        instrument_key("PVQ99")


def test_pvq_keys_cover_every_item_exactly_once() -> None:
    for name, n in (("PVQ21", 21), ("PVQ40", 40)):
        key = instrument_key(name)
        assert key.keyed_items() == list(range(1, n + 1))
        assert set(key.key) == set(Value)
        assert (key.scale_min, key.scale_max) == (1, 6)
    # Spot checks against the published PVQ-40 key.
    pvq40 = instrument_key("PVQ40")
    assert pvq40.key[Value.POWER] == [2, 17, 39]
    assert pvq40.key[Value.UNIVERSALISM] == [3, 8, 19, 23, 29, 40]
    assert pvq40.value_of(10) is Value.HEDONISM


def test_pvq_rr_keys_roll_up_and_leave_out_face() -> None:
    key = instrument_key("PVQ-RR")
    assert key.key19 is not None
    assert set(key.key19) == set(REFINED19)
    assert all(len(items) == 3 for items in key.key19.values())
    assert sorted(n for items in key.key19.values() for n in items) == list(range(1, 58))
    assert key.keyed_items() == [n for n in range(1, 58) if n not in (9, 24, 49)]
    assert sorted(key.key[Value.TRADITION]) == sorted(key.key19["Tradition"] + key.key19["Humility"])
    assert key.refined_of(24) == "Face" and key.value_of(24) is None
    assert key.refined_of(56) == "Self-Direction-Action" and key.value_of(56) is Value.SELF_DIRECTION


def test_svs_key_scale_and_unkeyed_items() -> None:
    key = instrument_key("SVS57")
    assert (key.scale_min, key.scale_max) == (-1, 7)
    assert len(key.keyed_items()) == 46
    assert key.value_of(2) is None  # not keyed to any value


def test_apply_key_builds_probes_from_numbered_texts() -> None:
    texts = [(n, f"item {n} text") for n in range(40, 0, -1)]  # order does not matter
    bank = apply_key(texts, "PVQ40")
    assert bank.name == "PVQ40"
    assert [p.item_number for p in bank.probes] == list(range(1, 41))
    p17 = bank.probes[16]
    assert (p17.id, p17.text, p17.keys, p17.instrument) == (
        "PVQ40-17",
        "item 17 text",
        {Value.POWER: 1.0},
        "PVQ40",
    )
    assert (p17.format.scale_min, p17.format.scale_max) == (1, 6)
    counts = {v: len(ps) for v, ps in bank.by_value().items()}
    assert counts[Value.UNIVERSALISM] == 6 and counts[Value.STIMULATION] == 3


def test_apply_key_pvq_rr_and_svs() -> None:
    rr = apply_key({n: f"item {n} text" for n in range(1, 58)}, "PVQ-RR", name="my-rr")
    assert rr.name == "my-rr"
    assert len(rr.probes) == 54  # the three Face items are not in the 10-value key
    humility = [p for p in rr.probes if p.metadata.get("refined_value") == "Humility"]
    assert [p.item_number for p in humility] == [7, 38, 54]
    assert all(p.keys == {Value.TRADITION: 1.0} for p in humility)

    svs_items = [(n, f"value {n}") for n in range(1, 58)]
    svs = apply_key(svs_items, "SVS")
    assert len(svs.probes) == 46
    assert (svs.probes[0].format.scale_min, svs.probes[0].format.scale_max) == (-1, 7)


def test_apply_key_lists_missing_duplicate_and_out_of_range_items() -> None:
    texts = [(n, f"item {n}") for n in range(1, 41) if n not in (3, 17, 40)]
    with pytest.raises(ConfigError, match=r"PVQ40 items missing: 3, 17, 40"):
        apply_key(texts, "PVQ40", source="pvq40.txt")
    with pytest.raises(ConfigError, match=r"^pvq21: item numbers given more than once: 5$"):
        apply_key([(n, "t") for n in [*range(1, 22), 5]], "PVQ21", source="pvq21")
    with pytest.raises(ConfigError, match=r"item number 22 is outside PVQ21's items 1\.\.21"):
        apply_key([(n, "t") for n in range(1, 23)], "PVQ21")
    with pytest.raises(ConfigError, match=r"item 4 has no text"):
        apply_key([(n, "" if n == 4 else "t") for n in range(1, 22)], "PVQ21")
