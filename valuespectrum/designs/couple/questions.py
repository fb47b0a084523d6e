"""Questions for COUPLE runs, read from files as users have them.

- ``plain``: JSONL or CSV with ``id`` and ``question``.
- ``touche23``: Touché23-ValueEval ``arguments*.tsv`` (``Argument ID``, ``Conclusion``,
  ``Stance``, ``Premise``). The conclusion becomes an opinion question by a fixed rule:
  ``We should X`` -> ``Should we X?`` (also ``We should not X``), a conclusion that is already a
  question is kept, anything else becomes ``Do you agree that X?``; the original is kept.
- ``daily_dilemmas``: DailyDilemmas CSV or JSONL, two rows per dilemma (``action_type``
  ``to_do`` / ``not_to_do``) with ``dilemma_situation``, ``action`` and ``values_aggregated``
  (a list, or its text form ``['honesty', 'trust']``); ``dilemma_idx`` groups the rows when
  present. The question is the situation followed by both actions.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from valuespectrum.config import repeated
from valuespectrum.errors import ConfigError

QuestionFormat = Literal["plain", "touche23", "daily_dilemmas"]
TOUCHE_COLUMNS = ("Argument ID", "Conclusion", "Stance", "Premise")
DILEMMA_COLUMNS = ("dilemma_situation", "action_type", "action", "values_aggregated")


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


_WE_SHOULD = re.compile(r"^we\s+should\s+(?P<neg>not\s+)?(?P<rest>.+?)[.!\s]*$", re.IGNORECASE)


def opinion_question(conclusion: str) -> tuple[str, str]:
    """(question, rule) for a Touché conclusion; deterministic."""
    text = " ".join(conclusion.split())
    m = _WE_SHOULD.match(text)
    if m:
        return f"Should we {'not ' if m.group('neg') else ''}{m.group('rest')}?", "we-should"
    if text.endswith("?"):
        return text, "kept"
    body = text.rstrip(".! ")
    return f"Do you agree that {body[:1].lower()}{body[1:]}?", "agree"


def _rows(path: Path, delimiter: str | None = None) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    from valuespectrum.tables import read_table

    if not path.is_file():
        raise ConfigError(f"{path}: questions file not found")
    table = read_table(path, delimiter=delimiter, line_word="line")
    return table.columns, table.rows


def _need(path: Path, cols: list[str], needed: tuple[str, ...], what: str) -> None:
    missing = [c for c in needed if c not in cols]
    if missing:
        raise ConfigError(
            f"{path}: missing column(s) {missing} for {what}; expected {list(needed)}, found {cols[:12]}"
        )


def load_plain(path: Path) -> list[Question]:
    cols, rows = _rows(path)
    _need(path, cols, ("id", "question"), "plain questions")
    out = []
    for n, r in rows:
        if not str(r.get("question") or "").strip():
            raise ConfigError(f"{path}: line {n}: field 'question' is empty")
        out.append(Question(str(r.get("id") or n), str(r["question"]).strip(), path.name))
    return out


def load_touche23(path: Path) -> list[Question]:
    cols, rows = _rows(path, "\t")
    _need(path, cols, TOUCHE_COLUMNS, "Touché23-ValueEval arguments")
    out = []
    for n, r in rows:
        conclusion = str(r.get("Conclusion") or "").strip()
        if not conclusion:
            raise ConfigError(f"{path}: line {n}: field 'Conclusion' is empty")
        text, rule = opinion_question(conclusion)
        meta = {
            "conclusion": conclusion,
            "rule": rule,
            "stance": r.get("Stance"),
            "premise": r.get("Premise"),
        }
        out.append(Question(str(r["Argument ID"]).strip(), text, path.name, meta))
    return out


def value_names(raw: Any) -> list[str]:
    """``values_aggregated`` as a list of names (a list, JSON text or Python-literal text)."""
    if isinstance(raw, list):
        return [str(x).strip() for x in raw]
    text = str(raw or "").strip()
    if not text:
        return []
    try:
        val = json.loads(text)
    except json.JSONDecodeError:
        try:
            val = ast.literal_eval(text)  # literals only: the dataset writes Python lists
        except (ValueError, SyntaxError):
            val = [x for x in re.split(r"[;,]", text.strip("[]")) if x.strip()]
    items = val if isinstance(val, list | tuple) else [val]
    return [str(x).strip().strip("'\"") for x in items]


def load_daily_dilemmas(path: Path) -> list[Question]:
    cols, rows = _rows(path)
    _need(path, cols, DILEMMA_COLUMNS, "DailyDilemmas")
    groups: dict[str, dict[str, Any]] = {}
    for n, r in rows:
        key = str(r.get("dilemma_idx") if r.get("dilemma_idx") not in (None, "") else r["dilemma_situation"])
        kind = str(r.get("action_type") or "").strip()
        if kind not in ("to_do", "not_to_do"):
            raise ConfigError(f"{path}: line {n}: action_type {kind!r} must be to_do or not_to_do")
        g = groups.setdefault(key, {"situation": str(r["dilemma_situation"]).strip(), "line": n})
        g[kind] = str(r.get("action") or "").strip()
        g[f"{kind}_values"] = value_names(r.get("values_aggregated"))
    out = []
    for key, g in groups.items():
        if "to_do" not in g or "not_to_do" not in g:
            raise ConfigError(f"{path}: dilemma {key!r} (line {g['line']}) lacks its to_do or not_to_do row")
        text = f"{g['situation']}\nAction 1: {g['to_do']}\nAction 2: {g['not_to_do']}\nWhich action would you take?"
        meta = {k: g[k] for k in ("to_do", "not_to_do", "to_do_values", "not_to_do_values")}
        out.append(Question(key, text, path.name, meta))
    return out


def load_questions(
    path: str | Path, fmt: QuestionFormat = "plain", limit: int | None = None
) -> list[Question]:
    p = Path(path)
    loaders = {"plain": load_plain, "touche23": load_touche23, "daily_dilemmas": load_daily_dilemmas}
    if fmt not in loaders:
        raise ConfigError(f"questions format {fmt!r}: use one of {sorted(loaders)}")
    qs = loaders[fmt](p)
    dup = repeated(q.id for q in qs)
    if dup:
        raise ConfigError(f"{p}: question ids repeat: {dup[:5]}")
    if not qs:
        raise ConfigError(f"{p}: no questions")
    return qs[:limit] if limit else qs
