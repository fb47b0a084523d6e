"""Report tables as CSV and Parquet (pandas + pyarrow), one row per observation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.reports.loading import RunData
from valuespectrum.value_systems import dim_name
from valuespectrum.values import HigherOrder


def value_rows(run: RunData) -> list[dict[str, Any]]:
    """One row per (model, persona, value) with the profile's numbers from summary.json."""
    rows = []
    for g in run.groups:
        for v in run.dims:
            rows.append(
                {
                    "model": g.model,
                    "persona": g.persona,
                    "value": dim_name(v),
                    "scale": g.scale,
                    "score": g.scores.get(v),
                    "ci_low": g.ci_low.get(v),
                    "ci_high": g.ci_high.get(v),
                    "n_items": g.n_items.get(v),
                    "centred": g.centred.get(v),
                    "like_rate": g.like_rate.get(v),
                }
            )
    return rows


def higher_order_rows(run: RunData) -> list[dict[str, Any]]:
    if not run.is_schwartz:
        return []
    return [
        {"model": g.model, "persona": g.persona, "higher_order": h.value, "score": g.higher_order[h]}
        for g in run.groups
        for h in HigherOrder
    ]


def quality_rows(run: RunData) -> list[dict[str, Any]]:
    return [
        {
            "model": g.model,
            "persona": g.persona,
            "n_records": g.n_records,
            "n_parsed": g.n_parsed,
            "n_unparsed": g.n_unparsed,
            "n_failed": g.n_failed,
            "n_cached": g.n_cached,
            "parse_rate": g.parse_rate,
            "unparsed_rate": g.unparsed_rate,
            "failure_rate": g.failure_rate,
            "order_rho": g.order_rho,
            "order_p": g.order_p,
        }
        for g in run.groups
    ]


def write_table(
    rows: Sequence[dict[str, Any]],
    out_dir: Path,
    stem: str,
    *,
    parquet: bool = True,
    columns: Sequence[str] | None = None,
) -> list[Path]:
    """Write ``STEM.csv`` (and ``STEM.parquet``); returns the paths written.

    ``columns`` fixes the header, so an empty table still says what it would hold.
    """
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(list(rows), columns=list(columns) if columns is not None else None)
    paths = [out_dir / f"{stem}.csv"]
    df.to_csv(paths[0], index=False)
    if parquet:
        paths.append(out_dir / f"{stem}.parquet")
        df.to_parquet(paths[1], index=False)
    return paths
