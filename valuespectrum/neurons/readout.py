"""Held-out readout of a neuron set: does the sum of its signed neurons tell the aspects apart?

Score of a text = sum over selected neurons of ``sign(delta_n) * (a_n - m_n) / s_n`` on the
pooled activation, with ``m_n`` the midpoint of the two training means and ``s_n`` ``|delta_n / d_n|``
(the pooled standard deviation). Positive reads as aspect A. Accuracy is on texts the set was
not located on (a split by pair), so it measures generalisation, not fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from valuespectrum.neurons.aspects import AspectText
from valuespectrum.neurons.locate import NeuronSet
from valuespectrum.neurons.stats import Pool, neuron_modules


@dataclass
class Readout:
    """Accuracy of the 1-D readout on held-out texts of both aspects."""

    accuracy: float
    n: int
    mean_score_a: float
    mean_score_b: float


def pooled_neuron_values(
    model: Any,
    tokenizer: Any,
    texts: Sequence[AspectText] | Sequence[str],
    nset: NeuronSet,
    *,
    pool: Pool = "mean",
    batch_size: int = 8,
) -> np.ndarray:
    """Pooled activations of the set's neurons [len(texts), len(nset)] (``pool`` mean or last)."""
    import torch

    from valuespectrum.neurons.stats import _pool, encode_with_offsets, span_masks
    from valuespectrum.steering.collect import text_tokenizer

    tok = text_tokenizer(tokenizer)
    items = [(t, 0) if isinstance(t, str) else (t.text, t.start) for t in texts]
    layers = sorted(nset.per_layer())
    modules = neuron_modules(model, layers, nset.neuron_template)
    captured: dict[int, Any] = {}
    handles = [
        m.register_forward_pre_hook(lambda _m, a, i=i: captured.__setitem__(i, a[0].detach()))
        for i, m in modules.items()
    ]
    rows: list[np.ndarray] = []
    old_side = getattr(tok, "padding_side", "left")
    try:
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        device = next(model.parameters()).device
        with torch.no_grad():
            for s in range(0, len(items), batch_size):
                chunk = items[s : s + batch_size]
                enc = encode_with_offsets(tok, [t for t, _ in chunk])
                mask = span_masks(tok, [t for t, _ in chunk], [st for _, st in chunk], enc)
                model(input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device))
                cols = np.zeros((len(chunk), len(nset)))
                for i in layers:
                    sel = np.flatnonzero(nset.layer == i)
                    pooled = _pool(
                        captured[i].to("cpu", torch.float64), mask, "last" if pool == "last" else "mean"
                    )
                    cols[:, sel] = pooled[:, torch.as_tensor(nset.index[sel])].numpy()
                rows.append(cols)
    finally:
        tok.padding_side = old_side
        for h in handles:
            h.remove()
    return np.concatenate(rows)


def readout_scores(values: np.ndarray, nset: NeuronSet) -> np.ndarray:
    """The signed, standardised sum per text (positive reads as aspect A)."""
    mid = (nset.mean_a + nset.mean_b) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(nset.d != 0, np.abs(nset.delta / nset.d), 1.0)
    return np.asarray(((values - mid) / scale * np.sign(nset.delta)).sum(axis=1))


def readout_accuracy(
    model: Any,
    tokenizer: Any,
    test_a: Sequence[AspectText],
    test_b: Sequence[AspectText],
    nset: NeuronSet,
    *,
    pool: Pool = "mean",
    batch_size: int = 8,
) -> Readout:
    """Share of held-out texts whose readout sign matches their aspect (ties count as wrong)."""
    sa = readout_scores(
        pooled_neuron_values(model, tokenizer, test_a, nset, pool=pool, batch_size=batch_size), nset
    )
    sb = readout_scores(
        pooled_neuron_values(model, tokenizer, test_b, nset, pool=pool, batch_size=batch_size), nset
    )
    correct = int((sa > 0).sum() + (sb < 0).sum())
    n = len(sa) + len(sb)
    return Readout(correct / n if n else 0.0, n, float(sa.mean()), float(sb.mean()))
