"""What every run spec shares: probe runs (``vspec run``), browsing runs (``vspec browse``)
and the runs other commands build (steering conditions as the models of one run).

A spec names its models, personas, generation settings, cache, output folder and the
failure thresholds. Its *answer identity* is the part that changes what the models are
asked or answer: a folder holding a run refuses a spec with another identity, while edits
outside it (bootstrap count, thresholds, cache, report settings) only re-score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from valuespectrum.backends.spec import redact_url_credentials
from valuespectrum.config import check_unique
from valuespectrum.types import GenerateConfig, stable_hash

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def Rate(default: float) -> Any:
    """A share in 0..1; NaN refused."""
    return Field(default=default, ge=0.0, le=1.0, allow_inf_nan=False)


def check_slug(name: str, what: str = "name") -> str:
    """A safe single path component: letters, digits, '.', '_', '-' (not starting with '.')."""
    if not _SLUG.match(name):
        raise ValueError(
            f"{what} {name!r} must be 1-100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (it names the run folder inside output_dir)"
        )
    return name


def check_rate(x: float, what: str) -> float:
    """A share in 0..1 (NaN refused), for thresholds given on the command line."""
    if not (0.0 <= x <= 1.0):
        raise ValueError(f"{what} must be a number from 0 to 1, got {x}")
    return x


def check_unique_labels(models: Iterable[ModelSpec]) -> None:
    """Refuse two models going by one label (their rows and files would mix)."""
    check_unique((m.name for m in models), "model labels must be unique; repeated: {} (set 'label')")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(Strict):
    """One model of a run: a backend spec, its options and the label it goes by."""

    spec: str
    """Model spec: ``mock``, ``hf:ID_OR_PATH``, ``openai:NAME@URL`` or a plugin's."""
    label: str | None = None
    """Name used in tables and file names (default: the spec)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Backend settings (device, dtype, batch_size, api_key_env, script for mock...)."""

    @property
    def name(self) -> str:
        return self.label or redact_url_credentials(self.spec)

    @field_serializer("spec", "options")
    def _no_credentials(self, value: Any) -> Any:
        # credentials in a base URL never reach manifest.yaml, headers or records
        if isinstance(value, str):
            return redact_url_credentials(value)
        return {k: redact_url_credentials(v) if isinstance(v, str) else v for k, v in value.items()}


class RunSpecBase(Strict):
    """Fields shared by every run spec."""

    #: Fields whose change alters no request or answer (excluded from the answer identity).
    NO_ANSWER_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"cache", "max_failure_rate", "max_unparsed_rate", "output_dir"}
    )

    name: str = "run"
    """The run folder's name inside ``output_dir`` (a safe slug)."""
    seed: int = 0
    personas: list[str] = Field(default_factory=lambda: ["none"], min_length=1)
    """Persona ids (``none`` = no system prompt); see ``vspec personas``."""
    personas_file: str | None = None
    generation: GenerateConfig = Field(default_factory=lambda: GenerateConfig(max_new_tokens=16))
    cache: bool | str = True
    """True: a shared cache under the data folder; a path: that SQLite file (relative to the
    manifest, like its other paths); False: none; "refresh": the shared cache, asking every
    request again and overwriting the stored answers."""
    max_failure_rate: float = Rate(default=0.0)
    """A run whose failed-request share exceeds this exits 1."""
    max_unparsed_rate: float = Rate(default=0.5)
    """A run whose unparsed-answer share (of all records) exceeds this exits 1."""
    output_dir: str = "runs"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_slug(v)

    @model_validator(mode="after")
    def _unique(self) -> RunSpecBase:
        check_unique_labels(getattr(self, "models", []))
        check_unique(self.personas, "personas must not repeat (each would be asked everything twice): {}")
        return self

    def answer_identity(self) -> str:
        """Digest of what changes a request or an answer (see the module docstring)."""
        return stable_hash(self.model_dump(mode="json", exclude=set(self.NO_ANSWER_FIELDS)))
