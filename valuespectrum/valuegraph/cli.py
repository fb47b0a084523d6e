"""``vspec graph TABLE.csv|RUN_DIR``: a value graph and steering side effects, written as JSON + CSV + figure."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from valuespectrum.errors import ValueSpectrumError


def analyse(
    table_path: Path,
    *,
    alpha: float = 0.05,
    n_boot: int = 50,
    n_random: int = 100,
    seed: int = 0,
    values: list[str] | None = None,
) -> dict[str, Any]:
    """Everything ``vspec graph`` writes, as one dict."""
    from valuespectrum.valuegraph.effects import consistency, deltas, with_random_baseline
    from valuespectrum.valuegraph.graph import bootstrap_stability, pc_edges, transitive_reduction
    from valuespectrum.valuegraph.table import read_table

    t = read_table(table_path, values)
    raw = pc_edges(t.data, t.values, alpha)
    reduced = transitive_reduction(raw)
    stab = bootstrap_stability(t.data, t.values, alpha=alpha, n_boot=n_boot, seed=seed) if n_boot else {}
    out: dict[str, Any] = {
        "source": t.source,
        "alpha": alpha,
        "n_conditions": len(t.conditions),
        "values": t.values,
        "ignored_columns": t.ignored,
        "n_edges_pc": len(raw),
        "edges_pc": sorted(raw),
        "edges": sorted(reduced),
        "bootstrap": {f"{a}->{b}": s for (a, b), s in stab.items()},
        "n_boot": n_boot,
        "side_effects": [],
        "consistency": [],
    }
    if {"role", "method", "target"} <= set(t.meta):
        rows = deltas(t)
        out["side_effects"] = with_random_baseline(rows, reduced, t.values, n_random=n_random, seed=seed)
        out["consistency"] = consistency(rows, t.values, seed=seed)
    return out


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    fields = list(rows[0]) if rows else ["empty"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def write_outputs(result: dict[str, Any], out: Path) -> None:
    from valuespectrum.valuegraph.report import draw_graph, graph_section

    out.mkdir(parents=True, exist_ok=True)
    (out / "graph.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    boot = result["bootstrap"]
    _csv(
        out / "edges.csv",
        [{"source": a, "target": b, "bootstrap_share": boot.get(f"{a}->{b}")} for a, b in result["edges"]],
    )
    _csv(out / "side_effects.csv", result["side_effects"])
    _csv(out / "consistency.csv", result["consistency"])
    stab = {tuple(k.split("->", 1)): v for k, v in boot.items()}
    draw_graph(result["values"], {tuple(e) for e in result["edges"]}, stab, out / "graph.png")  # type: ignore[misc]
    page = "<!doctype html><meta charset='utf-8'><title>value graph</title>" + graph_section(result)
    (out / "graph.html").write_text(page, encoding="utf-8")


def graph(
    table: Annotated[
        Path, typer.Argument(help="A condition x value CSV (rows = conditions) or a run folder.")
    ],
    out: Annotated[Path | None, typer.Option(help="Output folder (default: TABLE's folder / graph).")] = None,
    alpha: Annotated[float, typer.Option(help="PC significance level (Fisher-z).")] = 0.05,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for edge stability (0 = none).")] = 50,
    n_random: Annotated[int, typer.Option(help="Random same-edge-count graphs as the baseline.")] = 100,
    seed: Annotated[
        int, typer.Option(help="Seed for bootstrap, random graphs and the train/test split.")
    ] = 0,
    values: Annotated[
        str | None, typer.Option(help="Comma-separated value columns (default: every numeric one).")
    ] = None,
) -> None:
    """PC value graph of a condition x value table; expected vs unexpected steering side effects.

    CSV columns: numeric ones are values; 'condition', 'role', 'method' (none = baseline),
    'target' and 'split' (train/test) are read when present; others are ignored.
    """
    try:
        result = analyse(
            table,
            alpha=alpha,
            n_boot=bootstrap,
            n_random=n_random,
            seed=seed,
            values=None if values is None else [v.strip() for v in values.split(",") if v.strip()],
        )
        folder = out or (table if table.is_dir() else table.parent) / "graph"
        write_outputs(result, folder)
    except ValueSpectrumError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"{len(result['edges'])} edges ({result['n_edges_pc']} before reduction) -> {folder}/graph.json"
    )
    for r in result["side_effects"]:
        typer.echo(f"  {r['method']:>8} {r['target']}: expected {r['expected']} unexpected {r['unexpected']}")
