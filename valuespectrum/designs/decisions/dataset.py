"""Scenarios in the ValuePilot layout, and human-study files.

A scenario file is a JSON list of ``{"values": [names], "scenario": str, "actions":
[{"description": str, "values": [6 ratings in -1..1]}]}``; ratings follow the fixed dimension
order ``DIMENSIONS``. A dataset folder (``value_k/{train,test}_data/*.json``) is read whole,
each scenario tagged with its split. Human study: a questionnaire (scenarios in the same
layout) and a results file, a list of people ``{"value_point": [6 floats in 0..1],
"choices": [ranking per scenario]}``, rankings as action numbers (1-based by default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from valuespectrum.designs.jsonfiles import match_name, read_json_items
from valuespectrum.errors import ConfigError

DIMENSIONS = ["curiosity", "energy", "safety", "happiness", "intimacy", "fairness"]

#: Ours, for cross-reports only: the closest Schwartz value of each dimension (energy has none).
SCHWARTZ_MAP = {
    "curiosity": "Stimulation",
    "energy": None,
    "safety": "Security",
    "happiness": "Hedonism",
    "intimacy": "Benevolence",
    "fairness": "Universalism",
}


@dataclass(frozen=True)
class Action:
    description: str
    ratings: tuple[float, ...]


@dataclass(frozen=True)
class Scenario:
    id: str
    text: str
    values: tuple[str, ...]
    """The dimensions the scenario involves (its relevance)."""
    actions: tuple[Action, ...]
    split: str = ""

    @property
    def relevance(self) -> list[float]:
        return [1.0 if d in self.values else 0.0 for d in DIMENSIONS]


@dataclass(frozen=True)
class Person:
    id: str
    preferences: tuple[float, ...]
    rankings: tuple[tuple[int, ...], ...]
    """Per scenario, action indices (0-based) from best to worst."""


def _floats(raw: object, where: str, lo: float, hi: float) -> tuple[float, ...]:
    if not isinstance(raw, list) or len(raw) != len(DIMENSIONS):
        n = len(raw) if isinstance(raw, list) else type(raw).__name__
        raise ConfigError(
            f"{where}: 'values' must hold {len(DIMENSIONS)} numbers ({', '.join(DIMENSIONS)}), got {n}"
        )
    out = []
    for x in raw:
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or not lo <= x <= hi:
            raise ConfigError(f"{where}: value {x!r} is not a number in {lo}..{hi}")
        out.append(float(x))
    return tuple(out)


def load_scenarios(path: str | Path, *, split: str = "", prefix: str = "") -> list[Scenario]:
    """One scenario file; errors name the file, the scenario and the action."""
    out = []
    for i, raw in enumerate(read_json_items(path)):
        sid = f"{prefix}{i + 1}"
        where = f"{path}: scenario {i + 1}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected an object, got {type(raw).__name__}")
        text = raw.get("scenario")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{where}: 'scenario' must be a non-empty string")
        names = []
        for v in raw.get("values", []) or []:
            d = match_name(v, DIMENSIONS)
            if d is None:
                raise ConfigError(f"{where}: value name {v!r} is not one of {DIMENSIONS}")
            names.append(d)
        acts = raw.get("actions")
        if not isinstance(acts, list) or len(acts) < 2:
            raise ConfigError(f"{where}: 'actions' must be a list of at least two actions")
        actions = []
        for j, a in enumerate(acts):
            aw = f"{where}, action {j + 1}"
            if not isinstance(a, dict) or not isinstance(a.get("description"), str):
                raise ConfigError(f"{aw}: expected {{'description': str, 'values': [6 numbers]}}")
            actions.append(Action(a["description"].strip(), _floats(a.get("values"), aw, -1.0, 1.0)))
        out.append(Scenario(str(raw.get("id", sid)), text.strip(), tuple(names), tuple(actions), split))
    return out


def load_dataset(path: str | Path) -> list[Scenario]:
    """A scenario file, or a folder of them (split from a ``train_data``/``test_data`` parent)."""
    p = Path(path)
    if p.is_file():
        return load_scenarios(p)
    if not p.is_dir():
        raise ConfigError(f"{p}: no such file or folder (expected ValuePilot scenario JSON)")
    out: list[Scenario] = []
    for f in sorted(p.rglob("*.json")):
        rel = f.relative_to(p)
        split = next((s.split("_")[0] for s in rel.parts if s in ("train_data", "test_data")), "")
        out.extend(load_scenarios(f, split=split, prefix=f"{rel.with_suffix('').as_posix()}#"))
    if not out:
        raise ConfigError(f"{p}: no .json scenario files found")
    return out


def load_people(path: str | Path, scenarios: Sequence[Scenario], *, base: int = 1) -> list[Person]:
    """The human-study results; each ranking must be a permutation of its scenario's actions."""
    out = []
    for i, raw in enumerate(read_json_items(path)):
        where = f"{path}: person {i + 1}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected an object with 'value_point' and 'choices'")
        prefs = _floats(raw.get("value_point"), f"{where}, 'value_point'", 0.0, 1.0)
        choices = raw.get("choices")
        if not isinstance(choices, list) or len(choices) != len(scenarios):
            raise ConfigError(f"{where}: 'choices' must hold one ranking per scenario ({len(scenarios)})")
        ranks = []
        for k, (r, sc) in enumerate(zip(choices, scenarios, strict=True)):
            want = list(range(base, base + len(sc.actions)))
            if not isinstance(r, list) or sorted(r) != want:
                raise ConfigError(f"{where}, scenario {k + 1}: ranking {r!r} is not an ordering of {want}")
            ranks.append(tuple(int(x) - base for x in r))
        out.append(Person(str(raw.get("id", i + 1)), prefs, tuple(ranks)))
    return out
