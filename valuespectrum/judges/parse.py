"""A strict parser for a judge's free-text label, and option log-likelihood reading.

Text: the first non-empty line, with surrounding quotes/asterisks and a ``Label:`` (or
``Answer:``, ``Verdict:``, ``Rating:``) prefix removed, must be exactly one label
(case-insensitive), optionally followed by punctuation (``Yes.``, ``No, because...``). A label
followed by more words (``No one would...``), several labels, or none is *unparsed*: the
parser never guesses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_PREFIX = re.compile(r"^(?:label|answer|verdict|rating|grade)\s*[:=-]\s*", re.IGNORECASE)
_WRAP = "\"'`*_ "
_AFTER = ".,;:!?)]"


@dataclass(frozen=True)
class LabelParse:
    label: str | None
    detail: str


def parse_label(text: str, labels: Sequence[str]) -> LabelParse:
    """The one label ``text`` names, or None with the reason."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return LabelParse(None, "empty answer")
    line = lines[0].strip(_WRAP)
    line = _PREFIX.sub("", line).strip(_WRAP)
    folded = {lab.casefold(): lab for lab in labels}
    bare = line.rstrip(_AFTER + _WRAP).casefold()
    if bare in folded:
        return LabelParse(folded[bare], "exact label")
    # a label at the start, closed by punctuation: "Yes, it does", "3. Because"
    for key, lab in sorted(folded.items(), key=lambda kv: -len(kv[0])):
        low = line.casefold()
        if low.startswith(key) and len(low) > len(key) and low[len(key)] in _AFTER:
            rest = low[len(key) + 1 :]
            if _mentions(rest, [k for k in folded if k != key]):
                return LabelParse(None, "several labels on the first line")
            return LabelParse(lab, "label then punctuation")
    found = _mentions(line.casefold(), list(folded))
    if len(found) > 1:
        return LabelParse(None, "several labels on the first line")
    if found:
        return LabelParse(None, "a label inside other words (not alone on the first line)")
    return LabelParse(None, "no label")


def _mentions(text: str, keys: Sequence[str]) -> list[str]:
    return [k for k in keys if re.search(rf"(?<![\w]){re.escape(k)}(?![\w])", text)]


def option_choice(
    logprobs: Sequence[float] | None, labels: Sequence[str]
) -> tuple[str | None, list[float] | None, str]:
    """The label with the highest log-likelihood, normalised probabilities, and a detail."""
    if logprobs is None or len(logprobs) != len(labels):
        return None, None, "no option log-likelihoods in the response"
    finite = [x for x in logprobs if math.isfinite(x)]
    if not finite:
        return None, None, "every option log-likelihood is -inf"
    top = max(finite)
    weights = [math.exp(x - top) if math.isfinite(x) else 0.0 for x in logprobs]
    total = sum(weights)
    probs = [w / total for w in weights]
    best = [i for i, x in enumerate(logprobs) if x == top]
    if len(best) > 1:
        return None, probs, "tie between " + ", ".join(labels[i] for i in best)
    return labels[best[0]], probs, "highest option log-likelihood"
