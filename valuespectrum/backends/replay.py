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

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import ConfigError
from valuespectrum.tables import SUFFIXES, kind_of, read_table
from valuespectrum.types import ModelRequest, ModelResponse

_ID_COLUMNS = ("item_id", "probe_id")
_ANSWER_COLUMNS = ("answer", "text", "response")
_MAX_LISTED = 20

Key = tuple[str, ...]


def _rows(path: Path) -> list[dict[str, str]]:
    """The file's rows as text cells, read by the reader item files use (BOM, quoting, JSON)."""
    if kind_of(path) is None:
        raise ConfigError(
            f"{path}: unknown answer file type {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise ConfigError(f"{path}: replay answer file not found; check the path after 'replay:'")
    table = read_table(path, line_word="line")
    return [{str(k).strip(): _text(v) for k, v in cells.items()} for _, cells in table.rows]


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():  # numeric answer columns read back as 5.0
        return str(int(v))
    return v if isinstance(v, str) else json.dumps(v) if isinstance(v, list | dict) else str(v)


def _column(path: Path, names: Sequence[str], columns: set[str], what: str) -> str:
    for name in names:
        if name in columns:
            return name
    raise ConfigError(
        f"{path}: no {what} column; expected one of {', '.join(names)} (columns: {', '.join(sorted(columns))})"
    )


def _order(request: ModelRequest) -> str:
    return "rev" if request.metadata.get("reverse_labels") else "fwd"


def _variant(request: ModelRequest) -> str:
    # run request ids end in ...|ITEM|ORDER|VARIANT (see runs.records.record_id)
    marker = f"|{_item_id(request)}|{_order(request)}"
    rid = request.request_id
    return rid[rid.index(marker) + len(marker) :].lstrip("|") if marker in rid else ""


def _item_id(request: ModelRequest) -> str:
    return str(request.metadata.get("probe_id", request.request_id))


def _persona(request: ModelRequest) -> str:
    return str(request.metadata.get("persona", "none"))


KEY_FIELDS: dict[str, Callable[[ModelRequest], str]] = {
    "persona": _persona,
    "order": _order,
    "variant": _variant,
}
"""The optional columns that narrow which request a row answers, in key order, each with how
a request gives it: the one definition answer-file keys and request keys both follow (a new
field is one entry here)."""
KEY_COLUMNS = tuple(KEY_FIELDS)


def request_fields(request: ModelRequest) -> dict[str, str]:
    """The item id and every key field (persona, label order, variant) a request asks for."""
    return {"item_id": _item_id(request), **{name: get(request) for name, get in KEY_FIELDS.items()}}


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

    def check_requests(self, requests: Sequence[ModelRequest]) -> None:
        """Refuse, before anything is asked, requests the file has no answer for (all listed)."""
        keys = [self.key_of(r) for r in requests]
        missing = list(dict.fromkeys(k for k in keys if k not in self._answers))
        if missing:
            listed = "; ".join(self._describe(k) for k in missing[:_MAX_LISTED])
            more = f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
            raise ConfigError(
                f"{self.path}: no recorded answer for {len(missing)} request(s): {listed}{more}; "
                "add rows for them or leave these items out of the run"
            )

    def generate(self, requests: Sequence[ModelRequest]) -> list[ModelResponse]:
        self.check_requests(requests)
        keys = [self.key_of(r) for r in requests]
        return [
            ModelResponse(request_id=r.request_id, text=self._answers[k], model_id=self.model_id)
            for r, k in zip(requests, keys, strict=True)
        ]

    def close(self) -> None:
        return None
