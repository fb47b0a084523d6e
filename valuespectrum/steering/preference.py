"""How much a model prefers one side of a contrast: response log-likelihood given the shared scenario.

For paired texts (same scenario, response A or response B) the preference of a pair is
``mean log p(response A tokens) - mean log p(response B tokens)`` (teacher forced, per-token
mean so long and short responses weigh alike). A steering condition that moves a model toward
A raises the mean preference; it needs no generation and no judge, so sweeps stay cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.neurons.aspects import AspectText
from valuespectrum.neurons.stats import encode_with_offsets, span_masks
from valuespectrum.steering.pairs import ContrastivePair

#: model -> the context under which the model is steered (nullcontext for none)
Condition = Callable[[Any], AbstractContextManager[Any]]


def pair_sides(pairs: Sequence[ContrastivePair]) -> tuple[list[AspectText], list[AspectText]]:
    """Positive and negative texts of ``pairs`` with the response as the scored span."""
    pos: list[AspectText] = []
    neg: list[AspectText] = []
    for p in pairs:
        for resp, side in ((p.positive, pos), (p.negative, neg)):
            text = p.render(resp)
            side.append(AspectText(text, len(text) - len(resp), p.id))
    return pos, neg


def span_logprobs(
    model: Any, tokenizer: Any, texts: Sequence[AspectText], *, batch_size: int = 8
) -> np.ndarray:
    """Mean token log-probability of each text's span (its response), teacher forced."""
    import torch

    from valuespectrum.steering.collect import left_padded, text_tokenizer

    tok = text_tokenizer(tokenizer)
    out: list[float] = []
    device = next(model.parameters()).device
    with left_padded(tok), torch.no_grad():
        for s in range(0, len(texts), batch_size):
            chunk = list(texts[s : s + batch_size])
            enc = encode_with_offsets(tok, [t.text for t in chunk])
            mask = span_masks(tok, [t.text for t in chunk], [t.start for t in chunk], enc)
            ids = enc["input_ids"].to(device)
            logits = model(input_ids=ids, attention_mask=enc["attention_mask"].to(device)).logits.double()
            lp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            m = mask[:, 1:].to(lp.device, lp.dtype)
            out.extend(((lp * m).sum(1) / m.sum(1).clamp(min=1)).cpu().tolist())
    return np.array(out)


def preference(
    model: Any,
    tokenizer: Any,
    side_a: Sequence[AspectText],
    side_b: Sequence[AspectText],
    condition: Condition | None = None,
    *,
    batch_size: int = 8,
) -> np.ndarray:
    """Per-pair preference for side A over side B under ``condition`` (None: the plain model)."""
    if len(side_a) != len(side_b) or not side_a:
        raise ConfigError(f"preference needs paired texts, got {len(side_a)} and {len(side_b)}")
    ctx = condition(model) if condition is not None else nullcontext()
    with ctx:
        a = span_logprobs(model, tokenizer, side_a, batch_size=batch_size)
        b = span_logprobs(model, tokenizer, side_b, batch_size=batch_size)
    return a - b


def vector_scorer(
    model: Any,
    tokenizer: Any,
    vector: Any,
    select: tuple[Sequence[AspectText], Sequence[AspectText]],
    test: tuple[Sequence[AspectText], Sequence[AspectText]],
    *,
    batch_size: int = 8,
) -> Callable[[int, float, str], float]:
    """A sweep scorer: mean pair preference with ``vector`` added at one layer and strength."""
    from valuespectrum.steering.apply import steer

    unsteered: dict[str, float] = {}  # strength 0 is the same model at every layer

    def score(layer: int, strength: float, split: str) -> float:
        side_a, side_b = select if split == "select" else test
        if strength == 0.0 and split in unsteered:
            return unsteered[split]
        cond: Condition | None = None
        if strength != 0.0:
            cond = lambda m: steer(m, vector, strength, layers=[layer])  # noqa: E731
        value = float(preference(model, tokenizer, side_a, side_b, cond, batch_size=batch_size).mean())
        if strength == 0.0:
            unsteered[split] = value
        return value

    return score
