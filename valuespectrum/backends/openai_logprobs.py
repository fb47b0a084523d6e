"""Option scores from a chat server's first-token alternatives (see ``openai_compat``).

Three readings, recorded per response (``ModelResponse.option_scores``):

- ``exact``: every option is one whole token among the alternatives (its text exactly), so its
  score is that token's own log-probability, as a local model would compute it;
- ``topk``: the first-token approximation: an option's score is that of the longest top token
  that is a prefix of it (spellings such as " Yes"/"yes" pooled);
- ``bounded``: some option is outside the top-k: it gets the k-th alternative's value as an
  upper bound (its log-probability is below it, so the argmax over the options is kept).

The first-token approximation equals the option's score for single-token options ("Yes"/"No",
"1".."6"); where two options share their first token it cannot separate them (no scores).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

OptionScores = Literal["exact", "topk", "bounded"]


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


def exact_option_logprobs(top: Sequence[tuple[str, float]], options: Sequence[str]) -> list[float] | None:
    """Each option's own log-probability where every option is one whole token among the
    alternatives (same text, unpooled); None otherwise."""
    table: dict[str, float] = {}
    for token, lp in top:
        table.setdefault(token, float(lp))
    found = [table.get(option) for option in options]
    return None if any(x is None for x in found) else [float(x) for x in found if x is not None]


def score_options(
    top: Sequence[tuple[str, float]], options: Sequence[str]
) -> tuple[list[float] | None, list[bool] | None, OptionScores | None]:
    """Option scores from first-token alternatives, which of them are bounds, and the reading."""
    exact = exact_option_logprobs(top, options)
    if exact is not None:
        return exact, None, "exact"
    lps, bounded = bound_absent(option_logprobs_from_top(top, options), top)
    if lps is None:
        return None, None, None
    return lps, bounded, "bounded" if bounded is not None else "topk"
