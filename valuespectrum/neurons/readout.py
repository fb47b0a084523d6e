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


def pooled_by_layer(
    model: Any,
    tokenizer: Any,
    texts: Sequence[AspectText] | Sequence[str],
    layers: list[int],
    neuron_template: str,
    *,
    pool: Pool = "mean",
    batch_size: int = 8,
) -> dict[int, np.ndarray]:
    """Pooled activations of every neuron of ``layers``: {layer: [len(texts), width]} (mean or last)."""
    import torch

    from valuespectrum.neurons.stats import _pool, encode_with_offsets, span_masks
    from valuespectrum.steering.collect import left_padded, text_tokenizer

    tok = text_tokenizer(tokenizer)
    items = [(t, 0) if isinstance(t, str) else (t.text, t.start) for t in texts]
    modules = neuron_modules(model, sorted(layers), neuron_template)
    captured: dict[int, Any] = {}
    handles = [
        m.register_forward_pre_hook(lambda _m, a, i=i: captured.__setitem__(i, a[0].detach()))
        for i, m in modules.items()
    ]
    rows: dict[int, list[np.ndarray]] = {i: [] for i in modules}
    try:
        device = next(model.parameters()).device
        with left_padded(tok), torch.no_grad():
            for s in range(0, len(items), batch_size):
                chunk = items[s : s + batch_size]
                enc = encode_with_offsets(tok, [t for t, _ in chunk])
                mask = span_masks(tok, [t for t, _ in chunk], [st for _, st in chunk], enc)
                model(input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device))
                for i in modules:
                    h = captured[i].to("cpu", torch.float64)
                    rows[i].append(_pool(h, mask, "last" if pool == "last" else "mean").numpy())
    finally:
        for h in handles:
            h.remove()
    return {i: np.concatenate(r) for i, r in rows.items()}


def set_values(pooled: dict[int, np.ndarray], nset: NeuronSet) -> np.ndarray:
    """The set's columns [n_texts, len(nset)] of :func:`pooled_by_layer`'s result."""
    return np.stack([pooled[int(i)][:, int(j)] for i, j in zip(nset.layer, nset.index, strict=True)], axis=1)


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
    layers = sorted(nset.per_layer())
    pooled = pooled_by_layer(
        model, tokenizer, texts, layers, nset.neuron_template, pool=pool, batch_size=batch_size
    )
    return set_values(pooled, nset)


def readout_scores(values: np.ndarray, nset: NeuronSet) -> np.ndarray:
    """The signed, standardised sum per text (positive reads as aspect A)."""
    mid = (nset.mean_a + nset.mean_b) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(nset.d != 0, np.abs(nset.delta / nset.d), 1.0)
    return np.asarray(((values - mid) / scale * np.sign(nset.delta)).sum(axis=1))


def readout_accuracies(
    model: Any,
    tokenizer: Any,
    test_a: Sequence[AspectText],
    test_b: Sequence[AspectText],
    sets: Sequence[NeuronSet],
    *,
    pool: Pool = "mean",
    batch_size: int = 8,
) -> list[Readout]:
    """Held-out readout of several sets from one pass over the texts (sets share a neuron template)."""
    layers = sorted({i for s in sets for i in s.per_layer()})
    template = sets[0].neuron_template
    kw: dict[str, Any] = {"pool": pool, "batch_size": batch_size}
    pa = pooled_by_layer(model, tokenizer, test_a, layers, template, **kw)
    pb = pooled_by_layer(model, tokenizer, test_b, layers, template, **kw)
    out: list[Readout] = []
    for nset in sets:
        sa, sb = readout_scores(set_values(pa, nset), nset), readout_scores(set_values(pb, nset), nset)
        correct = int((sa > 0).sum() + (sb < 0).sum())
        n = len(sa) + len(sb)
        out.append(Readout(correct / n if n else 0.0, n, float(sa.mean()), float(sb.mean())))
    return out


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
    return readout_accuracies(model, tokenizer, test_a, test_b, [nset], pool=pool, batch_size=batch_size)[0]
