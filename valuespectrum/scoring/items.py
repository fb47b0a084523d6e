"""Score one parsed answer against a probe's value keying.

One probe can inform several values, so one answer gives a list of item scores, one per
keyed value. Unparsed and failed answers give no score: the caller counts them.

- Which keys count: a key ``(v, w)`` is kept when ``|w| > weight_threshold`` and its sign
  suits ``weight_sign``: ``both`` (any sign), ``positive`` (``w > 0`` only) or ``negative``
  (``w < 0`` only). Value Portrait's headline table keeps ``r > +0.3`` (``positive``, 0.3).
- Likert (kind ``rating``): a kept key scores the rating ``s`` as ``s`` when ``w > 0`` and as
  ``scale_min + scale_max - s`` when ``w < 0`` (reverse keying; on 1..6 that is ``7 - s``, as
  in Value Portrait).
- Yes/no (kind ``endorse``): ``e = 1`` for yes, ``0`` for no, ``0.5`` for unsure; the score is
  ``e`` when ``w > 0`` and ``1 - e`` when ``w < 0``. (ValueBench's +1/0/-1 item score is
  ``2 * score - 1``.)
- Choice (kind ``choice``): for every value any option carries (or the probe's keys name),
  the score is the chosen option's weight for that value, 0 when it does not carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from valuespectrum.probes.schema import Probe
from valuespectrum.scoring.parse import NO, UNSURE, YES, ParsedAnswer
from valuespectrum.value_systems import Dim

ScoreKind = Literal["rating", "endorse", "choice"]
WeightSign = Literal["both", "positive", "negative"]
WEIGHT_SIGNS: tuple[WeightSign, ...] = ("both", "positive", "negative")

_ENDORSE = {YES: 1.0, NO: 0.0, UNSURE: 0.5}


class ItemScore(BaseModel):
    """The score one answer gives one value."""

    probe_id: str
    value: Dim
    score: float
    kind: ScoreKind
    weight: float
    """The key weight used; its sign shows reverse keying (choice items: always 1.0)."""
    raw: float | None = None
    """The answer before reverse keying: the rating (Likert, used for MRAT) or the endorsement e."""
    answer_id: str = ""
    """Which answer produced it (e.g. a run record id), so one probe asked several ways (label
    orders, prompt variants) counts once per answer in MRAT."""


@dataclass(frozen=True)
class WeightRule:
    """Which keys of a weighted item count: ``|w| > threshold`` with a sign ``sign`` admits."""

    threshold: float = 0.0
    sign: WeightSign = "both"

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ValueError(f"weight_threshold must be >= 0, got {self.threshold}")
        if self.sign not in WEIGHT_SIGNS:
            raise ValueError(f"weight_sign must be one of {', '.join(WEIGHT_SIGNS)}, got {self.sign!r}")

    def keeps(self, w: float) -> bool:
        if w == 0 or abs(w) <= self.threshold:
            return False
        return self.sign == "both" or (w > 0) == (self.sign == "positive")


def score_item(
    probe: Probe, answer: ParsedAnswer, *, weight_threshold: float = 0.0, weight_sign: WeightSign = "both"
) -> list[ItemScore]:
    """Item scores for one answer; ``[]`` when the answer is unparsed or failed, or when no
    key of the probe is kept.

    Keys with ``|weight| <= weight_threshold`` are skipped (threshold 0 keeps every non-zero
    key), and so are keys whose sign ``weight_sign`` leaves out. For choice items the rule
    applies to option weights: a value is scored when some option, or the probe's keys, weigh
    it with a kept weight.
    """
    rule = WeightRule(weight_threshold, weight_sign)
    if answer.status != "parsed" or answer.value is None:
        return []
    kind = probe.format.kind
    if kind == "likert":
        return _score_likert(probe, answer.value, rule)
    if kind == "yes_no":
        return _score_yes_no(probe, answer.value, rule)
    return _score_choice(probe, answer.value, rule)


def _score_likert(probe: Probe, value: float | str, rule: WeightRule) -> list[ItemScore]:
    if isinstance(value, str):
        raise ValueError(f"probe {probe.id!r} is a Likert item but the answer is {value!r}, not a rating")
    fmt = probe.format
    rating = float(value)
    if not fmt.scale_min <= rating <= fmt.scale_max:
        raise ValueError(f"probe {probe.id!r}: rating {rating:g} outside {fmt.scale_min}..{fmt.scale_max}")
    out = []
    for v, w in probe.keys.items():
        if not rule.keeps(w):
            continue
        score = rating if w > 0 else fmt.reverse_rating(rating)
        out.append(ItemScore(probe_id=probe.id, value=v, score=score, kind="rating", weight=w, raw=rating))
    return out


def _score_yes_no(probe: Probe, value: float | str, rule: WeightRule) -> list[ItemScore]:
    key = str(value).strip().lower()
    if key not in _ENDORSE:
        raise ValueError(f"probe {probe.id!r} is a yes/no item but the answer is {value!r}")
    e = _ENDORSE[key]
    out = []
    for v, w in probe.keys.items():
        if not rule.keeps(w):
            continue
        score = e if w > 0 else 1.0 - e
        out.append(ItemScore(probe_id=probe.id, value=v, score=score, kind="endorse", weight=w, raw=e))
    return out


def _score_choice(probe: Probe, value: float | str, rule: WeightRule) -> list[ItemScore]:
    options = {o.label: o for o in probe.format.options}
    label = str(value)
    if label not in options:
        raise ValueError(f"probe {probe.id!r}: answer {label!r} is not one of the options {list(options)}")
    chosen = options[label]
    scored: dict[Dim, None] = {}
    for o in probe.format.options:
        scored.update({v: None for v, w in o.values.items() if rule.keeps(w)})
    scored.update({v: None for v, w in probe.keys.items() if rule.keeps(w)})
    return [
        ItemScore(probe_id=probe.id, value=v, score=chosen.values.get(v, 0.0), kind="choice", weight=1.0)
        for v in scored
    ]
