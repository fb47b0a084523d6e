"""Small probe banks written to disk for end-to-end runs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from valuespectrum.probes.schema import AnswerFormat, Probe, ProbeBank
from valuespectrum.values import Value


def write_definition_bank(path: Path, values: Iterable[Value]) -> Path:
    """A bank ``mini`` with one Likert-6 item for each value (its definition, keyed +1 to it), as JSON."""
    bank = ProbeBank(
        name="mini",
        probes=[
            Probe(id=f"p{k}", text=v.definition, format=AnswerFormat.likert6(), keys={v: 1})
            for k, v in enumerate(values)
        ],
    )
    path.write_text(bank.model_dump_json())
    return path
