"""Model-written descriptions for the text modality (the image-description ablation).

Before a run, a describer model sees each media item's frames once and writes what they show;
the description is stored in the item (``metadata["description"]``, with the describer's
model id), so the run folder's ``probes.jsonl`` holds exactly what the text modality read and
re-scoring needs no model. Descriptions are greedy, so the response cache makes them free on
a re-run, and a resumed run reuses the descriptions already stored in its folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from valuespectrum.errors import BackendError
from valuespectrum.manifest import Describer
from valuespectrum.probes.render import media_parts
from valuespectrum.probes.schema import Probe
from valuespectrum.runs.jsonl import read_jsonl
from valuespectrum.runs.setup import BackendFactory, ModelSource
from valuespectrum.types import GenerateConfig, Message, ModelRequest, TextPart


def _stored(probes_file: Path, describer: Describer) -> dict[str, Probe]:
    """Items of an earlier attempt of this run that already carry this describer's text."""
    if not probes_file.is_file():
        return {}
    out = {}
    for raw in read_jsonl(probes_file):
        p = Probe.model_validate(raw)
        if p.metadata.get("description") and p.metadata.get("description_spec") == describer.spec:
            out[p.id] = p
    return out


def describe_probes(
    probes: Sequence[Probe],
    describer: Describer,
    factory: BackendFactory | ModelSource,
    *,
    batch_size: int = 8,
    reuse_from: Path | None = None,
) -> list[Probe]:
    """Return the probes with a description for every item that has media.

    Raises BackendError naming the items whose description failed (nothing is half-written:
    the run has not started; cached descriptions make the retry cheap).
    """
    stored = _stored(reuse_from, describer) if reuse_from is not None else {}
    out = list(probes)
    todo = [i for i, p in enumerate(out) if p.media and p.id not in stored]
    for i, p in enumerate(out):
        if p.id in stored:
            out[i] = p.model_copy(update={"metadata": {**p.metadata, **_description_fields(stored[p.id])}})
    if not todo:
        return out
    config = GenerateConfig(max_new_tokens=describer.max_new_tokens)
    source = factory if isinstance(factory, ModelSource) else ModelSource(factory, owned=True)
    failed: list[str] = []
    with source.open(describer.spec, describer.options, None) as backend:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            requests = [
                ModelRequest(
                    request_id=f"describe|{out[i].id}",
                    messages=[
                        Message(role="user", content=[*media_parts(out[i]), TextPart(text=describer.prompt)])
                    ],
                    config=config,
                    metadata={"probe_id": out[i].id, "purpose": "describe"},
                )
                for i in chunk
            ]
            for i, resp in zip(chunk, backend.generate(requests), strict=True):
                text = resp.text.strip()
                if resp.error or not text:
                    failed.append(f"{out[i].id} ({resp.error or 'empty description'})")
                    continue
                meta = {
                    **out[i].metadata,
                    "description": text,
                    "description_model": backend.model_id,
                    "description_spec": describer.spec,
                }
                out[i] = out[i].model_copy(update={"metadata": meta})
    if failed:
        shown = "; ".join(failed[:5]) + (f"; ... {len(failed) - 5} more" if len(failed) > 5 else "")
        raise BackendError(
            f"probes.describe ({describer.spec}): no description for {len(failed)} of {len(todo)} items: "
            f"{shown}. Fix the describer (is it a model that sees images?) and run again."
        )
    return out


def _description_fields(p: Probe) -> dict[str, object]:
    return {
        k: p.metadata[k] for k in ("description", "description_model", "description_spec") if k in p.metadata
    }
