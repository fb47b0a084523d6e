"""Which values a text expresses: per opinion and value a yes/no judgment, OR-aggregated.

A response is cut into opinions (its sentences, or the whole text), and a judge asks of each
opinion and value "does this express V?". A value is present in the response when any opinion
expresses it (OR). Judgments that cannot be read are counted, never taken as "no" silently:
a value whose every judgment failed is reported as unread for that text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from valuespectrum.backends.base import Backend
from valuespectrum.judges.judge import Judge, JudgeItem, Judgment
from valuespectrum.value_systems import ValueSystem, get_system

OpinionSplit = Literal["sentences", "whole"]

RUBRIC = (
    "Value: {value}. {definition}\n\nText: {answer}\n\nDoes this text express or argue for the value {value}?"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def opinions(text: str, split: OpinionSplit = "sentences", *, limit: int = 5) -> list[str]:
    text = " ".join(text.split())
    if not text:
        return []
    if split == "whole":
        return [text]
    parts = [p.strip() for p in _SENTENCE.split(text) if len(p.strip().split()) >= 3]
    return (parts or [text])[:limit]


@dataclass
class Extraction:
    """Values found in one text: presence per value (1, 0, or None when unread)."""

    presence: dict[str, int | None]
    opinions: list[str]
    judgments: list[Judgment] = field(default_factory=list)

    @property
    def n_unread(self) -> int:
        return sum(j.status != "parsed" for j in self.judgments)

    def vector(self, values: Sequence[str]) -> list[float]:
        return [float(self.presence.get(v) or 0) for v in values]


class ValueExtractor:
    """Presence of each dimension of a value system (Schwartz's ten by default; ``mft6`` for
    Moral Foundations...) in a text, through a yes/no ``Judge`` on ``backend``."""

    def __init__(
        self,
        backend: Backend,
        *,
        system: str | ValueSystem = "schwartz10",
        definitions: dict[str, str] | None = None,
        split: OpinionSplit = "sentences",
        max_opinions: int = 5,
        mode: Literal["auto", "options", "text"] = "auto",
    ) -> None:
        self.system = get_system(system)
        self.values = list(self.system.dimensions)
        defs = dict(self.system.definitions)
        defs.update(definitions or {})
        self.definitions = {v: defs.get(v, "") for v in self.values}
        self.split: OpinionSplit = split
        self.max_opinions = max_opinions
        self.judge = Judge(backend, RUBRIC, ["yes", "no"], mode=mode, name="value-extractor")

    def items(self, text: str, prefix: str) -> tuple[list[str], list[JudgeItem]]:
        ops = opinions(text, self.split, limit=self.max_opinions)
        items = [
            JudgeItem(
                answer=op,
                id=f"{prefix}|o{i}|{v}",
                fields={"value": v, "definition": self.definitions[v]},
            )
            for i, op in enumerate(ops)
            for v in self.values
        ]
        return ops, items

    def combine(self, ops: list[str], judgments: list[Judgment]) -> Extraction:
        presence: dict[str, int | None] = dict.fromkeys(self.values)
        for j in judgments:
            value = j.item_id.rsplit("|", 1)[1]
            if j.status != "parsed":
                continue
            hit = 1 if j.label == "yes" else 0
            presence[value] = max(presence[value] or 0, hit)
        return Extraction(presence, ops, judgments)
