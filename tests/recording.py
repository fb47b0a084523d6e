"""A backend wrapper for tests that checks what a run asked and what it was answered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from valuespectrum.types import ModelRequest, ModelResponse


class Recording:
    """Wraps a backend and records every request and its response, in call order; any other
    attribute (``model``, ``tokenizer``, ``model_id``...) is the inner backend's."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[ModelRequest] = []
        self.responses: list[ModelResponse] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        reqs = list(requests)
        out = self.inner.generate(reqs)
        self.requests.extend(reqs)
        self.responses.extend(out)
        return out
