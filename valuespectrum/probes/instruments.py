"""Scoring keys of published Schwartz value instruments (PVQ-21, PVQ-40, PVQ-RR, SVS-57).

Only item numbers are shipped (``valuespectrum/data/instrument_keys.json``): the item texts
are copyrighted, so a user who holds them supplies them numbered, and :func:`apply_key`
turns them into keyed probes.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from valuespectrum.config import validate_value
from valuespectrum.errors import ConfigError
from valuespectrum.probes.schema import AnswerFormat, Probe, ProbeBank
from valuespectrum.values import REFINED19, REFINED_TO_BASIC, Value, parse_value


class InstrumentKey(BaseModel):
    """The scoring key of one instrument."""

    model_config = ConfigDict(frozen=True)

    name: str
    """Canonical name, e.g. "PVQ40"."""
    title: str = ""
    aliases: list[str] = Field(default_factory=list)
    """Other spellings accepted by :func:`instrument_key` (e.g. "PVQ-40")."""
    n_items: int
    """Number of items in the instrument (item numbers run 1..n_items)."""
    scale_min: int
    scale_max: int
    labels: dict[int, str] = Field(default_factory=dict)
    """Answer anchors: scale point -> label."""
    key: dict[Value, list[int]]
    """The 10-value key: value -> item numbers."""
    key19: dict[str, list[int]] | None = None
    """PVQ-RR only: refined value name (see ``REFINED19``) -> item numbers."""
    source: str = ""
    scoring: str = ""
    note: str = ""

    @field_validator("key", mode="before")
    @classmethod
    def _parse_values(cls, raw: object) -> object:
        if isinstance(raw, dict):
            return {k if isinstance(k, Value) else parse_value(str(k)): v for k, v in raw.items()}
        return raw

    @model_validator(mode="after")
    def _check(self) -> InstrumentKey:
        if self.scale_max <= self.scale_min:
            raise ValueError(f"{self.name}: scale_max must exceed scale_min")
        _check_items(self.name, "key", {v.value: items for v, items in self.key.items()}, self.n_items)
        if self.key19 is not None:
            unknown = sorted(set(self.key19) - set(REFINED19))
            if unknown:
                raise ValueError(f"{self.name}: key19 names unknown refined values {unknown}")
            _check_items(self.name, "key19", self.key19, self.n_items)
            # The 10-value key must be the roll-up of the refined key.
            for refined, items in self.key19.items():
                basic = REFINED_TO_BASIC[refined]
                if basic is not None and not set(items) <= set(self.key.get(basic, [])):
                    raise ValueError(
                        f"{self.name}: key19 {refined} items {items} are not in key {basic.value}"
                    )
        return self

    def keyed_items(self) -> list[int]:
        """Item numbers that the 10-value key scores, ascending."""
        return sorted(n for items in self.key.values() for n in items)

    def value_of(self, item_number: int) -> Value | None:
        """The value an item is keyed to, or None when the 10-value key does not score it."""
        return self._item_to_value().get(item_number)

    def refined_of(self, item_number: int) -> str | None:
        """The refined (19-value) name of an item, for instruments that have key19."""
        for refined, items in (self.key19 or {}).items():
            if item_number in items:
                return refined
        return None

    def _item_to_value(self) -> dict[int, Value]:
        return {n: v for v, items in self.key.items() for n in items}


def _check_items(name: str, field: str, key: Mapping[str, list[int]], n_items: int) -> None:
    counts = Counter(n for items in key.values() for n in items)
    twice = sorted(n for n, c in counts.items() if c > 1)
    if twice:
        raise ValueError(f"{name}: {field} lists items {twice} under more than one value")
    outside = sorted(n for n in counts if not 1 <= n <= n_items)
    if outside:
        raise ValueError(f"{name}: {field} items {outside} fall outside 1..{n_items}")


def _norm(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", name.upper())


@functools.lru_cache(maxsize=1)
def _load_keys() -> dict[str, InstrumentKey]:
    raw = json.loads(
        (resources.files("valuespectrum") / "data" / "instrument_keys.json").read_text(encoding="utf-8")
    )
    out: dict[str, InstrumentKey] = {}
    for name, spec in raw["instruments"].items():
        # a damaged install, not user input
        out[name] = validate_value(
            InstrumentKey, {"name": name, **spec}, f"instrument_keys.json: entry {name!r}"
        )
    return out


def list_instruments() -> list[str]:
    """Canonical names of the instruments whose keys ship with the package."""
    return list(_load_keys())


def instrument_key(name: str) -> InstrumentKey:
    """The key of an instrument by name or alias ("PVQ40", "pvq-40", "PVQ-RR", "SVS")."""
    keys = _load_keys()
    wanted = _norm(name)
    for key in keys.values():
        if wanted in {_norm(key.name), *(_norm(a) for a in key.aliases)}:
            return key
    raise ConfigError(f"unknown instrument {name!r}; valid instruments are: {', '.join(keys)}")


def format_for(key: InstrumentKey) -> AnswerFormat:
    """The Likert answer format of an instrument (its scale and anchors)."""
    return AnswerFormat(
        kind="likert", scale_min=key.scale_min, scale_max=key.scale_max, labels=dict(key.labels)
    )


def missing_items(key: InstrumentKey, numbers: Iterable[int]) -> list[int]:
    """Keyed item numbers that are absent from ``numbers``."""
    have = set(numbers)
    return [n for n in key.keyed_items() if n not in have]


def keyed_probe(
    key: InstrumentKey,
    item_number: int,
    text: str,
    *,
    probe_id: str | None = None,
    sign: float = 1.0,
    context: str | None = None,
    metadata: Mapping[str, str | int | float | bool | None] | None = None,
) -> Probe | None:
    """A probe for one item, keyed by the instrument; None for items the 10-value key skips.

    ``sign`` -1 reverse-keys the item (for users' variants that word an item the other way).
    """
    value = key.value_of(item_number)
    if value is None:
        return None
    meta: dict[str, str | int | float | bool | None] = dict(metadata or {})
    refined = key.refined_of(item_number)
    if refined is not None:
        meta["refined_value"] = refined
    return Probe(
        id=probe_id or f"{key.name}-{item_number:02d}",
        text=text,
        format=format_for(key),
        keys={value: sign},
        instrument=key.name,
        item_number=item_number,
        context=context,
        metadata=meta,
    )


def apply_key(
    items: Iterable[tuple[int, str]] | Mapping[int, str],
    instrument: str | InstrumentKey,
    *,
    name: str | None = None,
    source: str = "items",
) -> ProbeBank:
    """Build a keyed probe bank from a user's item texts numbered as in the instrument.

    ``items`` holds (item number, text) pairs (or a mapping number -> text). Every item the
    10-value key scores must be present; numbers outside the instrument, duplicates and empty
    texts are errors. Items the key does not score (SVS unkeyed items, PVQ-RR Face items) are
    accepted and left out of the bank. ``source`` names the input in error messages.
    """
    key = instrument if isinstance(instrument, InstrumentKey) else instrument_key(instrument)
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    numbers: list[int] = []
    for number, text in pairs:
        if isinstance(number, bool) or not isinstance(number, int):
            raise ConfigError(
                f"{source}: item number {number!r} is not an integer; expected 1..{key.n_items}"
            )
        if not 1 <= number <= key.n_items:
            raise ConfigError(
                f"{source}: item number {number} is outside {key.name}'s items 1..{key.n_items}"
            )
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{source}: item {number} has no text; expected the item's wording")
        numbers.append(number)
    dups = sorted(n for n, c in Counter(numbers).items() if c > 1)
    if dups:
        raise ConfigError(f"{source}: item numbers given more than once: {', '.join(map(str, dups))}")
    missing = missing_items(key, numbers)
    if missing:
        raise ConfigError(
            f"{source}: {key.name} items missing: {', '.join(map(str, missing))}; "
            f"expected a text for every keyed item ({len(key.keyed_items())} items)"
        )
    probes = [p for n, t in sorted(pairs) if (p := keyed_probe(key, n, t.strip())) is not None]
    return ProbeBank(name=name or key.name, probes=probes)
