"""Personas: who the model is asked to be. Prompts belong to personas and probes, never
to model wrappers, so every backend sees the same words."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from valuespectrum.errors import ConfigError
from valuespectrum.value_systems import Dim, ValueSystem, as_dim, dim_name
from valuespectrum.values import Value, parse_value

#: The id meaning "no persona" (no system prompt at all).
NO_PERSONA = "none"


class Persona(BaseModel):
    id: str
    kind: Literal["trait", "value", "neutral", "custom"] = "custom"
    description: str
    """Written in the second person; becomes the system prompt."""
    targets: list[Dim] = Field(default_factory=list)
    """Values a reader would expect this persona to favour (used to judge steerability):
    Schwartz names (or codes) become ``Value``; names of another value system (``care``) are
    kept as written and checked against the run's system by :func:`check_targets`."""

    @field_validator("targets", mode="before")
    @classmethod
    def _values(cls, raw: object) -> list[Dim]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ValueError("targets must be a list of value names")
        out: list[Dim] = []
        for v in raw:
            try:
                out.append(v if isinstance(v, Value) else parse_value(str(v)))
            except ValueError:
                if not str(v).strip():
                    raise ValueError("a target is empty; give a value name") from None
                out.append(str(v).strip())
        return out

    def schwartz_targets(self) -> list[Value]:
        """The targets as Schwartz values, for analyses of the ten (browsing, steering)."""
        bad = [t for t in self.targets if not isinstance(t, Value)]
        if bad:
            raise ConfigError(
                f"persona {self.id!r}: targets {[str(t) for t in bad]} are not among Schwartz's ten values, "
                "which this analysis measures; give the persona Schwartz targets or use it in a probe run "
                "of its value system"
            )
        return [t for t in self.targets if isinstance(t, Value)]

    def system_prompt(self) -> str:
        return (
            "Adopt the following persona and answer every question as this person would, "
            f"in their voice.\n\nPersona: {self.description}"
        )


class _PersonaFile(BaseModel):
    personas: list[Persona]


def load_personas_file(path: str | Path) -> dict[str, Persona]:
    """Read a personas YAML file (safe loader) into id -> Persona."""
    from valuespectrum.config import load_yaml

    return _parse(load_yaml(path), str(path))


def _parse(raw: object, source: str) -> dict[str, Persona]:
    from valuespectrum.config import validate_value

    parsed = validate_value(_PersonaFile, raw, source)
    out: dict[str, Persona] = {}
    for p in parsed.personas:
        if p.id in out or p.id == NO_PERSONA:
            raise ConfigError(f"{source}: persona id {p.id!r} is duplicated or reserved")
        out[p.id] = p
    return out


@lru_cache(maxsize=1)
def builtin_personas() -> dict[str, Persona]:
    text = resources.files("valuespectrum.data").joinpath("personas.yaml").read_text(encoding="utf-8")
    from valuespectrum.config import parse_yaml

    return _parse(parse_yaml(text, "builtin personas.yaml"), "builtin personas.yaml")


def resolve_personas(ids: list[str], extra: dict[str, Persona] | None = None) -> list[Persona | None]:
    """Look personas up by id (``none`` -> None); unknown ids raise listing the valid ones."""
    library = {**builtin_personas(), **(extra or {})}
    out: list[Persona | None] = []
    for pid in ids:
        if pid == NO_PERSONA:
            out.append(None)
        elif pid in library:
            out.append(library[pid])
        else:
            valid = ", ".join([NO_PERSONA, *sorted(library)])
            raise ConfigError(f"unknown persona {pid!r}; valid personas are: {valid}")
    return out


def check_targets(
    personas: Iterable[Persona | None], system: ValueSystem, *, source: str
) -> list[Persona | None]:
    """Personas with their targets resolved in the run's value system; a target outside it is
    an error naming where the persona is defined, the field and the system's values."""
    out: list[Persona | None] = []
    for p in personas:
        if p is None or not p.targets:
            out.append(p)
            continue
        resolved: list[Dim] = []
        for t in p.targets:
            hit = system.find(dim_name(t))
            if hit is None:
                raise ConfigError(
                    f"{source}: persona {p.id!r}, field 'targets': {dim_name(t)!r} is not a value of value "
                    f"system {system.id!r}; use one of {list(system.dimensions)}"
                )
            resolved.append(as_dim(hit))
        out.append(p if resolved == list(p.targets) else p.model_copy(update={"targets": resolved}))
    return out
