"""Terminal output for runs: a progress bar with rates and a summary table at the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from valuespectrum.runs.wording_terminal import print_wordings
from valuespectrum.value_systems import SCHWARTZ10, short_label
from valuespectrum.values import CIRCUMPLEX

console = Console(stderr=True)


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """Yield a callback ``(label, done, total)`` that drives one bar per label."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as prog:
        tasks: dict[str, Any] = {}
        # Models run one after another: each label's clock starts when the previous one's
        # last update came (the first batch finishes before the first update).
        started: dict[str, float] = {}
        last = [time.perf_counter()]

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = prog.add_task(label, total=total, rate="")
                started[label] = last[0]
            task_id = tasks[label]
            prog.update(task_id, completed=done)
            last[0] = time.perf_counter()
            if done >= total:  # the run's mean rate and wall time, not a short-window estimate
                wall = last[0] - started[label]
                prog.update(task_id, rate=f"{done / wall:.2f} req/s mean, {wall:.1f} s" if wall > 0 else "")
                return
            speed = prog.tasks[task_id].speed
            prog.update(task_id, rate=f"{speed:.1f} req/s" if speed else "")

        yield update


def _fmt(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _summary_console() -> Console:
    """A wide console when output goes to a file or pipe (rich would assume 80 columns)."""
    out = Console()
    return out if out.is_terminal else Console(width=220)


def _group_name(g: dict[str, Any], modalities: int) -> str:
    name = f"{g['model']} / {g['persona']}"
    return f"{name} / {g.get('modality', '')}" if modalities > 1 else name


def print_summary(summary: dict[str, Any]) -> None:
    out = _summary_console()
    groups = summary["groups"]
    title = (
        f"run {summary['run']}: value profiles, {summary.get('readout', 'argmax')} readout "
        f"({_measure_note(groups)}; pooled over label orders)"
    )
    n_mod = len({g.get("modality", "") for g in groups})
    dims = summary_dims(summary)
    if summary.get("value_system", SCHWARTZ10) != SCHWARTZ10:
        title += f"; value system {summary['value_system']}"
    wide_needed = 40 + 9 * (len(dims) + 5)
    if out.width < wide_needed and len(groups) <= 6:
        # narrow terminal: one column per group, one row per value, so nothing is cut off
        table = Table(title=title)
        table.add_column("value")
        for g in groups:
            table.add_column(_group_name(g, n_mod), justify="right")
        rows: list[tuple[str, list[str]]] = []
        for v in dims:
            rows.append((v, [_fmt(_scores(g).get(v)) for g in groups]))
        rows.append(("spread", [_fmt(g["profile"].get("spread")) for g in groups]))
        rows.append(("parsed", [str(g["n_parsed"]) for g in groups]))
        rows.append(("unparsed", [str(g["n_unparsed"]) for g in groups]))
        rows.append(("failed", [str(g["n_failed"]) for g in groups]))
        rows.append(("order r", [_fmt((g.get("order_agreement") or {}).get("rho")) for g in groups]))
        for label, cells in rows:
            table.add_row(label, *cells)
        out.print(table)
        _print_below_table(out, summary, len(dims))
        return
    table = Table(title=title)
    table.add_column("model")
    table.add_column("modality")
    table.add_column("persona")
    for v in dims:
        table.add_column(short_label(v), justify="right")
    table.add_column("spread", justify="right")
    table.add_column("parsed", justify="right")
    table.add_column("unparsed", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("order r", justify="right")
    for g in groups:
        scores = _scores(g)
        agree = g.get("order_agreement") or {}
        table.add_row(
            g["model"],
            g.get("modality", ""),
            g["persona"],
            *[_fmt(scores.get(v)) for v in dims],
            _fmt(g["profile"].get("spread")),
            str(g["n_parsed"]),
            str(g["n_unparsed"]),
            str(g["n_failed"]),
            _fmt(agree.get("rho")),
        )
    out.print(table)
    _print_below_table(out, summary, len(dims))


def _print_below_table(out: Console, summary: dict[str, Any], n_dims: int) -> None:
    """What follows the profile table in either layout: steerability, wordings, readouts, totals."""
    _print_steerability(out, summary.get("steerability") or {}, n_dims)
    print_wordings(out, summary.get("wordings"))
    print_readout_blocks(out, summary)
    _print_totals(out, summary)
    _print_not_applicable(out, summary)


def _scores(g: dict[str, Any]) -> dict[str, Any]:
    prof = g["profile"]
    return dict(prof.get(g.get("measure") or "scores") or prof["scores"])


def _measure_note(groups: list[dict[str, Any]]) -> str:
    names = {"like_rate": "like-rate for yes/no items", "centred": "centred scores", "scores": "mean scores"}
    used = sorted({str(g.get("measure") or "scores") for g in groups}) or ["scores"]
    return ", ".join(names.get(m, m) for m in used)


def _print_totals(out: Console, summary: dict[str, Any]) -> None:
    bounded = summary.get("n_bounded") or 0
    topk = summary.get("n_topk") or 0
    out.print(
        f"records {summary['n_records']}, unparsed {summary['n_unparsed']} ({summary['unparsed_rate']:.1%}), "
        f"failed {summary['n_failed']} ({summary['failure_rate']:.1%}), "
        f"records with bounded option scores {bounded} (partly upper bounds from a server's top_logprobs)"
    )
    if readings := summary.get("n_option_readings") or 0:
        approx = readings - (summary.get("n_exact") or 0)
        out.print(
            f"{approx} of {readings} option readings bounded/approximated "
            f"({approx - topk} bounded by a server's top-k, {topk} first-token top-k; the rest exact)"
        )


def _print_steerability(out: Console, steer: dict[str, Any], n_values: int = 10) -> None:
    rows = steer.get("overview") or []
    if not rows:
        return
    table = Table(
        title=f"persona steerability (target values' rank among the {n_values} changes vs no persona)"
    )
    for col in ("model", "modality", "personas", "mean target rank", "chance", "target moved most", "chance"):
        table.add_column(col, justify="left" if col in ("model", "modality") else "right")
    for r in rows:
        table.add_row(
            r["model"],
            r["modality"],
            str(r["n_personas"]),
            _fmt(r["mean_target_rank"]),
            _fmt(r["chance_mean_target_rank"]),
            f"{r['share_target_moved_most']:.0%}",
            f"{r['chance_share_single_target']:.0%}" if r.get("chance_share_single_target") else "-",
        )
    out.print(table)


def print_readout_blocks(out: Console, summary: dict[str, Any]) -> None:
    """Both readouts side by side, the bias verdicts and the persona effects against chance."""
    from valuespectrum.runs.readout_view import bias_lines, chance_lines, readout_rows

    groups = summary["groups"]
    rows = readout_rows(groups)
    if rows:
        table = Table(
            title=f"argmax and expected readouts side by side (headline: {summary.get('readout', 'argmax')})"
        )
        for col in (
            "group",
            "readout",
            "measure",
            *[short_label(v) for v in summary_dims(summary)],
            "spread",
            "from distribution",
        ):
            table.add_column(col, justify="left" if col in ("group", "readout", "measure") else "right")
        for r in rows:
            table.add_row(
                r.group,
                r.readout,
                r.measure,
                *[_fmt(r.values.get(v), 3) for v in summary_dims(summary)],
                _fmt(r.spread, 3),
                r.from_distribution,
            )
        out.print(table)
    for line in bias_lines(groups, str(summary.get("readout") or "argmax")):
        out.print(line)
    for line in chance_lines(summary.get("chance") or {}):
        out.print(line)


def summary_dims(summary: dict[str, Any]) -> list[str]:
    """The value columns of a summary: its profiles' dimensions (Schwartz's ten in 0.1 folders)."""
    for g in summary.get("groups") or []:
        scores = (g.get("profile") or {}).get("scores") or {}
        if scores:
            return [str(k) for k in scores]
    return [v.value for v in CIRCUMPLEX]


def _print_not_applicable(out: Console, summary: dict[str, Any]) -> None:
    for line in summary.get("not_applicable") or []:
        out.print(line)


def print_outcome(outcome: Any, summary: dict[str, Any]) -> None:
    print_summary(summary)
    _summary_console().print(
        f"run folder: {outcome.folder.root.resolve()}  (new requests {outcome.n_new}, from cache {outcome.n_cached}, "
        f"already done {outcome.skipped_existing}, failed before and re-asked {outcome.n_retried})"
    )
