"""One line of responses.jsonl: everything needed to audit and re-score a request
(read and written through :mod:`valuespectrum.runs.log`)."""

from __future__ import annotations

from pydantic import BaseModel

from valuespectrum.types import Message, ModelResponse, Order


def record_id(model: str, persona: str, probe_id: str, order: Order, variant: str = "") -> str:
    base = f"{model}|{persona}|{probe_id}|{order}"
    return f"{base}|{variant}" if variant else base


class RunRecord(BaseModel):
    record_id: str
    model: str
    """The model's label in the manifest."""
    model_id: str
    persona: str
    probe_id: str
    order: Order
    variant: str = ""
    """Further condition (e.g. modality) when a run asks the same item several ways."""
    messages: list[Message]
    """The rendered prompt exactly as sent."""
    options: list[str] | None = None
    request_key: str
    response: ModelResponse


__all__ = ["Order", "RunRecord", "record_id"]
