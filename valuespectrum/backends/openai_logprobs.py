"""Option scores from a chat server's first-token alternatives (see ``openai_compat``): an
option's log-probability is that of the longest top token that is a prefix of it; options
outside the top-k get the k-th alternative's value as an upper bound."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _logaddexp(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    if hi == -math.inf:
        return -math.inf
    return hi + math.log1p(math.exp(lo - hi))


def _norm_token(token: str) -> str:
    # Byte-level BPE ("Ġ") and SentencePiece ("▁") markers stand for a leading space.
    return token.replace("Ġ", " ").replace("▁", " ").strip().casefold()


def option_logprobs_from_top(top: Sequence[tuple[str, float]], options: Sequence[str]) -> list[float] | None:
    """Map options to first-token log-probabilities (see the module docstring).

    ``top`` holds (token, logprob) pairs for the first generated token. Tokens that
    normalise to the same text (" Yes", "Yes", "yes") are pooled. An option with no
    matching top token gets ``-inf``. Returns None when no option matches or two options
    match the same token (the approximation cannot separate them).
    """
    pooled: dict[str, float] = {}
    for token, lp in top:
        key = _norm_token(token)
        if key:
            pooled[key] = _logaddexp(pooled[key], lp) if key in pooled else float(lp)
    chosen: list[str | None] = []
    for option in options:
        target = option.strip().casefold()
        matches = [k for k in pooled if target.startswith(k)]
        chosen.append(max(matches, key=len) if matches else None)
    picked = [c for c in chosen if c is not None]
    if not picked or len(set(picked)) != len(picked):
        return None
    return [pooled[c] if c is not None else -math.inf for c in chosen]


def bound_absent(
    lps: list[float] | None, top: Sequence[tuple[str, float]]
) -> tuple[list[float] | None, list[bool] | None]:
    """Replace -inf (an option outside the top-k) by the k-th alternative's log-probability,
    an upper bound of the option's own; returns the scores and which ones are bounds."""
    if lps is None or all(math.isfinite(x) for x in lps):
        return lps, None
    floor = min(lp for _, lp in top)
    flags = [not math.isfinite(x) for x in lps]
    return [floor if f else x for x, f in zip(lps, flags, strict=True)], flags


def first_token_top(choice: dict[str, Any]) -> list[tuple[str, float]] | None:
    """(token, logprob) alternatives for the first generated token, or None if absent."""
    lp = choice.get("logprobs")
    if not isinstance(lp, dict):
        return None
    content = lp.get("content")
    if not isinstance(content, list) or not content:
        return None
    first = content[0]
    if not isinstance(first, dict):
        return None
    top = first.get("top_logprobs") or []
    pairs = [
        (str(t["token"]), float(t["logprob"]))
        for t in top
        if isinstance(t, dict) and "token" in t and isinstance(t.get("logprob"), int | float)
    ]
    if not pairs and "token" in first and isinstance(first.get("logprob"), int | float):
        pairs = [(str(first["token"]), float(first["logprob"]))]
    return pairs or None
