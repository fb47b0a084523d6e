"""One line of responses.jsonl: everything needed to audit and re-score a request
(read and written through :mod:`valuespectrum.runs.log`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from valuespectrum.types import Message, ModelResponse, Order


def record_id(
    model: str,
    persona: str,
    probe_id: str,
    order: Order,
    variant: str = "",
    *,
    wording: str = "",
    repeat: int | None = None,
) -> str:
    """A request's id. The wording and repeat parts appear only in runs that ask several
    wordings or repeats, so runs of one wording keep the ids they always had (and resume)."""
    base = f"{model}|{persona}|{probe_id}|{order}"
    if variant:
        base = f"{base}|{variant}"
    if wording:
        base = f"{base}|w={wording}"
    return f"{base}|r={repeat}" if repeat is not None else base


def without_repeat(rid: str) -> str:
    """The id shared by every repeat of one request (``record_id`` without ``|r=N``)."""
    head, sep, tail = rid.rpartition("|r=")
    return head if sep and tail.isdigit() else rid


class RequestFields(BaseModel):
    """Which request a line is about (the parts of its :func:`record_id`); shared by the
    records of ``responses.jsonl`` and the score lines read from them."""

    record_id: str
    model: str
    """The model's label in the manifest."""
    persona: str
    probe_id: str
    order: Order
    variant: str = ""
    """Further condition (e.g. modality) when a run asks the same item several ways."""
    wording: str = Field(default="", exclude_if=lambda v: v == "")
    """The wording's id in runs that name wordings (see ``RunManifest.wordings``)."""
    repeat: int = Field(default=0, exclude_if=lambda v: v == 0)
    """Which sample of a request asked ``repeats`` times (0-based)."""


class RunRecord(RequestFields):
    model_id: str
    seed: int | None = Field(default=None, exclude_if=lambda v: v is None)
    """The sampling seed sent with a repeated request."""
    messages: list[Message]
    """The rendered prompt exactly as sent."""
    options: list[str] | None = None
    request_key: str
    response: ModelResponse


__all__ = ["Order", "RequestFields", "RunRecord", "record_id", "without_repeat"]
