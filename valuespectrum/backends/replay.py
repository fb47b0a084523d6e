"""A backend that answers from recorded answers: ``replay:answers.csv`` or ``replay:answers.jsonl``.

Answers collected elsewhere (an API, a survey tool, a paper's released outputs) are scored by
exactly the code that scores a live run. Each row holds an item id and the answer text as
the model gave it (in the label order it was asked in); optional columns narrow the match:

- ``item_id`` (or ``probe_id``): the probe id, required;
- ``answer`` (or ``text``, ``response``): the answer text, required;
- ``persona``: the persona id (``none`` for no persona);
- ``order``: ``fwd`` or ``rev``, the label order the answer was given under;
- ``variant``: the request variant (``vision`` / ``text`` for media items).

A request is answered by the row whose columns all match it; only the optional columns the
file has take part. A request without a matching row, a row matching twice, a missing
required column or an unreadable file is an error naming the file and listing what is
missing: nothing is guessed. The path is relative to where you run, as for ``hf:`` folders.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import ConfigError
from valuespectrum.types import ModelRequest, ModelResponse

_ID_COLUMNS = ("item_id", "probe_id")
_ANSWER_COLUMNS = ("answer", "text", "response")
KEY_COLUMNS = ("persona", "order", "variant")
_MAX_LISTED = 20

Key = tuple[str, ...]


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: replay answer file not found; check the path after 'replay:'") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8") from None
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(raw.splitlines())
        return [{str(k).strip(): (v or "") for k, v in row.items() if k is not None} for row in reader]
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        out = []
        for n, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{path} line {n}: not valid JSON ({exc.msg}); one object per line"
                ) from None
            if not isinstance(obj, dict):
                raise ConfigError(f"{path} line {n}: expected a JSON object, got {type(obj).__name__}")
            out.append({str(k): "" if v is None else str(v) for k, v in obj.items()})
        return out
    raise ConfigError(f"{path}: unknown answer file type {path.suffix!r}; use .csv or .jsonl")


def _column(path: Path, names: Sequence[str], columns: set[str], what: str) -> str:
    for name in names:
        if name in columns:
            return name
    raise ConfigError(
        f"{path}: no {what} column; expected one of {', '.join(names)} (columns: {', '.join(sorted(columns))})"
    )


def request_fields(request: ModelRequest) -> dict[str, str]:
    """The item id, persona, label order and variant a request asks for."""
    meta = request.metadata
    probe_id = str(meta.get("probe_id", request.request_id))
    order = "rev" if meta.get("reverse_labels") else "fwd"
    marker = f"|{probe_id}|{order}"
    rid = request.request_id
    variant = rid[rid.index(marker) + len(marker) :].lstrip("|") if marker in rid else ""
    return {
        "item_id": probe_id,
        "persona": str(meta.get("persona", "none")),
        "order": order,
        "variant": variant,
    }


class ReplayBackend:
    """Answers requests from a recorded answer file (text answers only, no log-likelihoods)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        rows = _rows(self.path)
        if not rows:
            raise ConfigError(f"{self.path}: no answers; expected a header and one row per answer")
        columns = set().union(*(r.keys() for r in rows))
        id_col = _column(self.path, _ID_COLUMNS, columns, "item id")
        answer_col = _column(self.path, _ANSWER_COLUMNS, columns, "answer")
        self.key_columns = tuple(c for c in KEY_COLUMNS if c in columns)
        self._answers: dict[Key, str] = {}
        for n, row in enumerate(rows, start=1):
            item = row.get(id_col, "").strip()
            if not item:
                raise ConfigError(
                    f"{self.path} row {n}: column {id_col!r} is empty; every row needs an item id"
                )
            key = (item, *(row.get(c, "").strip() for c in self.key_columns))
            if key in self._answers:
                raise ConfigError(f"{self.path} row {n}: a second answer for {self._describe(key)}; keep one")
            self._answers[key] = row.get(answer_col, "")
        self._digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> ReplayBackend:
        if not spec.model:
            raise ConfigError("model spec 'replay': name the answer file, e.g. 'replay:answers.csv'")
        unknown = sorted(spec.options)
        if unknown:
            raise ConfigError(
                f"model spec 'replay:{spec.model}': unknown options {unknown}; replay takes none"
            )
        return cls(spec.model)

    def _describe(self, key: Key) -> str:
        parts = [f"item {key[0]!r}", *(f"{c} {v!r}" for c, v in zip(self.key_columns, key[1:], strict=True))]
        return ", ".join(parts)

    def key_of(self, request: ModelRequest) -> Key:
        fields: Mapping[str, str] = request_fields(request)
        return (fields["item_id"], *(fields[c] for c in self.key_columns))

    @property
    def model_id(self) -> str:
        return f"replay:{self.path.name}"

    @property
    def revision(self) -> str | None:
        return self._digest

    @property
    def supports_option_logprobs(self) -> bool:
        return False

    @property
    def supports_images(self) -> bool:
        return True

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        keys = [self.key_of(r) for r in requests]
        missing = [k for k in keys if k not in self._answers]
        if missing:
            listed = "; ".join(self._describe(k) for k in missing[:_MAX_LISTED])
            more = f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
            raise ConfigError(
                f"{self.path}: no recorded answer for {len(missing)} request(s): {listed}{more}; "
                "add rows for them or leave these items out of the run"
            )
        return [
            ModelResponse(request_id=r.request_id, text=self._answers[k], model_id=self.model_id)
            for r, k in zip(requests, keys, strict=True)
        ]

    def close(self) -> None:
        return None
