"""Run a probe set under steering, with the standard controls, and report effects against them.

Every condition answers every probe in both answer-label orders (1-6 and 6-1, Yes/No and
No/Yes) and the two readouts are averaged, because small models often answer by position.
Controls, always on unless ``controls=False``:

- baseline: no steering, no persona;
- a neutral, value-free persona (the reference for persona prompting);
- random vectors with the same per-layer norm as each steering vector (several seeded draws),
  at the same strengths: a steering effect counts only against this distribution.

Side by side: the same items under a persona prompt naming the target value. In gated mode a
whole-input detector per value (:class:`~valuespectrum.steering.detector.InputDetector`) can
decide once per request whether to steer it at all; rejected requests run unsteered, in every
steered and random condition alike, so random controls differ from the vector only in direction.
For each condition the report also carries a fluency proxy (perplexity of its generated text under the
unsteered model, repetition rate) and a capability proxy (fixed arithmetic and copy items).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from valuespectrum.errors import ConfigError
from valuespectrum.probes.render import RenderedProbe, render_probe
from valuespectrum.probes.schema import Probe
from valuespectrum.steering import quality
from valuespectrum.steering.apply import steer
from valuespectrum.steering.detector import InputDetector, request_text
from valuespectrum.steering.readout import keyed_scores
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.types import ModelRequest
from valuespectrum.values import Value

NEUTRAL_PERSONA = "You are a person answering questions about yourself. Answer as you normally would."
Z_THRESHOLD = 2.0


def value_persona(value: Value) -> str:
    """A persona prompt that stresses one value (the prompting counterpart of a steering vector)."""
    return (
        f"You are a person for whom {value.value} matters more than anything else: "
        f"{value.definition[0].lower()}{value.definition[1:]} Answer as this person."
    )


class Fluency(BaseModel):
    perplexity: float | None
    """Perplexity of this condition's generated text under the unsteered model."""
    repetition_rate: float
    """Mean share of repeated word 3-grams in the generated texts."""
    samples: list[str]


class Condition(BaseModel):
    """One way of running the probe set and what came out."""

    name: str
    kind: Literal["baseline", "neutral_persona", "persona", "steer", "random"]
    target: Value | None = None
    strength: float | None = None
    """Multiplier (add mode) or p0 (gated mode)."""
    seed: int | None = None
    profile: dict[Value, float]
    """Order-averaged score per value, 0-100."""
    order_r: float | None
    """Pearson r between the item scores of the two label orders (negative = answers by position)."""
    capability: float | None = None
    fluency: Fluency | None = None
    steered_share: float | None = None
    """Share of probe requests a whole-input detector let through (gated mode with a detector)."""


class Effect(BaseModel):
    """What steering toward ``target`` at ``strength`` did, relative to baseline and controls."""

    target: Value
    method: str
    strength: float
    target_delta: float
    """Change of the target value's score versus baseline (points)."""
    side_effects: dict[Value, float]
    """Change of each other value's score versus baseline."""
    mean_abs_side_effect: float
    random_deltas: list[float]
    """Target-value change under each same-norm random vector."""
    random_mean: float | None
    random_sd: float | None
    z_vs_random: float | None
    persona_delta: float | None
    """Target-value change under the value persona versus the neutral persona."""
    capability_delta: float | None
    perplexity_ratio: float | None
    """Perplexity of steered text / perplexity of baseline text (both under the unsteered model)."""
    verdict: str


class GateInfo(BaseModel):
    """The whole-input detector that gated one value's steering."""

    value: Value
    source: str
    layer: int
    pooling: str
    threshold: float


class SteeringReport(BaseModel):
    model_id: str
    mode: str
    seed: int
    n_probes: int
    n_random: int
    label_orders: list[str] = Field(default_factory=lambda: ["forward", "reversed"])
    gates: list[GateInfo] = Field(default_factory=list)
    """Detectors used in gated mode (empty: every request was steered)."""
    conditions: list[Condition]
    effects: list[Effect]

    def condition(self, name: str) -> Condition:
        for c in self.conditions:
            if c.name == name:
                return c
        raise KeyError(name)

    def summary_text(self) -> str:
        base = self.condition("baseline")
        lines = [
            f"Steering evaluation of {self.model_id} ({self.mode} mode, {self.n_probes} probes, "
            f"both label orders averaged, {self.n_random} random vectors per strength).",
            f"Label-order consistency at baseline: r = {_fmt(base.order_r)} "
            "(near -1 means the model answers by position, not content).",
        ]
        for g in self.gates:
            shares = [c.steered_share for c in self.conditions if c.kind == "steer" and c.target is g.value]
            got = ", ".join(f"{x:.0%}" for x in shares if x is not None) or "n/a"
            lines.append(
                f"Gate for {g.value.value}: {g.pooling}-pooled probe at layer {g.layer} > {g.threshold:g} "
                f"({g.source}); share of probe requests steered: {got}."
            )
        for e in self.effects:
            lines.append(
                f"- {e.target.value} x{e.strength:g} ({e.method}): target {e.target_delta:+.2f} pts; "
                f"random {_fmt(e.random_mean, '+.2f')} ± {_fmt(e.random_sd, '.2f')}, z = {_fmt(e.z_vs_random, '+.2f')}; "
                f"side effects mean |Δ| {e.mean_abs_side_effect:.2f}; persona {_fmt(e.persona_delta, '+.2f')}. "
                f"{e.verdict}"
            )
        return "\n".join(lines)


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "n/a" if x is None or math.isnan(x) else format(x, spec)


Renderer = Callable[..., RenderedProbe]


def evaluate_steering(
    backend: Any,
    probes: Sequence[Probe],
    vectors: Sequence[SteeringVector],
    multipliers: Sequence[float],
    *,
    controls: bool = True,
    seed: int = 0,
    n_random: int = 3,
    mode: Literal["add", "gated"] = "add",
    layers: list[int] | None = None,
    fluency: bool = True,
    capability: bool = True,
    fluency_tokens: int = 24,
    render: Renderer = render_probe,
    detectors: Mapping[Value, InputDetector] | None = None,
) -> SteeringReport:
    """Evaluate each vector at each strength (a multiplier, or p0 in ``mode="gated"``).

    ``backend`` must expose ``.model`` (a torch module) and ``generate(requests)`` filling
    ``option_logprobs``; fluency also needs ``.tokenizer``. ``detectors`` (gated mode only)
    maps each steered value to a whole-input detector that decides per request whether to steer.
    """
    model = getattr(backend, "model", None)
    if model is None:
        raise ConfigError(
            "steering evaluation needs a backend with a loaded torch model (backend.model), e.g. hf:"
        )
    if not probes:
        raise ConfigError("steering evaluation needs at least one probe")
    if not vectors or not multipliers:
        raise ConfigError("steering evaluation needs at least one vector and one multiplier")
    if controls and n_random < 2:
        raise ConfigError("n_random must be >= 2 so the random-vector control has a spread")
    detectors = dict(detectors or {})
    if detectors and mode != "gated":
        raise ConfigError("whole-input detectors are only used with mode='gated'")
    missing = [v.value.value for v in vectors if detectors and v.value not in detectors]
    if missing:
        raise ConfigError(f"no detector given for the steered values {missing}")
    tokenizer = getattr(backend, "tokenizer", None)
    run = _Runner(
        backend, list(probes), render, fluency and tokenizer is not None, capability, fluency_tokens
    )

    conditions: list[Condition] = [run.condition("baseline", "baseline", nullcontext)]
    if controls:
        conditions.append(
            run.condition("neutral_persona", "neutral_persona", nullcontext, persona=NEUTRAL_PERSONA)
        )
    for vec in vectors:
        det = detectors.get(vec.value)
        if controls:
            conditions.append(
                run.condition(
                    f"persona:{vec.value.value}",
                    "persona",
                    nullcontext,
                    persona=value_persona(vec.value),
                    target=vec.value,
                )
            )
        for m in multipliers:
            conditions.append(
                run.condition(
                    f"steer:{vec.value.value}:{vec.method}:{m:g}",
                    "steer",
                    _steer_ctx(model, vec, m, mode, layers, det),
                    target=vec.value,
                    strength=m,
                )
            )
            if controls:
                for k in range(n_random):
                    s = seed * 1000 + k
                    conditions.append(
                        run.condition(
                            f"random:{vec.value.value}:{m:g}:{s}",
                            "random",
                            _steer_ctx(model, vec.random_like(s), m, mode, layers, det),
                            target=vec.value,
                            strength=m,
                            seed=s,
                            checks=False,
                        )
                    )
    if run.fluency:
        run.fill_perplexity(model, tokenizer, conditions)
    effects = [_effect(vec, m, conditions) for vec in vectors for m in multipliers]
    return SteeringReport(
        model_id=str(getattr(backend, "model_id", "unknown")),
        mode=mode,
        seed=seed,
        n_probes=len(probes),
        n_random=n_random if controls else 0,
        gates=[
            GateInfo(value=v, source=d.source, layer=d.layer, pooling=d.pooling, threshold=d.threshold)
            for v, d in detectors.items()
        ],
        conditions=conditions,
        effects=effects,
    )


#: Makes a fresh steering context for each batch of requests (a generator context enters once).
CtxFactory = Callable[[], AbstractContextManager[Any]]


@dataclass(frozen=True)
class _Routed:
    """Steering for the requests a whole-input detector accepts; the others run unsteered."""

    ctx: CtxFactory
    detector: InputDetector


def _steer_ctx(
    model: Any,
    vec: SteeringVector,
    strength: float,
    mode: str,
    layers: list[int] | None,
    detector: InputDetector | None = None,
) -> CtxFactory | _Routed:
    if mode == "gated":

        def gated() -> AbstractContextManager[Any]:
            return steer(model, vec, 1.0, layers=layers, mode="gated", p0=strength)

        return gated if detector is None else _Routed(gated, detector)

    def add() -> AbstractContextManager[Any]:
        return steer(model, vec, strength, layers=layers, mode="add")

    return add


class _Runner:
    def __init__(
        self,
        backend: Any,
        probes: list[Probe],
        render: Renderer,
        fluency: bool,
        capability: bool,
        tokens: int,
    ) -> None:
        self.backend, self.probes, self.render = backend, probes, render
        self.fluency, self.capability, self.tokens = fluency, capability, tokens

    def condition(
        self,
        name: str,
        kind: Any,
        ctx: CtxFactory | _Routed,
        *,
        persona: str | None = None,
        target: Value | None = None,
        strength: float | None = None,
        seed: int | None = None,
        checks: bool = True,
    ) -> Condition:
        rendered = [self.render(p, persona, reverse_labels=rev) for rev in (False, True) for p in self.probes]
        responses, share = self._generate(ctx, [_scores_only(r.request) for r in rendered])
        cap = (
            self._generate(ctx, [_scores_only(r) for r in quality.capability_requests()])[0]
            if self.capability and checks
            else None
        )
        gen = (
            self._generate(ctx, quality.fluency_requests(self.tokens))[0] if self.fluency and checks else None
        )
        fwd, rev = _split_scores(rendered, responses, len(self.probes))
        profile = _profile([*fwd, *rev])
        cond = Condition(
            name=name,
            kind=kind,
            target=target,
            strength=strength,
            seed=seed,
            profile=profile,
            order_r=_order_r(fwd, rev),
            steered_share=share,
        )
        if cap is not None:
            cond.capability = quality.capability_accuracy([r.option_logprobs if r.ok else None for r in cap])
        if gen is not None:
            texts = [r.text for r in gen if r.ok]
            cond.fluency = Fluency(
                perplexity=None,
                repetition_rate=statistics.fmean(quality.repetition_rate(t) for t in texts) if texts else 0.0,
                samples=texts,
            )
        return cond

    def _generate(
        self, ctx: CtxFactory | _Routed, requests: list[ModelRequest]
    ) -> tuple[list[Any], float | None]:
        """Responses in request order, and the share steered when a detector routes them."""
        if not isinstance(ctx, _Routed):
            with ctx():
                return self.backend.generate(requests), None
        model = self.backend.model
        reader = getattr(self.backend, "processor", None) or self.backend.tokenizer
        accept = ctx.detector.decide(model, reader, [request_text(r) for r in requests])
        out: list[Any] = [None] * len(requests)
        plain = [i for i, a in enumerate(accept) if not a]
        steered = [i for i, a in enumerate(accept) if a]
        if plain:
            for i, resp in zip(plain, self.backend.generate([requests[i] for i in plain]), strict=True):
                out[i] = resp
        if steered:
            with ctx.ctx():
                resps = self.backend.generate([requests[i] for i in steered])
            for i, resp in zip(steered, resps, strict=True):
                out[i] = resp
        return out, len(steered) / len(requests) if requests else None

    def fill_perplexity(self, model: Any, tokenizer: Any, conditions: list[Condition]) -> None:
        """Perplexity of each condition's text under the model as it is now (unsteered)."""
        tok = getattr(tokenizer, "tokenizer", tokenizer)
        for c in conditions:
            if c.fluency is not None:
                c.fluency.perplexity = quality.perplexity(model, tok, c.fluency.samples)


def _scores_only(request: ModelRequest) -> ModelRequest:
    """Ask only for option log-likelihoods (no sampled text): the readout needs nothing else."""
    return request.model_copy(update={"config": request.config.model_copy(update={"generate_text": False})})


def _split_scores(
    rendered: list[RenderedProbe], responses: list[Any], n: int
) -> tuple[list[dict[Value, float]], list[dict[Value, float]]]:
    scores: list[dict[Value, float]] = []
    for r, resp in zip(rendered, responses, strict=True):
        if not resp.ok or resp.option_logprobs is None:
            raise ConfigError(
                f"probe {r.presented.id!r}: the backend returned no option log-likelihoods "
                f"({resp.error or 'unsupported'}); steering evaluation needs a backend that scores options"
            )
        scores.append(keyed_scores(r, resp.option_logprobs))
    return scores[:n], scores[n:]


def _profile(item_scores: list[dict[Value, float]]) -> dict[Value, float]:
    acc: dict[Value, list[float]] = {}
    for s in item_scores:
        for v, x in s.items():
            acc.setdefault(v, []).append(x)
    return {v: statistics.fmean(acc[v]) for v in Value if v in acc}


def _order_r(fwd: list[dict[Value, float]], rev: list[dict[Value, float]]) -> float | None:
    xs = [a[v] for a, b in zip(fwd, rev, strict=True) for v in a if v in b]
    ys = [b[v] for a, b in zip(fwd, rev, strict=True) for v in a if v in b]
    if len(xs) < 3 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return None
    return statistics.correlation(xs, ys)


def _iter_kind(conditions: list[Condition], kind: str, target: Value, strength: float) -> Iterator[Condition]:
    return (c for c in conditions if c.kind == kind and c.target is target and c.strength == strength)


def _effect(vec: SteeringVector, strength: float, conditions: list[Condition]) -> Effect:
    base = next(c for c in conditions if c.kind == "baseline")
    steered = next(_iter_kind(conditions, "steer", vec.value, strength))
    t = vec.value
    delta = {v: steered.profile[v] - base.profile[v] for v in steered.profile if v in base.profile}
    if t not in delta:
        raise ConfigError(f"no probe in the set scores {t.value}; add probes keyed to the steered value")
    rand = [c.profile[t] - base.profile[t] for c in _iter_kind(conditions, "random", t, strength)]
    r_mean = statistics.fmean(rand) if rand else None
    r_sd = statistics.stdev(rand) if len(rand) >= 2 else None
    z = None
    if r_mean is not None and r_sd is not None:
        z = (
            (delta[t] - r_mean) / r_sd
            if r_sd > 0
            else (math.copysign(math.inf, delta[t] - r_mean) if delta[t] != r_mean else 0.0)
        )
    persona = next((c for c in conditions if c.kind == "persona" and c.target is t), None)
    neutral = next((c for c in conditions if c.kind == "neutral_persona"), None)
    persona_delta = persona.profile[t] - neutral.profile[t] if persona and neutral else None
    side = {v: d for v, d in delta.items() if v is not t}
    cap_delta = None
    if steered.capability is not None and base.capability is not None:
        cap_delta = steered.capability - base.capability
    ppl = None
    if steered.fluency and base.fluency and steered.fluency.perplexity and base.fluency.perplexity:
        ppl = steered.fluency.perplexity / base.fluency.perplexity
    return Effect(
        target=t,
        method=vec.method,
        strength=strength,
        target_delta=delta[t],
        side_effects=side,
        mean_abs_side_effect=statistics.fmean(abs(d) for d in side.values()) if side else 0.0,
        random_deltas=rand,
        random_mean=r_mean,
        random_sd=r_sd,
        z_vs_random=z,
        persona_delta=persona_delta,
        capability_delta=cap_delta,
        perplexity_ratio=ppl,
        verdict=_verdict(delta[t], z),
    )


def _verdict(delta: float, z: float | None) -> str:
    if z is None:
        return "No random-vector control: the effect cannot be judged."
    if abs(z) < Z_THRESHOLD:
        return f"Not distinguishable from same-norm random vectors (|z| < {Z_THRESHOLD:g})."
    direction = "toward" if delta > 0 and z > 0 else "away from"
    return f"Moves the value {direction} the target beyond random vectors (|z| >= {Z_THRESHOLD:g})."
