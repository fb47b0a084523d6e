"""Scores from option log-likelihoods: the whole answer distribution instead of its argmax.

A model that prefers the first-presented label gives, argmax per order then pooled, exactly
the scale midpoint for every item; the probabilities it puts on the other options still carry
information. This module reads them:

- :func:`answer_distribution`: softmax of one request's option log-likelihoods, as
  probabilities of the answers *in the probe's own keying*. The rendered label is first mapped
  to the answer it presents (``option_values``), then, for reversed label orders, to the answer
  it means (``to_true``): in a reversed 1-6 scale the label "1" means rating 6.
- :func:`average_orders`: the mean distribution over label orders (each order weighs the same).
- :func:`expected_rating` (Likert), :func:`yes_no_probabilities` (P(yes), P(unsure) where
  offered) and :func:`choice_value` (probability-weighted option weight for one value).
- :func:`centred_yes_scores`: yes/no centring as MRAT does for ratings: each item's P(yes)
  minus the mean P(yes) over all items of the group, so a uniform shift of P(yes) under a
  persona (acquiescence) is not read as a value change.

Pure functions over plain numbers; nothing here calls a model or reads a run folder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from valuespectrum.probes.schema import Probe
from valuespectrum.scoring.parse import NO, UNSURE, YES, AnswerValue
from valuespectrum.value_systems import Dim
from valuespectrum.values import Value, parse_value

Distribution = dict[AnswerValue, float]
"""Probability of each answer in the probe's own keying (ratings as floats, ``yes``/``no``)."""


def answer_key(v: AnswerValue) -> AnswerValue:
    """Ratings as floats (``"4"`` and ``4`` are one answer), yes/no/unsure in lower case."""
    if isinstance(v, bool):
        raise ValueError(f"option value {v!r} is a boolean; expected a rating or an answer label")
    if isinstance(v, int | float):
        return float(v)
    s = str(v).strip()
    try:
        return float(s)
    except ValueError:
        return s.lower() if s.lower() in (YES, NO, UNSURE) else s


def answer_distribution(
    logprobs: Sequence[float],
    option_values: Sequence[AnswerValue],
    to_true: Mapping[AnswerValue, AnswerValue] | None = None,
) -> Distribution:
    """Softmax of option log-likelihoods, keyed by the answer each option means.

    ``option_values[i]`` is the answer the i-th rendered option presents; ``to_true`` maps a
    presented answer to the probe's own keying (a rendered probe's ``to_true``; identity
    when absent). Options meaning the same answer add up.
    """
    if len(logprobs) != len(option_values):
        raise ValueError(
            f"{len(logprobs)} option log-likelihoods but {len(option_values)} option values; "
            "pass one option value per rendered option"
        )
    if not logprobs:
        raise ValueError("no option log-likelihoods")
    if not all(math.isfinite(x) for x in logprobs):
        raise ValueError(f"option log-likelihoods {list(logprobs)} are not all finite")
    true_of = {answer_key(k): answer_key(v) for k, v in (to_true or {}).items()}
    top = max(logprobs)
    weights = [math.exp(x - top) for x in logprobs]
    total = sum(weights)
    out: Distribution = {}
    for w, shown in zip(weights, option_values, strict=True):
        answer = true_of.get(answer_key(shown), answer_key(shown))
        out[answer] = out.get(answer, 0.0) + w / total
    return out


def average_orders(dists: Sequence[Mapping[AnswerValue, float]]) -> Distribution:
    """The mean distribution over label orders; an answer missing from one order counts 0 there."""
    if not dists:
        raise ValueError("no distributions to average")
    answers: list[AnswerValue] = []
    for d in dists:
        answers.extend(a for a in d if a not in answers)
    return {a: sum(d.get(a, 0.0) for d in dists) / len(dists) for a in answers}


def expected_rating(dist: Mapping[AnswerValue, float]) -> float:
    """Probability-weighted mean rating of a Likert distribution."""
    total = 0.0
    for answer, p in dist.items():
        if not isinstance(answer, float):
            raise ValueError(f"answer {answer!r} is not a rating; expected_rating needs a Likert item")
        total += p * answer
    return total


@dataclass(frozen=True)
class YesNoReadout:
    p_yes: float
    p_no: float
    p_unsure: float | None
    """None when "unsure" was not offered."""

    @property
    def endorsement(self) -> float:
        """Expected endorsement with unsure counting one half (as the argmax scoring does)."""
        return self.p_yes + 0.5 * (self.p_unsure or 0.0)


def yes_no_probabilities(dist: Mapping[AnswerValue, float]) -> YesNoReadout:
    unknown = sorted(str(a) for a in dist if a not in (YES, NO, UNSURE))
    if unknown:
        raise ValueError(f"answers {unknown} are not yes/no/unsure")
    return YesNoReadout(p_yes=dist.get(YES, 0.0), p_no=dist.get(NO, 0.0), p_unsure=dist.get(UNSURE))


def choice_value(dist: Mapping[AnswerValue, float], probe: Probe, value: Value | str) -> float:
    """Probability-weighted weight of ``value`` over the options of a choice probe.

    ``dist`` is keyed by the probe's own option labels (see :func:`answer_distribution`);
    options that do not name the value weigh 0.
    """
    v = value if isinstance(value, Value) else parse_value(value)
    weights = {o.label: float(o.values.get(v, 0.0)) for o in probe.format.options}
    unknown = sorted(str(a) for a in dist if a not in weights)
    if unknown:
        raise ValueError(f"probe {probe.id!r}: answers {unknown} are not its option labels {sorted(weights)}")
    return sum(p * weights[str(a)] for a, p in dist.items())


def centred_yes_scores(items: Sequence[tuple[Mapping[Dim, float], float]]) -> dict[Dim, float]:
    """MRAT-style centred P(yes) per value over one group's items.

    ``items`` holds, per item, its value keys (sign = keying direction) and its P(yes)
    (order-averaged). Each item's P(yes) is centred on the mean P(yes) over all items; a
    value's score is the mean of ``sign(weight) x centred`` over its items. Adding the same
    amount to every P(yes) leaves every score unchanged.
    """
    if not items:
        return {}
    mean_all = sum(p for _, p in items) / len(items)
    acc: dict[Dim, list[float]] = {}
    for keys, p in items:
        for v, w in keys.items():
            if w != 0:
                acc.setdefault(v, []).append(math.copysign(1.0, w) * (p - mean_all))
    return {v: sum(xs) / len(xs) for v, xs in acc.items()}
