"""Question files as users have them: AdAEM-style releases, our own generated sets.

CSV, TSV or JSONL with a question column (``question``, ``text`` or ``prompt``) and optional
``id``, ``topic`` and ``value`` columns; or a ``vspec adaem generate`` folder (its
``questions.jsonl``). Rows without a question are an error naming the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from valuespectrum.designs.adaem.evaluate import Question
from valuespectrum.errors import ConfigError
from valuespectrum.types import stable_hash

_TEXT = ("question", "text", "prompt")


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    from valuespectrum.tables import read_table

    return read_table(path, line_word="line").rows


def load_questions(path: str | Path, *, limit: int | None = None) -> list[Question]:
    p = Path(path)
    if p.is_dir():
        p = p / "questions.jsonl"
        if not p.exists():
            raise ConfigError(
                f"{p.parent}: holds no questions.jsonl (is it a `vspec adaem generate` folder?)"
            )
    out: list[Question] = []
    seen: set[str] = set()
    for n, row in _rows(p):
        col = next((c for c in _TEXT if str(row.get(c) or "").strip()), None)
        if col is None:
            raise ConfigError(
                f"{p}: line {n} has no question; give a column named one of {list(_TEXT)} "
                f"(columns found: {sorted(row)})"
            )
        text = " ".join(str(row[col]).split())
        qid = str(row.get("id") or "").strip() or f"q-{stable_hash(text)[:10]}"
        if qid in seen:
            raise ConfigError(f"{p}: line {n} repeats question id {qid!r}")
        seen.add(qid)
        out.append(Question(qid, text, str(row.get("topic") or "").strip()))
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise ConfigError(f"{p}: holds no questions")
    return out
