"""The model-backend protocol.

A backend turns ModelRequests into ModelResponses. It never raises for one failed request:
the failure is returned as a response with ``error`` set, so a run can count failures and
carry on. It raises BackendError only when it cannot work at all (bad spec, missing weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from valuespectrum.types import ModelRequest, ModelResponse


@runtime_checkable
class Backend(Protocol):
    """What every model backend provides."""

    @property
    def model_id(self) -> str:
        """Stable identifier of the model (enters cache keys and run headers)."""
        ...

    @property
    def revision(self) -> str | None:
        """Weights revision or digest, when known (enters cache keys)."""
        ...

    @property
    def supports_option_logprobs(self) -> bool:
        """True if generate() fills ModelResponse.option_logprobs for requests with options."""
        ...

    @property
    def supports_images(self) -> bool: ...

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        """Answer each request, in order. One response per request, errors included."""
        ...

    def close(self) -> None:
        """Release resources (connections, GPU memory). Idempotent."""
        ...


class Wrapper:
    """A backend that answers through another (``inner``): what identifies the model and what
    it can do are the inner backend's; subclasses add to ``model_id`` what they change."""

    inner: Backend

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def revision(self) -> str | None:
        return self.inner.revision

    @property
    def cache_identity(self) -> str | None:
        """The wrapped model's cache identity (dtype, server fingerprint, script...)."""
        value = getattr(self.inner, "cache_identity", None)
        return value if isinstance(value, str) else None

    @property
    def supports_option_logprobs(self) -> bool:
        return self.inner.supports_option_logprobs

    @property
    def supports_images(self) -> bool:
        return self.inner.supports_images


@runtime_checkable
class ActivationAccess(Protocol):
    """What steering needs from a backend: its loaded torch model and the text reader that feeds it.

    Steering hooks decoder layers of ``model``; extraction, detectors and perplexity encode text
    with ``tokenizer`` (or the multimodal ``processor``). A backend that offers these is
    steerable (:class:`~valuespectrum.backends.steered.SteeredBackend`); the local ``hf`` backend does.
    """

    model: Any
    """The torch module generating the answers (decoder layers are found in it by name)."""
    tokenizer: Any
    processor: Any | None
    """The multimodal processor, or None for text-only models."""


def text_reader(backend: ActivationAccess) -> Any:
    """The object that turns text into model inputs: the processor of a VLM, else the tokenizer."""
    return backend.processor if backend.processor is not None else backend.tokenizer


def activation_access(backend: object) -> ActivationAccess:
    """``backend`` as an :class:`ActivationAccess`, or a clear error for backends without one."""
    from valuespectrum.errors import BackendError

    inner = getattr(backend, "inner", None)  # a response cache in front of a local model
    for candidate in (backend, inner):
        if candidate is not None and isinstance(candidate, ActivationAccess):
            return candidate
    raise BackendError(
        f"{type(backend).__name__} gives no access to a model's activations; steering and activation "
        "reading need a local model (an 'hf:' backend)"
    )
