"""The option-distribution readout and the answer-bias figures of a scored run.

Per record (:func:`read_record`): the full answer distribution in the probe's own keying
(each rendered label mapped to the answer it means, so both label orders read alike), the
presented position of the argmax answer, and the item scores of the *expected* readout:

- Likert: the expected rating ``E = sum p(r) r`` (reverse-keyed: ``min + max - E``);
- yes/no: the expected endorsement ``P(yes) + P(unsure) / 2`` (reverse-keyed: ``1 - e``);
- choice: the probability-weighted option weight of each value.

An answer read from text has no distribution: its expected readout is its argmax answer
(a one-hot distribution), and the group counts how many answers had one (``n_distribution``).
Pooling both label orders' item scores averages the orders (each record weighs the same), which
for these linear readings equals reading the order-averaged distribution.

Per group (:func:`profile_of`): the profile under each readout; expected yes/no profiles get
centred scores (each item's endorsement minus the mean endorsement of the group's items, see
``scoring.readout.centred_yes_scores``), as MRAT centres ratings. :func:`group_bias` gives the
bias figures and verdict (``scoring.bias``) under each readout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from valuespectrum.probes.render import RenderedProbe
from valuespectrum.probes.schema import Probe
from valuespectrum.runs.readout_log import BiasSummary, Readout
from valuespectrum.scoring.bias import (
    OrderedAnswer,
    bias_verdict,
    first_option_share,
    order_agreement,
    position_variance_share,
    yes_rate,
    yes_rate_by_value,
)
from valuespectrum.scoring.items import ItemScore, WeightRule, WeightSign
from valuespectrum.scoring.parse import NO, UNSURE, YES, AnswerValue, ParsedAnswer
from valuespectrum.scoring.profile import SCHWARTZ_DIMS, ValueProfile, build_profile
from valuespectrum.scoring.readout import (
    Distribution,
    answer_distribution,
    answer_key,
    centred_yes_scores,
    choice_value,
    expected_rating,
    yes_no_probabilities,
)
from valuespectrum.types import ModelResponse
from valuespectrum.value_systems import Dim, dim_name

_ENDORSE = {YES: 1.0, NO: 0.0, UNSURE: 0.5}


def answer_label(a: AnswerValue) -> str:
    """A distribution key as JSON text: ratings ``"4"``, ``"yes"``, option labels as they are."""
    return f"{a:g}" if isinstance(a, float) else str(a)


@dataclass(frozen=True)
class BiasObservation:
    """One parsed record as the bias figures need it (answers in the probe's own keying)."""

    probe_id: str
    order: str
    keys: Mapping[Dim, float]
    yes_no: bool
    position: int
    p_first: float
    """Probability of the first-presented option (1/0 for an answer read from text)."""
    answer: dict[str, float]
    """Per readout, the answer as a number: rating, endorsement, or option index."""


@dataclass(frozen=True)
class Reading:
    distribution: Distribution | None
    position: int | None
    expected_items: list[ItemScore] = field(default_factory=list)
    bounded: bool = False
    observation: BiasObservation | None = None
    option_scores: str | None = None
    """How the distribution's scores were read: exact, topk (first-token approximation) or
    bounded (see ``ModelResponse.option_scores``); None without a distribution."""


def read_record(
    probe: Probe,
    rendered: RenderedProbe,
    answer: ParsedAnswer,
    response: ModelResponse,
    *,
    order: str,
    answer_id: str,
    weight_threshold: float,
    weight_sign: WeightSign = "both",
) -> Reading:
    """The distribution, argmax position and expected item scores of one record."""
    bounded = any(response.option_logprobs_bounded or [])
    if answer.status != "parsed" or answer.value is None or rendered.option_values is None:
        return Reading(None, None, bounded=bounded)
    shown = [answer_key(v) for v in rendered.option_values]
    true_of = {answer_key(k): answer_key(v) for k, v in rendered.to_true.items()}
    means = [true_of.get(v, v) for v in shown]
    chosen = answer_key(answer.value)
    position = means.index(chosen) if chosen in means else None
    dist: Distribution | None = None
    if answer.method == "logprob" and response.option_logprobs is not None:
        dist = answer_distribution(response.option_logprobs, rendered.option_values, rendered.to_true)
    reading = dist if dist is not None else {chosen: 1.0}
    items = expected_item_scores(
        probe, reading, answer_id=answer_id, weight_threshold=weight_threshold, weight_sign=weight_sign
    )
    obs = None
    if position is not None:
        obs = BiasObservation(
            probe_id=probe.id,
            order=order,
            keys=dict(probe.keys),
            yes_no=probe.format.kind == "yes_no",
            position=position,
            p_first=reading.get(means[0], 0.0),
            answer={
                "argmax": _as_number(probe, {chosen: 1.0}),
                "expected": _as_number(probe, reading),
            },
        )
    source = None
    if dist is not None:
        source = response.option_scores or _source_unrecorded(response, bounded)
    return Reading(dist, position, items, bounded, obs, source)


def _source_unrecorded(response: ModelResponse, bounded: bool) -> str:
    """Local models leave ``option_scores`` unset (their scores are exact); server records written
    before it was recorded held first-token top-k readings, so they are never counted exact."""
    if bounded:
        return "bounded"
    return "topk" if response.model_id.startswith("openai:") else "exact"


def _as_number(probe: Probe, dist: Mapping[AnswerValue, float]) -> float:
    kind = probe.format.kind
    if kind == "likert":
        return expected_rating(dist)
    if kind == "yes_no":
        return yes_no_probabilities(dist).endorsement
    index = {o.label: float(i) for i, o in enumerate(probe.format.options)}
    return sum(p * index[str(a)] for a, p in dist.items())


def expected_item_scores(
    probe: Probe,
    dist: Mapping[AnswerValue, float],
    *,
    answer_id: str,
    weight_threshold: float = 0.0,
    weight_sign: WeightSign = "both",
) -> list[ItemScore]:
    """Item scores of the expected readout, keyed, thresholded and signed as ``scoring.items.score_item``."""
    kind = probe.format.kind
    rule = WeightRule(weight_threshold, weight_sign)
    keyed = [(v, w) for v, w in probe.keys.items() if rule.keeps(w)]
    if kind == "likert":
        e = expected_rating(dist)
        return [
            ItemScore(
                probe_id=probe.id,
                value=v,
                score=e if w > 0 else probe.format.reverse_rating(e),
                kind="rating",
                weight=w,
                raw=e,
                answer_id=answer_id,
            )
            for v, w in keyed
        ]
    if kind == "yes_no":
        e = yes_no_probabilities(dist).endorsement
        return [
            ItemScore(
                probe_id=probe.id,
                value=v,
                score=e if w > 0 else 1.0 - e,
                kind="endorse",
                weight=w,
                raw=e,
                answer_id=answer_id,
            )
            for v, w in keyed
        ]
    scored: dict[Dim, None] = {}
    for o in probe.format.options:
        scored.update({v: None for v, w in o.values.items() if rule.keeps(w)})
    scored.update({v: None for v, _ in keyed})
    return [
        ItemScore(
            probe_id=probe.id,
            value=v,
            score=choice_value(dist, probe, v),
            kind="choice",
            weight=1.0,
            answer_id=answer_id,
        )
        for v in scored
    ]


def centred_endorsement(
    items: Sequence[ItemScore], dims: Sequence[Dim] = SCHWARTZ_DIMS
) -> dict[Dim, float | None]:
    """Centred yes/no scores of one group's endorse items (one entry per answer)."""
    answers: dict[tuple[str, str], tuple[dict[Dim, float], float]] = {}
    for s in items:
        if s.kind == "endorse" and s.raw is not None:
            keys, _ = answers.setdefault((s.probe_id, s.answer_id), ({}, s.raw))
            keys[s.value] = s.weight
    scores = centred_yes_scores(list(answers.values()))
    return {v: scores.get(v) for v in dims}


def profile_of(
    items: Sequence[ItemScore],
    readout: Readout,
    *,
    n_parsed: int,
    n_unparsed: int,
    n_failed: int,
    n_boot: int,
    ci: float = 0.95,
    seed: int = 0,
    dims: Sequence[Dim] = SCHWARTZ_DIMS,
) -> ValueProfile:
    """``build_profile`` plus centred yes/no scores, tagged with its readout."""
    prof = build_profile(
        items,
        n_parsed=n_parsed,
        n_unparsed=n_unparsed,
        n_failed=n_failed,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        dims=dims,
    )
    update: dict[str, object] = {"readout": readout}
    if prof.scale == "endorse" and readout == "expected":  # argmax profiles stay as 0.1 wrote them
        update["centred"] = centred_endorsement(items, dims)
    return prof.model_copy(update=update)


def item_measure_values(
    items: Sequence[ItemScore], profile: ValueProfile, measure: str
) -> dict[Dim, dict[str, float]]:
    """Per value and probe, the mean item score on ``measure`` (the pairs of the per-value tests).

    ``centred``: the item score minus MRAT (ratings) or ``sign(w) x (e - mean e)`` (yes/no),
    whose per-value means are the profile's centred scores; ``like_rate``: 100 x the score.
    """
    mean_e = None
    if measure == "centred" and profile.scale == "endorse":
        raws = {(s.probe_id, s.answer_id): s.raw for s in items if s.raw is not None}
        mean_e = sum(raws.values()) / len(raws) if raws else None
    acc: dict[Dim, dict[str, list[float]]] = {}
    for s in items:
        if measure == "centred" and profile.scale == "rating":
            if profile.mrat is None:
                continue
            x = s.score - profile.mrat
        elif measure == "centred":
            if mean_e is None or s.raw is None:
                continue
            x = math.copysign(1.0, s.weight) * (s.raw - mean_e)
        elif measure == "like_rate":
            x = 100.0 * s.score
        else:
            x = s.score
        acc.setdefault(s.value, {}).setdefault(s.probe_id, []).append(x)
    return {v: {p: sum(xs) / len(xs) for p, xs in per.items()} for v, per in acc.items()}


def group_bias(observations: Sequence[BiasObservation], readout: Readout) -> BiasSummary:
    """Bias figures and the plain verdict of one group under one readout."""
    ordered = [OrderedAnswer(o.probe_id, o.order, o.position, o.answer[readout]) for o in observations]
    if readout == "argmax":
        firsts = first_option_share(ordered)
    else:
        by_order: dict[str, list[float]] = {}
        for o in observations:
            by_order.setdefault(o.order, []).append(o.p_first)
        firsts = {k: sum(xs) / len(xs) for k, xs in sorted(by_order.items())}
    yes_items = [(o.keys, o.answer[readout]) for o in observations if o.yes_no]
    by_value = yes_rate_by_value(yes_items)
    share = position_variance_share(ordered)
    verdict = bias_verdict(position_share=share, first_share=firsts, yes_by_value=by_value)
    return BiasSummary(
        readout=readout,
        first_option_share=firsts,
        yes_rate=yes_rate([p for _, p in yes_items]),
        yes_rate_by_value={dim_name(v): r for v, r in by_value.items()},
        order_agreement=order_agreement(ordered),
        position_variance_share=share,
        verdict=verdict.kind,
        message=verdict.message,
    )
