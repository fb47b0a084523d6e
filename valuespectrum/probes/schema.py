"""One probe schema for every item type the suite asks a model.

A probe has an *answer format* (how the model answers) and a *value keying* (how the
answer counts toward each value), kept apart so that any format can carry any keying:

- Likert portrait item: format ``likert`` (1-6), keys ``{Value: +1}``; reverse-keyed ``-1``.
- Yes/no item (Value-Spectrum "do you like this?"): format ``yes_no``, keys ``{Value: +1}``.
- Agreement item (ValueBench style): format ``yes_no``, keys ``{Value: +1 or -1}``.
- Multiple choice: format ``choice``; each option carries its own value weights.
- Weighted item (Value Portrait): format ``likert``, keys = per-value weights such as the
  item's correlation with human raters' value scores; scoring applies a |weight| threshold.
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from valuespectrum.types import MediaRef
from valuespectrum.value_systems import SCHWARTZ10, Dim, check_system_id, key_of
from valuespectrum.values import Value, parse_value

AnswerKind = Literal["likert", "yes_no", "choice"]


def _coerce_keys(raw: object, system: str = SCHWARTZ10) -> dict[Dim, float]:
    """Value name -> weight, names resolved in ``system`` (``Value`` members for Schwartz's ten)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("value keys must be a mapping of value name -> weight")
    return {key_of(system, k): float(w) for k, w in raw.items()}


def _lenient_keys(raw: object) -> dict[Dim, float]:
    """Option weights: Schwartz names become ``Value``; other names are kept for the probe,
    which knows its value system, to check."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("value keys must be a mapping of value name -> weight")
    out: dict[Dim, float] = {}
    for k, w in raw.items():
        try:
            out[k if isinstance(k, Value) else parse_value(str(k))] = float(w)
        except ValueError:
            out[str(k).strip()] = float(w)
    return out


class Option(BaseModel):
    """An answer option of a multiple-choice item."""

    model_config = ConfigDict(frozen=True)

    label: str
    """What the model answers to pick it ("A", "B", ...)."""
    text: str
    values: dict[Dim, float] = Field(default_factory=dict)
    """Value weights the option expresses (1.0 = expresses the value)."""

    _v = field_validator("values", mode="before")(classmethod(lambda cls, v: _lenient_keys(v)))


class AnswerFormat(BaseModel):
    """How a probe is answered."""

    kind: AnswerKind
    scale_min: int = 1
    scale_max: int = 6
    labels: dict[int, str] = Field(default_factory=dict)
    """Likert point -> verbal label (e.g. 6 -> "very much like me")."""
    options: list[Option] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> AnswerFormat:
        if self.kind == "likert":
            if self.scale_max <= self.scale_min:
                raise ValueError(f"scale_max ({self.scale_max}) must exceed scale_min ({self.scale_min})")
            bad = [k for k in self.labels if not self.scale_min <= k <= self.scale_max]
            if bad:
                raise ValueError(f"Likert labels {bad} fall outside {self.scale_min}..{self.scale_max}")
        if self.kind == "choice":
            if len(self.options) < 2:
                raise ValueError("a choice item needs at least two options")
            labels = [o.label for o in self.options]
            if len(set(labels)) != len(labels):
                raise ValueError(f"duplicate option labels {labels}")
        return self

    @classmethod
    def likert6(cls) -> AnswerFormat:
        return cls(kind="likert", scale_min=1, scale_max=6, labels=dict(PORTRAIT_LABELS))

    @classmethod
    def yes_no(cls) -> AnswerFormat:
        return cls(kind="yes_no")

    @classmethod
    def choice(cls, options: list[tuple[str, dict[Dim, float]]]) -> AnswerFormat:
        letters = string.ascii_uppercase
        return cls(
            kind="choice",
            options=[Option(label=letters[i], text=t, values=v) for i, (t, v) in enumerate(options)],
        )

    def reverse_rating(self, rating: float) -> float:
        """Reverse-key a Likert rating: on 1..6, 1<->6, 2<->5, 3<->4."""
        return self.scale_min + self.scale_max - rating


#: The portrait-questionnaire answer labels (wording of our own).
PORTRAIT_LABELS: dict[int, str] = {
    1: "not like me at all",
    2: "not like me",
    3: "a little like me",
    4: "somewhat like me",
    5: "like me",
    6: "very much like me",
}


class Probe(BaseModel):
    """One item put to a model."""

    id: str
    """Unique within its bank or probe set."""
    text: str
    """The item text: a portrait description, a question, a statement or a scenario."""
    format: AnswerFormat
    value_system: str = Field(default=SCHWARTZ10, exclude_if=lambda v: v == SCHWARTZ10)
    """The value system the keys name (see :mod:`valuespectrum.value_systems`); left out of
    dumps for Schwartz's ten, so probe files written before it read and hash the same."""
    keys: dict[Dim, float] = Field(default_factory=dict)
    """Value keying of the answer: weight per value; negative = reverse-keyed."""
    instrument: str | None = None
    """Source instrument or bank (e.g. "builtin-portrait", "PVQ40", a user's file name)."""
    item_number: int | None = None
    """Position in its instrument, for scoring keys given as item numbers."""
    media: list[MediaRef] = Field(default_factory=list)
    """Images, or a video's sampled frames, shown with the item."""
    media_kind: Literal["none", "image", "video"] = "none"
    caption: str | None = None
    """Text of the content (caption, title) for text-only modality runs."""
    context: str | None = None
    """For (query, response) items: the query the response answers."""
    metadata: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @field_validator("value_system", mode="before")
    @classmethod
    def _system(cls, raw: object) -> str:
        return check_system_id(str(raw))

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, raw: object, info: ValidationInfo) -> dict[Dim, float]:
        return _coerce_keys(raw, info.data.get("value_system", SCHWARTZ10))

    @model_validator(mode="after")
    def _check(self) -> Probe:
        if not self.id:
            raise ValueError("probe id must be non-empty")
        for o in self.format.options:
            if any(not isinstance(k, Value) or self.value_system != SCHWARTZ10 for k in o.values):
                # lenient on the option; checked here against the probe's system
                object.__setattr__(o, "values", _coerce_keys(dict(o.values), self.value_system))
        if self.format.kind == "choice":
            if not any(o.values for o in self.format.options) and not self.keys:
                raise ValueError(f"choice item {self.id!r}: no option carries a value")
        elif not self.keys:
            raise ValueError(f"item {self.id!r} has no value keying (keys is empty)")
        if self.media and self.media_kind == "none":
            self.media_kind = "image" if len(self.media) == 1 else "video"
        return self

    def values(self) -> list[Dim]:
        """Every value this probe can inform."""
        seen = dict.fromkeys(self.keys)
        for o in self.format.options:
            seen.update(dict.fromkeys(o.values))
        return list(seen)


class ProbeBank(BaseModel):
    """A named, versioned list of probes."""

    name: str
    version: str = "1"
    probes: list[Probe]

    @model_validator(mode="after")
    def _unique(self) -> ProbeBank:
        seen: set[str] = set()
        dups = [p.id for p in self.probes if p.id in seen or seen.add(p.id)]  # type: ignore[func-returns-value]
        if dups:
            raise ValueError(f"bank {self.name!r}: duplicate probe ids {sorted(set(dups))[:5]}")
        return self

    def by_value(self) -> dict[Dim, list[Probe]]:
        """Probes per value: Schwartz's ten in circumplex order, or the values in use."""
        schwartz = all(p.value_system == SCHWARTZ10 for p in self.probes)
        out: dict[Dim, list[Probe]] = {v: [] for v in Value} if schwartz else {}
        for p in self.probes:
            for v in p.values():
                out.setdefault(v, []).append(p)
        return out
