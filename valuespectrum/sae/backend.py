"""A backend answering under SAE feature steering (the SAE counterpart of ``SteeredBackend``).

The condition (SAE digest, hook, edits, positions or span) is part of the model id, so the
response cache and run records tell conditions apart; hooks live only for each ``generate``
call; the base backend is closed only by a wrapper that loaded it (:mod:`valuespectrum.sae.spec`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from valuespectrum.backends.base import Backend, text_reader
from valuespectrum.backends.edited import HookEditedBackend
from valuespectrum.sae.model import SparseAutoencoder
from valuespectrum.sae.steer import FeatureEdit, Where, steer_features
from valuespectrum.types import stable_hash


class FeatureCondition(BaseModel):
    """What an SAE-steered backend does; its digest enters the model id."""

    model_config = ConfigDict(frozen=True)

    sae_digest: str
    hook_name: str
    edits: list[tuple[int, str, float]]
    positions: Where = "all"
    token_positions: list[int] | None = None
    span: str | None = None
    value: str | None = None
    """The value the features were chosen for (reports only; does not change answers)."""

    def digest(self) -> str:
        return stable_hash(self.model_dump(mode="json", exclude={"value"}))


class FeatureSteeredBackend(HookEditedBackend):
    """``inner`` (a backend exposing model and tokenizer) answering with SAE features edited."""

    id_tag = "sae"
    condition: FeatureCondition

    def __init__(
        self,
        inner: Backend,
        sae: SparseAutoencoder,
        edits: Sequence[FeatureEdit],
        *,
        positions: Where = "all",
        token_positions: Sequence[int] | None = None,
        span: str | None = None,
        value: str | None = None,
        layer_template: str | None = None,
    ) -> None:
        self._wrap(inner, "SAE steering")
        self.sae, self.edits = sae, list(edits)
        self.positions, self.span, self.layer_template = positions, span, layer_template
        self.token_positions = None if token_positions is None else list(token_positions)
        self.condition = FeatureCondition(
            sae_digest=sae.digest(),
            hook_name=sae.hook_name,
            edits=[(e.feature, e.mode, float(e.value)) for e in self.edits],
            positions=positions,
            token_positions=self.token_positions,
            span=span,
            value=value,
        )
        self.stats: dict[str, int] = {}

    def steering(self) -> Any:
        tok = text_reader(self.access)
        return steer_features(
            self.access.model,
            self.sae,
            self.edits,
            positions=self.positions,
            token_positions=self.token_positions,
            span=self.span,
            tokenizer=tok,
            layer_template=self.layer_template,
            stats=self.stats,
        )
