"""How well a judge agrees with a person's labels: agreement, Cohen's kappa, a confusion matrix.

Kappa is computed on the items the judge labelled (parsed); unparsed and failed items are
counted and shown as an extra confusion-matrix column. For ordinal labels (given in order)
also within-one agreement and linear / quadratic weighted kappa::

    kappa_w = 1 - sum(w_ij * O_ij) / sum(w_ij * E_ij),   E_ij = row_i * col_j / N
    unweighted w_ij = [i != j];  linear |i - j| / (k - 1);  quadratic (i - j)^2 / (k - 1)^2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from valuespectrum.errors import ConfigError
from valuespectrum.judges.judge import Judge, JudgeItem, Judgment
from valuespectrum.tables import read_jsonl, read_table

Weights = Literal["none", "linear", "quadratic"]


def cohen_kappa(confusion: Sequence[Sequence[float]] | np.ndarray, weights: Weights = "none") -> float | None:
    """Cohen's kappa of a square table (rows: rater A, columns: rater B); None when undefined."""
    o = np.asarray(confusion, dtype=float)
    if o.ndim != 2 or o.shape[0] != o.shape[1] or o.shape[0] < 2:
        raise ValueError(f"kappa needs a square table of at least 2 x 2, got shape {o.shape}")
    n = o.sum()
    if n <= 0:
        return None
    k = o.shape[0]
    i, j = np.indices((k, k))
    if weights == "none":
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j) / (k - 1)
    elif weights == "quadratic":
        w = (i - j) ** 2 / (k - 1) ** 2
    else:
        raise ValueError(f"unknown kappa weights {weights!r}")
    e = np.outer(o.sum(axis=1), o.sum(axis=0)) / n
    den = float((w * e).sum())
    if den == 0:
        return None
    return 1.0 - float((w * o).sum()) / den


class Calibration(BaseModel):
    judge: str
    source: str
    labels: list[str]
    ordinal: bool
    n: int
    n_parsed: int
    n_unparsed: int
    n_failed: int
    exact: float | None
    """Share of parsed items where the judge's label equals the person's."""
    within_one: float | None
    """Ordinal labels: share of parsed items at most one step apart."""
    kappa: float | None
    kappa_linear: float | None
    kappa_quadratic: float | None
    confusion: list[list[int]]
    """Rows: the person's labels; columns: the judge's labels, then unparsed/failed."""

    def headline(self) -> str:
        def f(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f}"

        text = f"calibrated on {self.n} labelled answers ({self.source}): exact {f(self.exact)}, kappa {f(self.kappa)}"
        if self.ordinal:
            text += f", within-one {f(self.within_one)}, quadratic kappa {f(self.kappa_quadratic)}"
        return text + f"; {self.n_unparsed} unparsed, {self.n_failed} failed"


def agreement(
    human: Sequence[str],
    judged: Sequence[Judgment],
    labels: Sequence[str],
    *,
    ordinal: bool,
    judge: str,
    source: str,
) -> Calibration:
    """Agreement statistics of ``judged`` against ``human`` labels (same order)."""
    k = len(labels)
    idx = {lab: i for i, lab in enumerate(labels)}
    conf = np.zeros((k, k + 1), dtype=int)
    for h, j in zip(human, judged, strict=True):
        col = idx[j.label] if j.status == "parsed" and j.label is not None else k
        conf[idx[h], col] += 1
    table = conf[:, :k]
    n_parsed = int(table.sum())
    exact = float(np.trace(table)) / n_parsed if n_parsed else None
    within = None
    if ordinal and n_parsed:
        ii, jj = np.indices((k, k))
        within = float(table[np.abs(ii - jj) <= 1].sum()) / n_parsed
    return Calibration(
        judge=judge,
        source=source,
        labels=list(labels),
        ordinal=ordinal,
        n=len(human),
        n_parsed=n_parsed,
        n_unparsed=sum(j.status == "unparsed" for j in judged),
        n_failed=sum(j.status == "error" for j in judged),
        exact=exact,
        within_one=within,
        kappa=cohen_kappa(table),
        kappa_linear=cohen_kappa(table, "linear") if ordinal else None,
        kappa_quadratic=cohen_kappa(table, "quadratic") if ordinal else None,
        confusion=conf.tolist(),
    )


def read_labelled(
    path: str | Path,
    labels: Sequence[str],
    *,
    label_field: str = "label",
    derive: Callable[[Mapping[str, str]], Mapping[str, str]] | None = None,
) -> tuple[list[JudgeItem], list[str]]:
    """A labelled file: JSONL or CSV with ``answer`` and ``label`` (optional ``id``, ``question``;
    other columns fill rubric placeholders). Labels match the judge's case-insensitively.

    ``label_field`` names the label column (one file can hold labels for several rubrics);
    ``derive`` adds rubric fields computed from a row's other columns (it raises ValueError for
    a bad row, reported with the file and line)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: labelled file not found")
    rows = read_table(path, line_word="line").rows if path.suffix.lower() == ".csv" else read_jsonl(path)
    folded = {lab.casefold(): lab for lab in labels}
    items: list[JudgeItem] = []
    human: list[str] = []
    for n, r in rows:
        for fld in ("answer", label_field):
            if r.get(fld) in (None, ""):
                raise ConfigError(f"{path}: line {n}: field {fld!r} is missing or empty")
        lab = folded.get(str(r[label_field]).strip().casefold())
        if lab is None:
            raise ConfigError(
                f"{path}: line {n}: field {label_field!r} is {r[label_field]!r}, "
                f"not one of the judge's labels {list(labels)}"
            )
        extra = {str(k): str(v) for k, v in r.items() if k not in ("answer", label_field, "id", "question")}
        if derive is not None:
            try:
                extra.update(derive(extra))
            except ValueError as exc:
                raise ConfigError(f"{path}: line {n}: {exc}") from exc
        items.append(
            JudgeItem(
                answer=str(r["answer"]),
                question=str(r.get("question") or ""),
                id=str(r.get("id") or f"{path.stem}-{n}"),
                fields=extra,
            )
        )
        human.append(lab)
    if not items:
        raise ConfigError(f"{path}: no labelled answers")
    return items, human


def calibrate(
    judge: Judge,
    labelled_file: str | Path,
    *,
    store: str | Path | None = None,
    label_field: str = "label",
    derive: Callable[[Mapping[str, str]], Mapping[str, str]] | None = None,
) -> Calibration:
    """Grade a person's labelled answers, compare, and attach the result to ``judge``
    (``label_field`` and ``derive`` as in :func:`read_labelled`)."""
    items, human = read_labelled(labelled_file, judge.labels, label_field=label_field, derive=derive)
    judged = judge.grade(items, store=store)
    cal = agreement(
        human, judged, judge.labels, ordinal=judge.ordinal, judge=judge.id, source=Path(labelled_file).name
    )
    judge.calibration = cal
    return cal
