"""Import ConVA's published pair and test-question layout (a clone of its data folder; nothing ships).

Training pairs, one file per value and kind: ``{value}_context_controlled.{csv,json,jsonl}`` (the
earlier name ``{value}_hard``) and ``{value}_non_context_controlled`` (earlier ``{value}_easy``);
each row has ``question_1`` (the value-positive sentence) and ``question_2`` (the value-negative
one) and no scenario field, so the imported :class:`ContrastivePair` has an empty scenario and
renders as the sentence alone. Other columns (a pandas index, notes) are ignored. Test questions:
``test_{value}_new.{csv,json,jsonl}`` with a ``text`` column (dilemma questions, for open generation).

    pairs = load_conva_pairs("ConVA/data/value", kind="context_controlled")
    write_pairs_jsonl(pairs, "conva-pairs.jsonl")   # the project's pair layout, readable by load_pairs

Errors name the file, the row and the field.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.steering.pairs import ContrastivePair
from valuespectrum.tables import read_jsonl
from valuespectrum.values import Value, parse_value

Kind = Literal["context_controlled", "non_context_controlled"]
KINDS: tuple[Kind, ...] = ("context_controlled", "non_context_controlled")
#: file-name suffix -> kind (ConVA's earlier names first renamed to the later ones)
_SUFFIXES: dict[str, Kind] = {
    "non_context_controlled": "non_context_controlled",
    "context_controlled": "context_controlled",
    "hard": "context_controlled",
    "easy": "non_context_controlled",
}
_EXTS = (".csv", ".jsonl", ".json")
_PAIR_NAME = re.compile(r"^(?P<value>.+?)_(?P<suffix>non_context_controlled|context_controlled|hard|easy)$")
_TEST_NAME = re.compile(r"^test_(?P<value>.+?)_new$")


@dataclass(frozen=True)
class ConvaQuestion:
    """A test question of one value (open generation; ConVA judges the answer for the value)."""

    id: str
    value: Value
    text: str


def _rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) for every row of a CSV (header row 1), JSONL or JSON-array file."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            for n, row in enumerate(reader, start=2):
                yield f"{path}: row {n}", dict(row)
    elif path.suffix == ".jsonl":
        for n, row in read_jsonl(path):
            yield f"{path}: line {n}", row
    elif path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, list):
            raise ConfigError(f"{path}: expected a JSON array of rows, found {type(data).__name__}")
        for n, row in enumerate(data, start=1):
            if not isinstance(row, dict):
                raise ConfigError(f"{path}: row {n}: expected an object with the fields, found {row!r:.40}")
            yield f"{path}: row {n}", row
    else:
        raise ConfigError(f"{path}: unsupported extension {path.suffix!r}; use .csv, .jsonl or .json")


def _field(row: dict[str, Any], name: str, where: str) -> str:
    if name not in row:
        raise ConfigError(f"{where}: field {name!r} missing (found {sorted(map(str, row))[:8]})")
    text = row[name]
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: field {name!r} is empty; every row needs a sentence there")
    return text.strip()


def _value(raw: str, path: Path) -> Value:
    try:
        return parse_value(raw.replace("_", "-"))
    except ValueError as exc:
        raise ConfigError(
            f"{path}: file name names no Schwartz value ({exc}); name it e.g. benevolence_context_controlled.csv "
            "or pass value="
        ) from exc


def read_conva_pair_file(path: str | Path, *, value: Value | str | None = None) -> list[ContrastivePair]:
    """The pairs of one file; the value comes from the file name unless ``value`` is given."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: ConVA pair file not found")
    m = _PAIR_NAME.match(p.stem)
    if value is not None:
        v = value if isinstance(value, Value) else parse_value(value)
    elif m is not None:
        v = _value(m["value"], p)
    else:
        raise ConfigError(
            f"{p}: file name is not VALUE_context_controlled / VALUE_non_context_controlled; pass value="
        )
    kind = "cc" if m is None or _SUFFIXES[m["suffix"]] == "context_controlled" else "ncc"
    slug = v.value.lower().replace(" ", "-")
    pairs: list[ContrastivePair] = []
    for n, (where, row) in enumerate(_rows(p), start=1):
        pos, neg = _field(row, "question_1", where), _field(row, "question_2", where)
        if pos == neg:
            raise ConfigError(
                f"{where}: fields 'question_1' and 'question_2' are identical; a pair must contrast"
            )
        pairs.append(ContrastivePair(f"conva-{slug}-{kind}-{n}", v, "", pos, neg))
    if not pairs:
        raise ConfigError(f"{p}: no rows")
    return pairs


def _files(root: Path, pattern: re.Pattern[str]) -> list[tuple[Path, re.Match[str]]]:
    found = [(f, m) for f in sorted(root.iterdir()) if f.suffix in _EXTS and (m := pattern.match(f.stem))]
    return found


def load_conva_pairs(
    source: str | Path, kind: Kind = "context_controlled", *, values: list[Value] | None = None
) -> list[ContrastivePair]:
    """Every pair file of ``kind`` in a folder (or one file), optionally only ``values``."""
    if kind not in KINDS:
        raise ConfigError(f"kind {kind!r}: choose one of {', '.join(KINDS)}")
    root = Path(source)
    if root.is_file():
        m = _PAIR_NAME.match(root.stem)
        if m is not None and _SUFFIXES[m["suffix"]] != kind:
            raise ConfigError(
                f"{root}: a {_SUFFIXES[m['suffix']]} file, but {kind} pairs were asked for; "
                f"pass the {kind} file or its folder"
            )
        found = read_conva_pair_file(root)
        if values is not None and not (found := [p for p in found if p.value in values]):
            raise ConfigError(f"{root}: no pairs of {', '.join(v.value for v in values)}")
        return found
    if not root.is_dir():
        raise ConfigError(f"{root}: no such ConVA data folder or file")
    pairs: list[ContrastivePair] = []
    seen: dict[Value, Path] = {}
    for f, m in _files(root, _PAIR_NAME):
        if _SUFFIXES[m["suffix"]] != kind:
            continue
        v = _value(m["value"], f)
        if values is not None and v not in values:
            continue
        if v in seen:
            raise ConfigError(f"{f}: a second {kind} file for {v.value} (first: {seen[v].name}); keep one")
        seen[v] = f
        pairs.extend(read_conva_pair_file(f, value=v))
    if not pairs:
        raise ConfigError(
            f"{root}: no {kind} pair files (expected e.g. benevolence_{kind}.csv with question_1, question_2)"
        )
    return pairs


def load_conva_tests(source: str | Path) -> list[ConvaQuestion]:
    """The test questions of every ``test_{value}_new`` file in a folder (or one file)."""
    root = Path(source)
    if root.is_file():
        m = _TEST_NAME.match(root.stem)
        if m is None:
            raise ConfigError(f"{root}: file name is not test_VALUE_new.csv")
        files = [(root, m)]
    elif root.is_dir():
        files = _files(root, _TEST_NAME)
    else:
        raise ConfigError(f"{root}: no such ConVA test folder or file")
    out: list[ConvaQuestion] = []
    for f, m in files:
        v = _value(m["value"], f)
        slug = v.value.lower().replace(" ", "-")
        out.extend(
            ConvaQuestion(f"conva-test-{slug}-{n}", v, _field(row, "text", where))
            for n, (where, row) in enumerate(_rows(f), start=1)
        )
    if not out:
        raise ConfigError(f"{root}: no test questions (expected test_VALUE_new.csv with a 'text' column)")
    return out


def write_pairs_jsonl(pairs: list[ContrastivePair], out: str | Path) -> Path:
    """Write ``pairs`` in the project's pair layout (``id, value, scenario, positive, negative``)."""
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    rows = (
        json.dumps(
            {
                "id": x.id,
                "value": x.value.value,
                "scenario": x.scenario,
                "positive": x.positive,
                "negative": x.negative,
            },
            ensure_ascii=False,
        )
        for x in pairs
    )
    p.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return p


def pairs_from_source(source: str) -> list[ContrastivePair]:
    """``builtin``, a pair file of the project's layout, ``conva:PATH`` (context-controlled ConVA
    files) or ``conva-non-controlled:PATH`` (the non-context-controlled ones)."""
    from valuespectrum.steering.pairs import builtin_pairs, load_pairs

    if source == "builtin":
        return builtin_pairs()
    for prefix, kind in (
        ("conva-non-controlled:", "non_context_controlled"),
        ("conva:", "context_controlled"),
    ):
        if source.startswith(prefix):
            return load_conva_pairs(source[len(prefix) :], kind)  # type: ignore[arg-type]
    return load_pairs(source)
