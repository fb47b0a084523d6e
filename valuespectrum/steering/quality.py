"""Fluency and capability proxies, so steering is not judged on value scores alone.

- Perplexity of generated text under the *unsteered* model (call it outside any steering
  block): steering that breaks the language model raises it.
- Repetition rate: share of word n-grams that repeat an earlier n-gram of the same text.
- Capability: 20 fixed arithmetic and copying questions scored exactly by option log-likelihood.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from valuespectrum.types import GenerateConfig, Message, ModelRequest

#: Short open prompts whose continuations are checked for fluency.
FLUENCY_PROMPTS: tuple[str, ...] = (
    "Describe what you would do on a free afternoon.",
    "Write two sentences about a short video of a city street at night.",
    "What advice would you give a friend who is starting a new job?",
)


def _capability_items() -> list[tuple[str, list[str], int]]:
    """(question, options, index of the correct option); fixed so runs are comparable."""
    items: list[tuple[str, list[str], int]] = []
    sums = [(2, 3), (4, 4), (7, 1), (6, 3), (5, 5), (9, 2), (8, 7), (3, 9), (12, 4), (10, 10)]
    for k, (a, b) in enumerate(sums):
        right = a + b
        opts = [str(right - 1), str(right), str(right + 1)]
        rot = k % 3  # the correct answer takes each position in turn
        opts = opts[rot:] + opts[:rot]
        items.append((f"What is {a} + {b}? Answer with the number only.", opts, opts.index(str(right))))
    words = ["apple", "river", "stone", "cloud", "lamp", "garden", "violin", "pepper", "window", "forest"]
    for k, w in enumerate(words):
        opts = [w, words[(k + 3) % 10], words[(k + 7) % 10]]
        rot = k % 3
        opts = opts[rot:] + opts[:rot]
        items.append((f"Repeat this word exactly: {w}", opts, opts.index(w)))
    return items


CAPABILITY_ITEMS: list[tuple[str, list[str], int]] = _capability_items()


def capability_requests() -> list[ModelRequest]:
    return [
        ModelRequest(
            request_id=f"capability-{k}",
            messages=[Message.text("user", q)],
            config=GenerateConfig(max_new_tokens=4),
            options=opts,
        )
        for k, (q, opts, _) in enumerate(CAPABILITY_ITEMS)
    ]


def capability_accuracy(option_logprobs: Sequence[Sequence[float] | None]) -> float:
    """Share of the fixed items whose most likely option is the right one (failed requests count wrong)."""
    right = 0
    for lps, (_, _, answer) in zip(option_logprobs, CAPABILITY_ITEMS, strict=True):
        if lps is not None and max(range(len(lps)), key=lambda i: lps[i]) == answer:
            right += 1
    return right / len(CAPABILITY_ITEMS)


def fluency_requests(max_new_tokens: int = 32) -> list[ModelRequest]:
    return [
        ModelRequest(
            request_id=f"fluency-{k}",
            messages=[Message.text("user", p)],
            config=GenerateConfig(max_new_tokens=max_new_tokens),
        )
        for k, p in enumerate(FLUENCY_PROMPTS)
    ]


def repetition_rate(text: str, n: int = 3) -> float:
    """Share of word n-grams that already occurred earlier in ``text`` (0 = no repetition)."""
    words = text.lower().split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)


def perplexity(model: Any, tokenizer: Any, texts: Sequence[str]) -> float | None:
    """Token-level perplexity of ``texts`` under ``model`` (pooled over texts); None if too short."""
    import torch

    total_nll, total_tokens = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(device)
            if ids.shape[1] < 2:
                continue
            logits = model(input_ids=ids).logits[:, :-1].float()
            nll = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum"
            )
            total_nll += float(nll)
            total_tokens += ids.shape[1] - 1
    if total_tokens == 0:
        return None
    return math.exp(total_nll / total_tokens)
