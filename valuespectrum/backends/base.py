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


@runtime_checkable
class ActivationAccess(Protocol):
    """A backend whose internals steering and activation reading may touch (local models).

    ``model`` is the torch module whose decoder layers are hooked; ``tokenizer`` turns text
    into its inputs. Server backends do not have these; code that needs them checks
    ``isinstance(backend, ActivationAccess)`` instead of reaching for attributes.
    """

    @property
    def model(self) -> Any: ...

    @property
    def tokenizer(self) -> Any: ...


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
