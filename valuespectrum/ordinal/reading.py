"""Ratings of scored run folders as an :class:`OrdinalData` table.

Reads ``scores.jsonl`` (the parsed answer and keyed item scores of every record) and
``probes.jsonl`` (each item's scale) through the run-folder layout, and the run's name and
persona targets through the report loader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from valuespectrum.errors import ConfigError
from valuespectrum.ordinal.data import By, OrdinalData, Rating, count_reasons
from valuespectrum.value_systems import dim_name


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import json

    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{path}: line {n} is not JSON ({exc}); re-score the run") from exc


def _scales(path: Path) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for n, p in _lines(path):
        fmt = p.get("format") or {}
        if fmt.get("kind") == "likert":
            try:
                out[str(p["id"])] = (int(fmt.get("scale_min", 1)), int(fmt.get("scale_max", 6)))
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{path}: line {n}: malformed probe ({exc})") from exc
    return out


def _unit(model: str, persona: str, by: str) -> str:
    if by == "model":
        return model
    if by == "persona":
        return persona
    return f"{model} / {persona}"


def read_runs(run_dirs: list[Path], *, by: By = "auto") -> OrdinalData:
    """One table from several scored runs; ``by`` names what a compared unit is.

    ``auto``: the persona when all answers come from one model, the model when all come from
    one persona, else ``model / persona``. Units that occur in several runs are prefixed with
    the run's name.
    """
    from valuespectrum.reports.loading import load_run
    from valuespectrum.runs.folder import RunFolder

    if not run_dirs:
        raise ConfigError("ordinal: give at least one scored run folder")
    raw: list[tuple[str, dict[str, Any], tuple[int, int] | None, Path, int]] = []
    targets_by_run: dict[str, dict[str, list[str]]] = {}
    for d in run_dirs:
        run = load_run(d)
        folder = RunFolder(d)
        for f in (folder.scores, folder.probes):
            if not f.is_file():
                raise ConfigError(f"{f}: not found; score the run first (`vspec score {d}`)")
        scales = _scales(folder.probes)
        targets_by_run[run.name] = {p: [dim_name(v) for v in vs] for p, vs in run.targets.items()}
        for n, rec in _lines(folder.scores):
            raw.append((run.name, rec, scales.get(str(rec.get("probe_id"))), folder.scores, n))
    try:
        models = {str(r["model"]) for _, r, _, _, _ in raw}
        personas = {str(r["persona"]) for _, r, _, _, _ in raw}
    except KeyError as exc:
        raise ConfigError(f"ordinal: a score record lacks field {exc.args[0]!r}; re-score the run") from exc
    if by == "auto":
        by = "persona" if len(models) == 1 else "model" if len(personas) == 1 else "group"

    reasons: list[str] = []
    rows: list[tuple[str, str, Rating]] = []
    scale_set: set[tuple[int, int]] = set()
    for run_name, rec, scale, path, n in raw:
        answer = rec.get("answer") or {}
        status = answer.get("status")
        if status == "unparsed":
            reasons.append("unparsed")
            continue
        if status != "parsed":
            reasons.append("failed")
            continue
        if scale is None:
            reasons.append("not Likert")
            continue
        items = [i for i in rec.get("items") or [] if i.get("kind") == "rating"]
        if not items:
            reasons.append("no keyed value")
            continue
        try:
            value = float(answer["value"])
            keys = tuple((str(i["value"]), 1 if float(i["weight"]) > 0 else -1) for i in items)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: line {n}: malformed score record ({exc}); re-score the run") from exc
        if not value.is_integer():
            reasons.append("not a whole rating")
            continue
        scale_set.add(scale)
        unit = _unit(str(rec["model"]), str(rec["persona"]), by)
        rows.append(
            (
                run_name,
                str(rec["persona"]),
                Rating(
                    unit=unit,
                    item=str(rec["probe_id"]),
                    keys=keys,
                    rating=int(value),
                    order=str(rec.get("order") or "fwd"),
                    # the modality and the prompt wording: both are covariates of the fit
                    variant="/".join(
                        x for x in (str(rec.get("variant") or ""), str(rec.get("wording") or "")) if x
                    ),
                ),
            )
        )
    if len(scale_set) > 1:
        raise ConfigError(
            f"ordinal: the runs mix rating scales {sorted(scale_set)}; model one scale at a time "
            "(choose probes with the same scale)"
        )
    runs_of: dict[str, set[str]] = {}
    for run_name, _, r in rows:
        runs_of.setdefault(r.unit, set()).add(run_name)
    clash = {u for u, rs in runs_of.items() if len(rs) > 1}
    final = [
        Rating(f"{run_name}: {r.unit}", r.item, r.keys, r.rating, r.order, r.variant)
        if r.unit in clash
        else r
        for run_name, _, r in rows
    ]
    targets: dict[str, list[str]] = {}
    if by != "model":  # a unit is one persona (of one model)
        for (run_name, persona, _), r in zip(rows, final, strict=True):
            t = targets_by_run.get(run_name, {}).get(persona)
            if t:
                targets[r.unit] = t
    lo, hi = next(iter(scale_set)) if scale_set else (1, 6)
    return OrdinalData(final, lo, hi, excluded=count_reasons(reasons), targets=targets)
