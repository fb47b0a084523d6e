"""A gate from an external local text classifier (ConVA gates with a human-value detector).

The classifier is a local sequence-classification folder (``config.json`` with ``id2label``,
weights, tokenizer). A value's score for a text is the mean probability of the labels mapped to
it (default: labels whose name contains the value's name, e.g. "Self-direction: thought" and
"Self-direction: action"). Probabilities are sigmoids for multi-label models
(``problem_type: multi_label_classification``), else a softmax. A text is gated in when the score
is above the value's threshold, or below its low threshold when one is set. Remote code in the
folder is refused unless ``trust_remote_code=True`` is passed.

Thresholds: :func:`threshold_for_rate` (the threshold letting a target share of value-relevant
prompts through) and :func:`threshold_by_f1` (the threshold with the best F1 on labelled prompts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.values import Value


def _default_map(labels: Sequence[str]) -> dict[Value, list[str]]:
    out: dict[Value, list[str]] = {}
    for v in Value:
        key = v.value.lower().replace("-", "")
        hits = [lab for lab in labels if key in lab.lower().replace("-", "")]
        if hits:
            out[v] = hits
    return out


class ClassifierGate:
    """Value scores and gate decisions from a local sequence classifier."""

    def __init__(
        self,
        path: str | Path,
        *,
        value_map: Mapping[Value, Sequence[str]] | None = None,
        thresholds: Mapping[Value, float] | None = None,
        low_thresholds: Mapping[Value, float] | None = None,
        trust_remote_code: bool = False,
        batch_size: int = 16,
    ) -> None:
        from valuespectrum.compat import ensure_torch_stack

        ensure_torch_stack()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = Path(path)
        if not (folder / "config.json").is_file():
            raise ConfigError(f"{folder}: not a classifier folder (no config.json)")
        try:
            self.model = AutoModelForSequenceClassification.from_pretrained(
                folder, trust_remote_code=trust_remote_code
            ).eval()
            self.tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
        except ValueError as exc:
            if "trust_remote_code" in str(exc):
                raise ConfigError(
                    f"{folder}: the classifier needs its own code; pass trust_remote_code=True only if you trust it"
                ) from exc
            raise ConfigError(f"{folder}: cannot load the classifier ({exc})") from exc
        self.labels = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        self.multi_label = getattr(self.model.config, "problem_type", None) == "multi_label_classification"
        mapping = (
            _default_map(self.labels) if value_map is None else {v: list(ls) for v, ls in value_map.items()}
        )
        unknown = sorted({lab for ls in mapping.values() for lab in ls} - set(self.labels))
        if unknown:
            raise ConfigError(f"{folder}: value_map names labels {unknown} the classifier does not have")
        self.value_map = mapping
        self.thresholds = dict(thresholds or {})
        self.low_thresholds = dict(low_thresholds or {})
        self.batch_size = batch_size

    def label_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), n_labels] probabilities."""
        import torch

        rows = []
        tok = self.tokenizer
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        with torch.no_grad():
            for s in range(0, len(texts), self.batch_size):
                enc = tok(
                    list(texts[s : s + self.batch_size]), return_tensors="pt", padding=True, truncation=True
                )
                logits = self.model(**enc).logits.double()
                probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
                rows.append(probs.numpy())
        return np.concatenate(rows) if rows else np.zeros((0, len(self.labels)))

    def scores(self, texts: Sequence[str], value: Value) -> np.ndarray:
        """The value's score per text (mean probability of its labels)."""
        if value not in self.value_map:
            raise ConfigError(f"{value.value}: no classifier label maps to it; pass value_map")
        cols = [self.labels.index(lab) for lab in self.value_map[value]]
        return np.asarray(self.label_probabilities(texts)[:, cols].mean(axis=1))

    def decide(self, texts: Sequence[str], value: Value) -> list[bool]:
        """Gate in: score above the value's threshold (default 0.5) or below its low threshold."""
        s = self.scores(texts, value)
        high = self.thresholds.get(value, 0.5)
        low = self.low_thresholds.get(value)
        return [bool(x > high or (low is not None and x < low)) for x in s]


def threshold_for_rate(relevant_scores: Sequence[float], rate: float) -> float:
    """The threshold letting a share ``rate`` of the value-relevant prompts through (score > threshold)."""
    if not 0.0 < rate <= 1.0:
        raise ConfigError(f"rate must lie in (0, 1], got {rate}")
    s = np.sort(np.asarray(relevant_scores, dtype=np.float64))[::-1]
    if len(s) == 0:
        raise ConfigError("threshold_for_rate needs at least one score")
    k = max(1, int(np.ceil(rate * len(s))))
    # just below the k-th highest score, so exactly the top k pass (ties pass together)
    return float(np.nextafter(s[k - 1], -np.inf))


def threshold_by_f1(scores: Sequence[float], relevant: Sequence[bool]) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of ``score > threshold`` against the labels; ties take the higher threshold."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(relevant, dtype=bool)
    if len(x) != len(y) or not y.any():
        raise ConfigError("threshold_by_f1 needs as many labels as scores and at least one relevant prompt")
    best = (0.0, -1.0)
    for t in sorted({float(np.nextafter(v, -np.inf)) for v in x}, reverse=True):
        pred = x > t
        tp = int((pred & y).sum())
        f1 = 2 * tp / (int(pred.sum()) + int(y.sum()))
        if f1 > best[1]:
            best = (t, f1)
    return best
