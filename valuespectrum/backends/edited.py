"""Wrappers that answer with a hook edit of the inner model applied (value neurons, SAE features).

The edit's condition digest is part of the model id, so the response cache and run records tell
conditions apart; hooks live only for each ``generate`` call. A wrapper built from a manifest
spec (``kind:<base spec>``) loaded its base model and closes it (``owns_inner``); one given a
base backend leaves it to its lender.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol, TypeVar

from valuespectrum.backends.base import ActivationAccess, Backend, Wrapper
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import BackendError, ConfigError
from valuespectrum.types import ModelRequest, ModelResponse

W = TypeVar("W")


class Condition(Protocol):
    def digest(self) -> str: ...


class HookEditedBackend(Wrapper):
    """``inner`` answering under :meth:`steering`; subclasses set ``id_tag`` and ``condition``."""

    id_tag: ClassVar[str]
    condition: Condition
    access: ActivationAccess
    owns_inner: bool = False

    def _wrap(self, inner: Backend, what: str) -> None:
        """Wrap ``inner``, refusing a backend whose activations cannot be hooked."""
        if not isinstance(inner, ActivationAccess):
            raise ConfigError(
                f"{what} needs a backend exposing its activations (hf:); {inner.model_id!r} does not"
            )
        self.inner, self.access = inner, inner

    @property
    def model_id(self) -> str:
        return f"{self.inner.model_id}+{self.id_tag}:{self.condition.digest()[:16]}"

    def steering(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        reqs = list(requests)
        with self.steering():
            resps = self.inner.generate(reqs)
        if len(resps) != len(reqs):
            raise BackendError(
                f"backend {self.inner.model_id!r} returned {len(resps)} responses for {len(reqs)}"
            )
        return [r.model_copy(update={"model_id": self.model_id}) for r in resps]

    def close(self) -> None:
        """Closes ``inner`` only when this backend loaded it (built from a spec)."""
        if self.owns_inner:
            self.inner.close()


def build_over_base(
    spec: BackendSpec, kind: str, model_options: dict[str, Any], build: Callable[[Backend], W]
) -> W:
    """Load the base model of a ``kind:<base spec>`` entry and wrap it with ``build``; the base
    is closed again when ``build`` fails, so a bad option never leaves a model loaded."""
    from valuespectrum.backends.registry import create_backend

    inner_spec = spec.model + (f"@{spec.base_url}" if spec.base_url else "")
    if not inner_spec:
        raise ConfigError(f"{kind} backend: write the base model after '{kind}:', e.g. {kind}:hf:PATH")
    inner = create_backend(inner_spec, **model_options)
    try:
        return build(inner)
    except BaseException:
        inner.close()
        raise
