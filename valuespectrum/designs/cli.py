"""``vspec dilemmas run MANIFEST``, ``vspec decide MANIFEST`` and ``vspec couple run MANIFEST``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuespectrum.errors import ValueSpectrumError

if TYPE_CHECKING:
    from valuespectrum.designs.common import DesignOutcome

dilemmas_app = typer.Typer(help="Multi-step moral dilemmas (MMDs layout).", no_args_is_help=True)

ManifestArg = Annotated[Path, typer.Argument(help="Design manifest (YAML).")]
OutOpt = Annotated[Path | None, typer.Option(help="Output folder (default: output_dir/name).")]
FreshOpt = Annotated[bool, typer.Option(help="Discard what the output folder holds and start over.")]
ModelOpt = Annotated[
    str | None, typer.Option(help="Model spec replacing the manifest's (e.g. hf:./models/x).")
]


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _run(
    run: Callable[..., DesignOutcome],
    manifest: Path,
    out: Path | None,
    fresh: bool,
    model: str | None,
    lines: Callable[[dict[str, Any]], Iterable[str]],
    what: str,
) -> None:
    """Run a design manifest, print its summary ``lines`` and the files written; exit 2 on a bad
    manifest or model, 1 when more of its ``what`` were unread than the manifest allows."""
    try:
        res = run(manifest, out=out, fresh=fresh, model=model)
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    for line in lines(res.summary):
        typer.echo(line)
    _wrote_and_check(res, what)


def _wrote_and_check(res: DesignOutcome, what: str) -> None:
    """Name the files written; exit 1 when more of ``what`` were unread than allowed."""
    typer.echo(f"wrote {res.folder / 'summary.json'} and {res.folder / 'report.html'}")
    if res.too_many_unread:
        typer.secho(
            f"{res.n_unread} of {res.n_answers} {what} unparsed or failed "
            f"({res.unread_rate:.1%} > allowed {res.max_unparsed_rate:.1%})",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)


def _dilemma_lines(summary: dict[str, Any]) -> Iterator[str]:
    for ctx, s in summary["contexts"].items():
        pb = s["position_bias"]
        shares = ", ".join(f"{o}: {pb[o]['share_A']}" for o in pb if o != "order_consistent")
        yield f"context {ctx}: records {s['counts']}; share of A by label order {shares}"


def _decision_lines(summary: dict[str, Any]) -> Iterator[str]:
    for row in summary["similarity"]:
        yield (
            f"{row['assessor']:>8} {row['method']:<22} vs {row['reference']:<8} "
            f"similarity {row['similarity']:.4f}  first choice {row['first_choice']:.4f}  n {row['n']}"
        )


@dilemmas_app.command("run")
def dilemmas_run(
    manifest: ManifestArg, out: OutOpt = None, fresh: FreshOpt = False, model: ModelOpt = None
) -> None:
    """Run the dilemmas step by step in each context mode and label order; write records, summary, report."""
    from valuespectrum.designs.dilemmas.design import run_dilemma_manifest

    _run(run_dilemma_manifest, manifest, out, fresh, model, _dilemma_lines, "choices")


def decide(
    manifest: ManifestArg, out: OutOpt = None, fresh: FreshOpt = False, model: ModelOpt = None
) -> None:
    """Rank each scenario's actions by value assessors x MCDM methods (and a model); compare with people."""
    from valuespectrum.designs.decisions.design import run_decision_manifest

    _run(run_decision_manifest, manifest, out, fresh, model, _decision_lines, "model answers")


couple_app = typer.Typer(
    help="Answers toward a target value profile (COUPLE) and baselines.", no_args_is_help=True
)


@couple_app.command("run")
def couple_run(
    manifest: ManifestArg,
    out: OutOpt = None,
    fresh: FreshOpt = False,
    model: Annotated[
        str | None,
        typer.Option(help="Model spec replacing the generator (and the attributor it stands in for)."),
    ] = None,
    evaluator: Annotated[str | None, typer.Option(help="Model spec replacing the evaluator.")] = None,
) -> None:
    """Raw, role-prompt, value-prompt and counterfactual answers per objective and question; records, summary, report."""
    import warnings

    from valuespectrum.designs.couple.design import run_couple_manifest

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = run_couple_manifest(manifest, out=out, fresh=fresh, model=model, evaluator=evaluator)
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    for w in caught:
        typer.secho(f"warning: {w.message}", fg=typer.colors.YELLOW, err=True)
    for meth, s in res.summary["methods"].items():
        o = s["overall"]
        mae = "n/a" if o["mae"] is None else f"{o['mae']:.3f}"
        rho = "n/a" if o["spearman"] is None else f"{o['spearman']:.3f}"
        typer.echo(
            f"{meth:>12}: MAE {mae}  Spearman {rho}  n {o['n']}  "
            f"(Spearman undefined {o['n_spearman_none']}, unscored target values {o['n_unscored_dims']})"
        )
    c = res.summary.get("couple")
    if c:
        typer.echo(f"intervened in {c['n_intervened']} of {c['n']} pairs (tau {res.summary['tau']})")
    _wrote_and_check(res, "target scores")
