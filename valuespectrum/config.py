"""Reading the files users write: one YAML loader and one validation-error formatter.

Every manifest (run, browse, steering, comparison), personas file and option block goes
through here, so every bad file gets the same kind of message: the file, the field or
line, and what to do.

Size limits (documented in the README): a YAML file may be at most ``MAX_YAML_BYTES``
and expand, through anchors and aliases, to at most ``MAX_YAML_NODES`` nodes, so a small
file cannot blow up into a huge document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from valuespectrum.errors import ConfigError

MAX_YAML_BYTES = 1_000_000
"""Largest manifest or personas file read (1 MB; item lists belong in item files)."""
MAX_YAML_NODES = 100_000
"""Most YAML nodes a file may expand to once aliases are followed."""

ModelT = TypeVar("ModelT", bound=BaseModel)


def _expanded_size(node: yaml.Node, limit: int) -> int:
    """Node count with aliases expanded (shared nodes counted each time), stopping past ``limit``."""
    count = 0
    stack = [node]
    while stack:
        n = stack.pop()
        count += 1
        if count > limit:
            return count
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.append(k)
                stack.append(v)
    return count


def parse_yaml(text: str, source: str) -> object:
    """Parse YAML with the safe loader, refusing documents that expand past the node limit."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node, MAX_YAML_NODES) > MAX_YAML_NODES:
            raise ConfigError(
                f"{source}: expands to more than {MAX_YAML_NODES} YAML nodes (anchors and aliases "
                "included); write the file out without deep aliases or split it"
            )
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from exc


def read_text_file(path: str | Path, *, max_bytes: int | None = None, what: str = "file") -> str:
    """A user's text file as UTF-8, with one-line errors for missing, too large or not UTF-8."""
    p = Path(path)
    try:
        if max_bytes is not None and p.stat().st_size > max_bytes:
            raise ConfigError(
                f"{p}: {p.stat().st_size} bytes is larger than the {max_bytes}-byte limit for a {what}"
            )
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read file ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{p}: line {line} is not valid UTF-8 (byte {exc.start}); save the {what} as UTF-8"
        ) from exc


def load_yaml(path: str | Path) -> object:
    """Read a YAML file (UTF-8, size- and alias-limited) with the safe loader."""
    return parse_yaml(read_text_file(path, max_bytes=MAX_YAML_BYTES, what="YAML file"), str(path))


def format_validation_error(exc: ValidationError, source: str, *, fix: str | None = None) -> str:
    """One line per bad field: ``source: field 'a.b': what is wrong`` (then ``; fix``)."""
    lines = []
    for err in exc.errors()[:8]:
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see manifests/ for examples)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"{source}: field '{loc}': {msg}")
    if fix:
        lines[-1] += f"; {fix}"
    return "\n".join(lines)


def repeated(names: Iterable[str]) -> list[str]:
    """The names that occur more than once, sorted (empty when all are unique)."""
    seen: set[str] = set()
    dups: set[str] = set()
    for n in names:
        (dups if n in seen else seen).add(n)
    return sorted(dups)


def check_unique(names: Iterable[str], message: str) -> None:
    """For pydantic validators: ``ValueError(message.format(dups))`` when a name repeats, e.g.
    ``check_unique(ids, "wording ids must be unique; repeated: {}")``."""
    dups = repeated(names)
    if dups:
        raise ValueError(message.format(dups))


def validate_mapping(cls: type[ModelT], raw: object, source: str) -> ModelT:
    """Validate parsed YAML/JSON into ``cls``; errors name the source and each bad field."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: expected a mapping of fields at the top level, got {type(raw).__name__}"
        )
    return validate_value(cls, raw, source)


def validate_value(cls: type[ModelT], raw: object, source: str, *, fix: str | None = None) -> ModelT:
    """Validate any parsed value into ``cls`` with the same error format."""
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, fix=fix)) from exc


def load_config(cls: type[ModelT], path: str | Path) -> ModelT:
    """Read a YAML file with the safe loader and validate it into ``cls``."""
    return validate_mapping(cls, load_yaml(path), str(path))


def read_json_model(cls: type[ModelT], path: Path, *, fix: str, missing: str | None = None) -> ModelT:
    """A JSON result file validated into ``cls``; a missing file, bad JSON or a bad field is a
    one-line error naming the file (and the field) and the fix (``missing``: the fix for no file)."""
    if not path.is_file():
        raise ConfigError(f"{path}: not found; {missing or fix}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); {fix}") from exc
    return validate_value(cls, raw, str(path), fix=fix)
