"""Continuous value readout from option log-likelihoods (no text parsing).

For each rendered probe the option log-likelihoods give a distribution over the presented
answers; it is mapped back to the probe's own answer space (undoing reversed labels) and
turned into a keyed score in [0, 100] per value:

- Likert: expected rating E; score = 100 (E - lo) / (hi - lo), or 100 (hi - E) / (hi - lo)
  when reverse-keyed.
- Yes/no: P(yes) renormalised over the two options; 100 P(yes), or 100 (1 - P(yes)).
- Choice: sum over options of P(option) * the option's weight for the value, times 100.

Expectations rather than argmax keep small steering effects visible and make order
averaging meaningful.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from valuespectrum.probes.render import RenderedProbe
from valuespectrum.values import Value


def softmax(logps: Sequence[float]) -> list[float]:
    m = max(logps)
    ex = [math.exp(x - m) for x in logps]
    total = sum(ex)
    return [e / total for e in ex]


def keyed_scores(rendered: RenderedProbe, option_logprobs: Sequence[float]) -> dict[Value, float]:
    """Per-value score in [0, 100] for one answered probe."""
    probe = rendered.presented
    values = rendered.option_values or []
    if len(values) != len(option_logprobs):
        raise ValueError(
            f"probe {probe.id!r}: {len(option_logprobs)} option log-likelihoods for {len(values)} options"
        )
    probs = softmax(option_logprobs)
    fmt = probe.format
    out: dict[Value, float] = {}
    if fmt.kind == "likert":
        lo, hi = fmt.scale_min, fmt.scale_max
        expected = sum(p * float(rendered.true_value(v)) for p, v in zip(probs, values, strict=True))
        frac = (expected - lo) / (hi - lo)
        for value, w in probe.keys.items():
            out[Value(value)] = 100.0 * (frac if w >= 0 else 1.0 - frac)
    elif fmt.kind == "yes_no":
        p_yes = sum(p for p, v in zip(probs, values, strict=True) if str(v).lower() == "yes")
        for value, w in probe.keys.items():
            out[Value(value)] = 100.0 * (p_yes if w >= 0 else 1.0 - p_yes)
    else:
        for p, opt in zip(probs, fmt.options, strict=True):
            for value, w in opt.values.items():
                out[Value(value)] = out.get(Value(value), 0.0) + 100.0 * p * w
    return out
