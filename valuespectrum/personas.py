"""Personas: who the model is asked to be. Prompts belong to personas and probes, never
to model wrappers, so every backend sees the same words."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from valuespectrum.errors import ConfigError
from valuespectrum.values import Value, parse_value

#: The id meaning "no persona" (no system prompt at all).
NO_PERSONA = "none"


class Persona(BaseModel):
    id: str
    kind: Literal["trait", "value", "neutral", "custom"] = "custom"
    description: str
    """Written in the second person; becomes the system prompt."""
    targets: list[Value] = Field(default_factory=list)
    """Values a reader would expect this persona to favour (used to judge steerability)."""

    @field_validator("targets", mode="before")
    @classmethod
    def _values(cls, raw: object) -> list[Value]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ValueError("targets must be a list of value names")
        return [v if isinstance(v, Value) else parse_value(str(v)) for v in raw]

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
