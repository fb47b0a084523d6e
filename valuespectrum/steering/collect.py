"""Collect residual-stream activations and turn contrastive pairs into steering vectors.

Activations are the outputs of decoder layers, read with forward hooks (no
``output_hidden_states``, so VLM language towers and text LLMs are handled alike). Inputs
are left-padded, so the last position of every row is a real token.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.steering.layers import hidden_of, layer_template_for, resolve_layers
from valuespectrum.steering.vectors import SteeringVector, texts_digest
from valuespectrum.values import Value

if TYPE_CHECKING:
    import torch

    from valuespectrum.steering.pairs import ContrastivePair

Position = Literal["last", "mean"]


def text_tokenizer(tokenizer_or_processor: Any) -> Any:
    """The text tokenizer of a tokenizer or a VLM processor."""
    return getattr(tokenizer_or_processor, "tokenizer", tokenizer_or_processor)


@contextmanager
def left_padded(tok: Any) -> Iterator[Any]:
    """Pad batches on the left (so position -1 is every text's last token), with EOS as the pad
    token when there is none; the tokenizer's padding side is restored afterwards."""
    old_side = getattr(tok, "padding_side", "left")
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    try:
        yield tok
    finally:
        tok.padding_side = old_side


def collect_activations(
    model: Any,
    tokenizer_or_processor: Any,
    texts: Sequence[str],
    layers: list[int],
    *,
    position: Position = "last",
    batch_size: int = 8,
    layer_template: str | None = None,
) -> dict[int, torch.Tensor]:
    """Decoder-layer outputs for each text: {layer: float32 tensor [len(texts), hidden]}.

    ``position="last"`` takes the last token; ``"mean"`` averages over the real (non-pad) tokens.
    """
    import torch

    if position not in ("last", "mean"):
        raise ConfigError(f"position must be 'last' or 'mean', got {position!r}")
    if not texts:
        raise ConfigError("collect_activations needs at least one text")
    tok = text_tokenizer(tokenizer_or_processor)
    template = layer_template_for(model, layer_template)
    modules = resolve_layers(model, layers, template)
    captured: dict[int, torch.Tensor] = {}

    def make_hook(i: int) -> Any:
        def hook(_m: Any, _inp: Any, out: Any) -> None:
            captured[i] = hidden_of(out).detach()

        return hook

    out: dict[int, list[torch.Tensor]] = {i: [] for i in modules}
    handles = [m.register_forward_hook(make_hook(i)) for i, m in modules.items()]
    try:
        device = next(model.parameters()).device
        with left_padded(tok), torch.no_grad():
            for start in range(0, len(texts), batch_size):
                batch = list(texts[start : start + batch_size])
                enc = tok(batch, return_tensors="pt", padding=True).to(device)
                captured.clear()
                model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
                mask = enc["attention_mask"].unsqueeze(-1).float()
                for i in modules:
                    h = captured[i].float()
                    if position == "last":
                        out[i].append(h[:, -1, :].cpu())
                    else:
                        out[i].append(((h * mask).sum(1) / mask.sum(1)).cpu())
    finally:
        for handle in handles:
            handle.remove()
    return {i: torch.cat(v) for i, v in out.items()}


def mean_difference(pos: dict[int, torch.Tensor], neg: dict[int, torch.Tensor]) -> dict[int, torch.Tensor]:
    """CAA direction per layer: mean(positive activations) - mean(negative activations)."""
    if set(pos) != set(neg):
        raise ConfigError(f"positive layers {sorted(pos)} differ from negative layers {sorted(neg)}")
    return {i: pos[i].mean(0) - neg[i].mean(0) for i in pos}


@dataclass
class ProbeFit:
    """A layer's logistic-regression probe: P(positive | e) = sigmoid(w.e + b)."""

    w: torch.Tensor
    b: float
    train_accuracy: float
    test_accuracy: float
    n_train: int
    n_test: int


def train_probes(
    pos: dict[int, torch.Tensor],
    neg: dict[int, torch.Tensor],
    *,
    test_fraction: float = 0.25,
    seed: int = 0,
    c: float = 1.0,
) -> dict[int, ProbeFit]:
    """Fit a logistic-regression probe per layer on a seeded split of the pairs.

    The split is by *pair index* (row i of ``pos`` and ``neg`` share a scenario), so no
    scenario appears on both sides of the split; held-out accuracy is on unseen scenarios.
    """
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression

    n = next(iter(pos.values())).shape[0]
    if any(t.shape[0] != n for t in (*pos.values(), *neg.values())):
        raise ConfigError("train_probes needs the same number of positive and negative rows (one per pair)")
    if n < 4:
        raise ConfigError(f"train_probes needs at least 4 pairs, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(n * test_fraction))
    test_idx, train_idx = order[:n_test], order[n_test:]
    fits: dict[int, ProbeFit] = {}
    for i in sorted(pos):
        x_pos, x_neg = pos[i].double().numpy(), neg[i].double().numpy()

        def split(idx: Any, xp: Any = x_pos, xn: Any = x_neg) -> tuple[Any, Any]:
            x = np.concatenate([xp[idx], xn[idx]])
            y = np.concatenate([np.ones(len(idx)), np.zeros(len(idx))])
            return x, y

        x_tr, y_tr = split(train_idx)
        x_te, y_te = split(test_idx)
        clf = LogisticRegression(C=c, max_iter=2000)
        clf.fit(x_tr, y_tr)
        fits[i] = ProbeFit(
            w=torch.tensor(clf.coef_[0], dtype=torch.float32),
            b=float(clf.intercept_[0]),
            train_accuracy=float(clf.score(x_tr, y_tr)),
            test_accuracy=float(clf.score(x_te, y_te)),
            n_train=len(train_idx) * 2,
            n_test=len(test_idx) * 2,
        )
    return fits


def pair_texts(pairs: Sequence[ContrastivePair]) -> tuple[list[str], list[str]]:
    """The positive and negative texts of each pair: the scenario followed by the response."""
    return [p.render(p.positive) for p in pairs], [p.render(p.negative) for p in pairs]


@dataclass
class Extraction:
    """The vectors extracted for one value and the per-layer probe accuracies behind them."""

    caa: SteeringVector
    probe: SteeringVector
    probe_fits: dict[int, ProbeFit]

    def accuracy_table(self) -> dict[int, float]:
        return {i: f.test_accuracy for i, f in sorted(self.probe_fits.items())}


def extract_vectors(
    model: Any,
    tokenizer_or_processor: Any,
    pairs: Sequence[ContrastivePair],
    value: Value,
    layers: list[int],
    *,
    model_id: str,
    layer_template: str | None = None,
    position: Position = "last",
    batch_size: int = 8,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> Extraction:
    """CAA and probe vectors for ``value`` from its contrastive pairs, with held-out probe accuracy."""
    mine = [p for p in pairs if p.value is value]
    if len(mine) < 4:
        raise ConfigError(f"{value.value}: need at least 4 contrastive pairs, found {len(mine)}")
    template = layer_template_for(model, layer_template)
    pos_texts, neg_texts = pair_texts(mine)
    kw: dict[str, Any] = {"position": position, "batch_size": batch_size, "layer_template": template}
    pos = collect_activations(model, tokenizer_or_processor, pos_texts, layers, **kw)
    neg = collect_activations(model, tokenizer_or_processor, neg_texts, layers, **kw)
    digest = texts_digest(list(zip(pos_texts, neg_texts, strict=True)))
    fits = train_probes(pos, neg, test_fraction=test_fraction, seed=seed)
    meta = {"n_pairs": len(mine), "position": position, "seed": seed}
    caa = SteeringVector(
        value, "caa", mean_difference(pos, neg), model_id, template, digest, None, dict(meta)
    )
    probe = SteeringVector(
        value,
        "probe",
        {i: f.w for i, f in fits.items()},
        model_id,
        template,
        digest,
        {i: f.b for i, f in fits.items()},
        {**meta, "test_accuracy": {str(i): f.test_accuracy for i, f in fits.items()}},
    )
    return Extraction(caa=caa, probe=probe, probe_fits=fits)


def train_detector(
    model: Any,
    tokenizer_or_processor: Any,
    pairs: Sequence[ContrastivePair],
    value: Value,
    layer: int,
    *,
    layer_template: str | None = None,
    position: Position = "last",
    batch_size: int = 8,
    seed: int = 0,
) -> ProbeFit:
    """A value-relevance detector at ``layer``: texts of ``value``'s pairs versus other values' pairs.

    Both responses of a pair count as relevant (they are about the value, either way); an
    equal number of other values' texts, drawn with ``seed``, are the irrelevant class.
    ``position`` pools each text like the gate that will read it (``"mean"`` for a whole-input
    detector on mean activations). Feed ``fit.w, fit.b`` to :func:`gated.probe_gate` or
    :class:`detector.InputDetector`.
    """
    import random

    mine = [p for p in pairs if p.value is value]
    others = [p for p in pairs if p.value is not value]
    if len(mine) < 4 or len(others) < len(mine):
        raise ConfigError(
            f"{value.value}: a detector needs >= 4 pairs of the value and as many of other values"
        )
    rng = random.Random(seed)
    drawn = rng.sample(others, len(mine))
    rel = [p.render(p.positive) for p in mine] + [p.render(p.negative) for p in mine]
    irr = [p.render(p.positive) for p in drawn] + [p.render(p.negative) for p in drawn]
    kw: dict[str, Any] = {"batch_size": batch_size, "layer_template": layer_template, "position": position}
    a = collect_activations(model, tokenizer_or_processor, rel, [layer], **kw)
    b = collect_activations(model, tokenizer_or_processor, irr, [layer], **kw)
    key = next(iter(a))
    return train_probes(a, b, seed=seed)[key]
