"""The built-in text probe banks shipped as package data.

Three banks, all written for this project (no questionnaire text is reproduced):

- ``portrait``: 8 third-person portrait items per value (6 keyed +1, 2 reverse-keyed -1),
  answered on the 1-6 "how much like you" scale.
- ``agreement``: 4 "I think people should ..." statements per value (2 keyed +1, 2 keyed -1),
  answered yes/no.
- ``dilemma``: everyday scenarios whose 2-4 options each express one value.

Each bank is a JSONL file of :class:`~valuespectrum.probes.schema.Probe` objects in
``valuespectrum/data/<name>_bank.jsonl``.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from valuespectrum.config import validate_value
from valuespectrum.errors import ConfigError
from valuespectrum.probes.schema import Probe, ProbeBank

_BANKS: tuple[str, ...] = ("portrait", "agreement", "dilemma")


def list_banks() -> list[str]:
    """Names of the built-in banks, accepted by :func:`load_bank`."""
    return list(_BANKS)


def load_bank(name: str) -> ProbeBank:
    """Load a built-in bank by name ("portrait", "agreement" or "dilemma").

    Returns a fresh copy each call, so callers may modify it freely; the parsed file is cached.
    """
    key = name.strip().lower()
    if key not in _BANKS:
        raise ConfigError(f"unknown probe bank {name!r}; valid banks are: {', '.join(_BANKS)}")
    return _parse_bank(key).model_copy(deep=True)


@functools.cache
def _parse_bank(key: str) -> ProbeBank:
    filename = f"{key}_bank.jsonl"
    text = (resources.files("valuespectrum") / "data" / filename).read_text(encoding="utf-8")
    probes: list[Probe] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        # a damaged install, not user input
        probes.append(validate_value(Probe, json.loads(line), f"built-in bank file {filename} line {lineno}"))
    return ProbeBank(name=key, probes=probes)
