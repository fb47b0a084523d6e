"""Answer-bias diagnostics for one group (model, persona, modality) asked in both label orders.

So that nobody reads a position bias or acquiescence as a value profile:

- :func:`first_option_share`: per label order, the share of answers that picked the
  first-presented option;
- :func:`yes_rate`: the share of "yes" (or the mean P(yes)) over yes/no answers, overall and
  per value;
- :func:`order_agreement`: Pearson's r between each item's answer (in the probe's own keying)
  in the forward and in the reversed order; content-driven answers agree, position-driven
  ones do not (r near 0 or negative, or undefined when one order never varies);
- :func:`position_variance_share`: the share of the answers' variance that the label order
  explains (between-order sum of squares over the total, on items answered in both orders):
  1 when every answer is the same presented position, 0 when order changes nothing;
- :func:`bias_verdict`: a plain sentence from these figures with the thresholds below.

Thresholds (documented, used by :func:`bias_verdict`):

- ``POSITION_SHARE_MIN = 0.5``: label order explains at least half the variance -> "answers
  follow label position";
- ``FIRST_OPTION_MIN = 0.8``: at least 80 % first-presented choices in *every* order -> the
  same verdict (a first-option picker);
- ``ACQUIESCENCE_MIN = 0.8`` / ``NAYSAYING_MAX = 0.2``: the yes-rate of every value at or
  above 0.8 (or at or below 0.2) -> "acquiescent" (or "nay-saying").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from valuespectrum.value_systems import Dim, dims_in

POSITION_SHARE_MIN = 0.5
FIRST_OPTION_MIN = 0.8
ACQUIESCENCE_MIN = 0.8
NAYSAYING_MAX = 0.2
_NO_VARIANCE = 1e-18
"""Sums of squares at or below this (per answer) count as no variance: float noise only."""


@dataclass(frozen=True)
class OrderedAnswer:
    """One parsed answer: which item, in which label order, the presented position it chose
    (0 = first presented) and its value in the probe's own keying (a rating, or 1/0 for yes/no)."""

    probe_id: str
    order: str
    position: int
    answer: float


def first_option_share(answers: Sequence[OrderedAnswer]) -> dict[str, float]:
    """Share of answers choosing the first-presented option, per label order."""
    by_order: dict[str, list[int]] = {}
    for a in answers:
        by_order.setdefault(a.order, []).append(int(a.position == 0))
    return {o: sum(xs) / len(xs) for o, xs in sorted(by_order.items())}


def yes_rate(p_yes: Sequence[float]) -> float | None:
    """Mean of 1/0 yes answers, or of P(yes) values; None when there are none."""
    return sum(p_yes) / len(p_yes) if p_yes else None


def yes_rate_by_value(items: Sequence[tuple[Mapping[Dim, float], float]]) -> dict[Dim, float]:
    """Yes-rate per value over the items keyed to it (any sign: acquiescence ignores keying)."""
    acc: dict[Dim, list[float]] = {}
    for keys, p in items:
        for v, w in keys.items():
            if w != 0:
                acc.setdefault(v, []).append(p)
    return {v: sum(acc[v]) / len(acc[v]) for v in dims_in(acc) if v in acc}


def _paired(answers: Sequence[OrderedAnswer], orders: tuple[str, str]) -> list[tuple[float, float]]:
    """Per item answered in both orders: (mean answer in the first order, in the second)."""
    cells: dict[tuple[str, str], list[float]] = {}
    for a in answers:
        cells.setdefault((a.probe_id, a.order), []).append(a.answer)
    items = sorted({pid for pid, o in cells if o == orders[0]} & {pid for pid, o in cells if o == orders[1]})
    return [
        (
            sum(cells[(p, orders[0])]) / len(cells[(p, orders[0])]),
            sum(cells[(p, orders[1])]) / len(cells[(p, orders[1])]),
        )
        for p in items
    ]


def order_agreement(
    answers: Sequence[OrderedAnswer], orders: tuple[str, str] = ("fwd", "rev")
) -> float | None:
    """Pearson's r between items' answers in the two orders; None below 3 items or without variance."""
    pairs = _paired(answers, orders)
    if len(pairs) < 3:
        return None
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= _NO_VARIANCE * len(xs) or syy <= _NO_VARIANCE * len(ys):
        return None
    return sxy / math.sqrt(sxx * syy)


def position_variance_share(
    answers: Sequence[OrderedAnswer], orders: tuple[str, str] = ("fwd", "rev")
) -> float | None:
    """Between-order sum of squares over the total, on items answered in both orders.

    None when fewer than one such item or the answers do not vary at all.
    """
    pairs = _paired(answers, orders)
    if not pairs:
        return None
    values = [x for p in pairs for x in p]
    grand = sum(values) / len(values)
    total = sum((x - grand) ** 2 for x in values)
    if total <= _NO_VARIANCE * max(1.0, grand * grand) * len(values):
        return None  # float noise (0.6 vs 0.6000000000000001) is not variance to explain
    n = len(pairs)
    between = sum(n * (sum(p[i] for p in pairs) / n - grand) ** 2 for i in range(2))
    return between / total


@dataclass(frozen=True)
class BiasVerdict:
    kind: Literal["position", "acquiescent", "naysaying", "none"]
    message: str


def bias_verdict(
    *,
    position_share: float | None = None,
    first_share: Mapping[str, float] | None = None,
    yes_by_value: Mapping[Dim, float] | None = None,
) -> BiasVerdict:
    """The plain verdict for one group (position bias first: it voids the profile)."""
    firsts = list((first_share or {}).values())
    if position_share is not None and position_share >= POSITION_SHARE_MIN:
        return BiasVerdict(
            "position",
            f"answers follow label position (order explains {position_share:.0%} of the variance): "
            "this profile carries no value information",
        )
    if len(firsts) >= 2 and min(firsts) >= FIRST_OPTION_MIN:
        return BiasVerdict(
            "position",
            f"answers follow label position (first-presented option chosen in {min(firsts):.0%} or more "
            "of answers in every order): this profile carries no value information",
        )
    rates = list((yes_by_value or {}).values())
    if rates and min(rates) >= ACQUIESCENCE_MIN:
        return BiasVerdict("acquiescent", f"acquiescent: P(yes) {min(rates):.2f} or more for every value")
    if rates and max(rates) <= NAYSAYING_MAX:
        return BiasVerdict("naysaying", f"nay-saying: P(yes) {max(rates):.2f} or less for every value")
    return BiasVerdict("none", "no position bias or acquiescence above the thresholds")
