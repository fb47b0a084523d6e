"""Hook-edited wrappers built from ``kind:<base spec>``: the base model is closed when wrapping fails."""

from __future__ import annotations

from typing import Any

import pytest

from valuespectrum.backends.edited import build_over_base
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import ConfigError


def test_base_model_closed_when_the_wrapper_refuses_it() -> None:
    closed: list[str] = []

    def build(inner: Any) -> Any:
        inner.close = lambda: closed.append(inner.model_id)
        raise ConfigError("refused")

    with pytest.raises(ConfigError, match="refused"):
        build_over_base(BackendSpec(kind="sae", model="mock:m"), "sae", {}, build)
    assert len(closed) == 1


def test_missing_base_model_is_named() -> None:
    with pytest.raises(
        ConfigError, match=r"value-neurons backend: write the base model after 'value-neurons:'"
    ):
        build_over_base(BackendSpec(kind="value-neurons"), "value-neurons", {}, lambda inner: inner)
