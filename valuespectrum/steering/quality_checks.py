"""Capability and fluency checks of a steering run's main conditions, kept and resumed like responses.

The baseline and each steered condition answer the fixed capability items (scored by option
log-likelihood) and the open fluency prompts through the run's own backends, so answers go
through the response cache too. Each answer is one line of ``steering/quality.jsonl``
(condition, request id, request key, response); a re-run asks only what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.jsonl import JsonlWriter, read_jsonl
from valuespectrum.runs.setup import BackendFactory
from valuespectrum.steering import quality
from valuespectrum.steering.conditions import PlannedCondition
from valuespectrum.types import ModelRequest, ModelResponse

QUALITY_FILE = "steering/quality.jsonl"


def run_quality_checks(
    folder: RunFolder,
    plan: Sequence[PlannedCondition],
    factory: BackendFactory,
    *,
    fluency: bool,
    capability: bool,
    tokens: int,
    fresh: bool = False,
) -> dict[str, tuple[float | None, list[str] | None]]:
    """Per checked condition: (capability accuracy or None, fluency texts or None)."""
    cap_reqs = [_scores_only(r) for r in quality.capability_requests()] if capability else []
    flu_reqs = quality.fluency_requests(tokens) if fluency else []
    if not cap_reqs and not flu_reqs:
        return {}
    path = folder.root / QUALITY_FILE
    if fresh:
        path.unlink(missing_ok=True)
    stored: dict[tuple[str, str], ModelResponse] = {}
    for rec in read_jsonl(path):
        resp = ModelResponse.model_validate(rec["response"])
        if resp.ok:
            stored[(rec["condition"], rec["request_key"])] = resp
    out: dict[str, tuple[float | None, list[str] | None]] = {}
    with JsonlWriter(path) as writer:
        for c in plan:
            if c.kind not in ("baseline", "steer"):
                continue
            answers = _answers(c, [*cap_reqs, *flu_reqs], stored, factory, writer)
            cap = answers[: len(cap_reqs)]
            flu = answers[len(cap_reqs) :]
            out[c.name] = (
                quality.capability_accuracy([r.option_logprobs if r.ok else None for r in cap])
                if cap_reqs
                else None,
                [r.text for r in flu if r.ok] if flu_reqs else None,
            )
    return out


def _answers(
    c: PlannedCondition,
    reqs: list[ModelRequest],
    stored: dict[tuple[str, str], ModelResponse],
    factory: BackendFactory,
    writer: JsonlWriter,
) -> list[ModelResponse]:
    backend = factory("", {}, c.model)  # a view of the loaded base model: cheap to make
    try:
        keys = [r.key(backend.model_id, backend.revision) for r in reqs]
        got = {i: stored[(c.name, k)] for i, k in enumerate(keys) if (c.name, k) in stored}
        todo = [i for i in range(len(reqs)) if i not in got]
        if todo:
            rows: list[dict[str, Any]] = []
            for i, resp in zip(todo, backend.generate([reqs[i] for i in todo]), strict=True):
                got[i] = resp
                rows.append(
                    {
                        "condition": c.name,
                        "request_id": reqs[i].request_id,
                        "request_key": keys[i],
                        "response": resp.model_dump(mode="json"),
                    }
                )
            writer.write_many(rows)
        return [got[i] for i in range(len(reqs))]
    finally:
        backend.close()


def _scores_only(request: ModelRequest) -> ModelRequest:
    """Ask only for option log-likelihoods (no sampled text): the readout needs nothing else."""
    return request.model_copy(update={"config": request.config.model_copy(update={"generate_text": False})})
