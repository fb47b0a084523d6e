"""Multi-step moral dilemmas in the MMDs JSON layout.

One entity per dilemma: ``norm`` and, per step n, ``Step n_situation``, ``Step n_dilemma``,
``Step n_choiceA``, ``Step n_choiceB``, ``step n_choiceA_value``, ``step n_choiceB_value``.
The upstream files mix "Step"/"step"; keys are matched case-insensitively. Files that hold
several arrays written one after another are read as one list. Value labels are plain
strings checked against a given list (``Care/Harm`` is read as ``Care``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from valuespectrum.designs.jsonfiles import match_name, read_json_items
from valuespectrum.errors import ConfigError

_STEP_KEY = re.compile(r"^step\s*(\d+)_(situation|dilemma|choicea|choiceb|choicea_value|choiceb_value)$")


@dataclass(frozen=True)
class Step:
    number: int
    situation: str
    dilemma: str
    choices: tuple[str, str]
    """Texts of choice A and choice B as the dataset gives them."""
    values: tuple[str, str]
    """The value each choice serves."""


@dataclass(frozen=True)
class Dilemma:
    id: str
    norm: str
    steps: tuple[Step, ...]


def value_list(system: str | Sequence[str]) -> list[str]:
    """The dimensions of a built-in value system (``mft6``, ``schwartz10``...) or a list of names."""
    from valuespectrum.value_systems import system_from

    return list(system_from(system).dimensions)


def load_dilemmas(
    path: str | Path, values: str | Sequence[str] = "mft6", *, limit: int | None = None
) -> list[Dilemma]:
    """Read an MMDs file; every error names the file, the dilemma, the step and the key."""
    allowed = value_list(values)
    items = read_json_items(path)
    out: list[Dilemma] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: dilemma #{i + 1}: expected an object, got {type(raw).__name__}")
        d = _dilemma(raw, i, str(path), allowed)
        if d.id in seen:
            raise ConfigError(f"{path}: dilemma {d.id}: the id is used twice; ids must be unique")
        seen.add(d.id)
        out.append(d)
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise ConfigError(f"{path}: no dilemmas found (expected a JSON array of MMDs entities)")
    return out


def _dilemma(raw: dict[str, object], index: int, path: str, allowed: list[str]) -> Dilemma:
    ident = str(raw.get("id", raw.get("ID", index + 1)))
    where = f"{path}: dilemma {ident}"
    fields: dict[int, dict[str, str]] = {}
    for key, val in raw.items():
        m = _STEP_KEY.match(str(key).strip().casefold())
        if m is None:
            continue
        if not isinstance(val, str) or not val.strip():
            raise ConfigError(f"{where}, step {m.group(1)}: key {key!r} must be a non-empty string")
        fields.setdefault(int(m.group(1)), {})[m.group(2)] = val.strip()
    if not fields:
        raise ConfigError(f"{where}: no 'Step n_situation' keys; is this an MMDs file?")
    numbers = sorted(fields)
    if numbers != list(range(1, len(numbers) + 1)):
        raise ConfigError(f"{where}: steps must be numbered 1..n without gaps, found {numbers}")
    steps = []
    for n in numbers:
        f = fields[n]
        for need in ("situation", "dilemma", "choicea", "choiceb", "choicea_value", "choiceb_value"):
            if need not in f:
                name = (
                    ("step" if need.endswith("value") else "Step")
                    + f" {n}_"
                    + need.replace("choicea", "choiceA").replace("choiceb", "choiceB")
                )
                raise ConfigError(f"{where}, step {n}: key {name!r} is missing")
        vals = []
        for side in ("a", "b"):
            v = match_name(f[f"choice{side}_value"], allowed)
            if v is None:
                raise ConfigError(
                    f"{where}, step {n}: key 'step {n}_choice{side.upper()}_value' = {f[f'choice{side}_value']!r} "
                    f"is not one of {allowed}"
                )
            vals.append(v)
        steps.append(Step(n, f["situation"], f["dilemma"], (f["choicea"], f["choiceb"]), (vals[0], vals[1])))
    norm = raw.get("norm", raw.get("Norm", ""))
    return Dilemma(ident, str(norm or ""), tuple(steps))
