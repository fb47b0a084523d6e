"""Fluency and capability of a model under a neuron edit, measured inside the edit's block.

:func:`quality_measure` returns a callable that :func:`valuespectrum.neurons.evaluate.edit_effects`
calls once per condition while that condition's edit is active:

- ``perplexity``: token perplexity of fixed reference texts (the held-out pair texts) under the
  edited model; an edit that breaks the language model raises it;
- ``capability``: the 20 fixed arithmetic and copy items of :mod:`valuespectrum.steering.quality`
  (option log-likelihood), needs the backend that wraps the model;
- ``mmlu``: accuracy on MMLU-layout questions (:mod:`valuespectrum.steering.mmlu`, k-shot from the
  dev file, option log-likelihood) when a folder is given; ``mmlu_failed`` counts failed requests.

The backend must answer from the very model object being edited (an ``hf:`` backend does; a
cached or remote backend would not see the edit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from valuespectrum.backends.base import Backend
from valuespectrum.steering.mmlu import MCQuestion, evaluate_mmlu

Measure = Callable[[], dict[str, float | None]]


def quality_measure(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    backend: Backend | None = None,
    capability: bool = True,
    perplexity_of_texts: bool = True,
    mmlu: Sequence[MCQuestion] | None = None,
    mmlu_dev: dict[str, list[MCQuestion]] | None = None,
    mmlu_k: int = 5,
) -> Measure:
    """The measures above as one callable (what is not configured is left out)."""
    from valuespectrum.steering.collect import text_tokenizer
    from valuespectrum.steering.quality import capability_accuracy, capability_requests, perplexity

    tok = text_tokenizer(tokenizer)

    def measure() -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        if perplexity_of_texts:
            out["perplexity"] = perplexity(model, tok, list(texts))
        if backend is not None and capability:
            resp = backend.generate(capability_requests())
            out["capability"] = capability_accuracy([None if r.error else r.option_logprobs for r in resp])
        if backend is not None and mmlu:
            res = evaluate_mmlu(backend, list(mmlu), dev=mmlu_dev, k=mmlu_k)
            out["mmlu"] = res.accuracy
            out["mmlu_failed"] = float(res.failed)
        return out

    return measure
