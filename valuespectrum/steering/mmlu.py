"""General ability in the MMLU layout: CSV files per subject, k-shot prompts, option log-likelihood.

The standard layout (no data ships with valuespectrum): ``FOLDER/dev/<subject>_dev.csv`` and
``FOLDER/test/<subject>_test.csv`` (``val`` likewise), or all files flat in ``FOLDER``; each row,
without a header, is ``question, A, B, C, D, answer`` with the answer a letter A-D.

A prompt opens with one line naming the subject, then up to ``k`` solved questions of the
subject's dev file, then the question with ``Answer:``. The model's answer is the option of
highest log-likelihood among ``A``..``D`` (a request with ``options``); a failed request counts as
wrong and is counted. Gated as ConVA does: a question whose gate score reaches ``threshold`` is
answered by the steered backend, any other by the plain one, so the questions steered are
exactly the gated ones.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.backends.base import Backend
from valuespectrum.errors import ConfigError
from valuespectrum.types import GenerateConfig, Message, ModelRequest

LETTERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class MCQuestion:
    subject: str
    question: str
    choices: tuple[str, str, str, str]
    answer: int
    """Index of the right choice (0 = A)."""
    id: str


def _read(path: Path, subject: str) -> list[MCQuestion]:
    out: list[MCQuestion] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.reader(fh), start=1):
            if not row:
                continue
            if len(row) != 6:
                raise ConfigError(
                    f"{path}: row {n} has {len(row)} columns; expected question, A, B, C, D, answer"
                )
            letter = row[5].strip().upper()
            if letter not in LETTERS:
                raise ConfigError(f"{path}: row {n}: answer {row[5]!r} must be one of A, B, C, D")
            choices = (row[1], row[2], row[3], row[4])
            out.append(
                MCQuestion(subject, row[0], choices, LETTERS.index(letter), f"{subject}-{path.stem}-{n}")
            )
    return out


def load_mmlu(folder: str | Path, split: str = "test") -> dict[str, list[MCQuestion]]:
    """Questions per subject of ``split`` (test, val or dev) from an MMLU-layout folder."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"{root}: MMLU folder not found")
    sub = root / split
    base = sub if sub.is_dir() else root
    files = sorted(base.glob(f"*_{split}.csv"))
    if not files:
        raise ConfigError(f"{root}: no *_{split}.csv files (expected {split}/<subject>_{split}.csv)")
    return {f.stem[: -len(split) - 1]: _read(f, f.stem[: -len(split) - 1]) for f in files}


def _block(q: MCQuestion) -> str:
    lines = [
        q.question.strip(),
        *(f"{letter}. {c.strip()}" for letter, c in zip(LETTERS, q.choices, strict=True)),
    ]
    return "\n".join(lines) + "\nAnswer:"


def mmlu_prompt(q: MCQuestion, shots: Sequence[MCQuestion]) -> str:
    """The k-shot prompt for ``q`` (the shots come from the subject's dev file)."""
    head = (
        f"The following are multiple choice questions (with answers) about {q.subject.replace('_', ' ')}.\n\n"
    )
    solved = "".join(f"{_block(s)} {LETTERS[s.answer]}\n\n" for s in shots)
    return head + solved + _block(q)


def mmlu_requests(
    questions: Sequence[MCQuestion], dev: dict[str, list[MCQuestion]] | None = None, k: int = 5
) -> list[ModelRequest]:
    """One option-scored request per question (``k`` shots from ``dev`` of the same subject)."""
    return [
        ModelRequest(
            request_id=q.id,
            messages=[Message.text("user", mmlu_prompt(q, (dev or {}).get(q.subject, [])[:k]))],
            config=GenerateConfig(max_new_tokens=1),
            options=list(LETTERS),
            metadata={"subject": q.subject},
        )
        for q in questions
    ]


@dataclass
class MMLUResult:
    accuracy: float
    n: int
    correct: int
    failed: int
    per_subject: dict[str, float] = field(default_factory=dict)
    steered_ids: list[str] = field(default_factory=list)


def evaluate_mmlu(
    plain: Backend,
    questions: Sequence[MCQuestion],
    *,
    dev: dict[str, list[MCQuestion]] | None = None,
    k: int = 5,
    steered: Backend | None = None,
    gate: Callable[[str], float] | None = None,
    threshold: float = 0.5,
) -> MMLUResult:
    """Accuracy by option log-likelihood; with ``steered``, gated questions go to it (all without a gate)."""
    reqs = mmlu_requests(questions, dev, k)
    if steered is None:
        use = [False] * len(reqs)
    elif gate is None:
        use = [True] * len(reqs)
    else:
        use = [gate(q.question) >= threshold for q in questions]
    answers: dict[str, list[float] | None] = {}
    for backend, flag in ((plain, False), (steered, True)):
        batch = [r for r, u in zip(reqs, use, strict=True) if u is flag]
        if backend is None or not batch:
            continue
        for r, resp in zip(batch, backend.generate(batch), strict=True):
            answers[r.request_id] = None if resp.error else resp.option_logprobs
    correct = failed = 0
    by_subject: dict[str, list[int]] = {}
    for q in questions:
        lps = answers.get(q.id)
        ok = lps is not None and len(lps) == 4 and max(range(4), key=lambda i: lps[i]) == q.answer
        failed += lps is None
        correct += ok
        by_subject.setdefault(q.subject, []).append(int(ok))
    n = len(questions)
    return MMLUResult(
        accuracy=correct / n if n else 0.0,
        n=n,
        correct=correct,
        failed=failed,
        per_subject={s: sum(v) / len(v) for s, v in sorted(by_subject.items())},
        steered_ids=[q.id for q, u in zip(questions, use, strict=True) if u],
    )
