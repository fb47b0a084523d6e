"""What ``vspec compare --ordinal`` runs and prints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from valuespectrum.errors import ConfigError
from valuespectrum.ordinal.data import By


def run_ordinal(
    run_dirs: Sequence[Path],
    out_dir: Path,
    *,
    by: str = "auto",
    baseline: str | None = None,
    bayes: str = "laplace",
) -> list[str]:
    """Fit and write the ordinal comparison; return the lines to print."""
    from valuespectrum.ordinal.analysis import ordinal_compare

    choices = get_args(By)
    if by not in choices:
        raise ConfigError(f"--ordinal-by {by!r}: use one of {', '.join(choices)}")
    if bayes not in ("laplace", "mcmc"):
        raise ConfigError(f"--ordinal-bayes {bayes!r}: use laplace or mcmc")
    res = ordinal_compare(run_dirs, out_dir, by=by, baseline=baseline, bayes_method=bayes)  # type: ignore[arg-type]
    s = res.summary
    excluded = ", ".join(f"{k} {v}" for k, v in s["excluded"].items()) or "none"
    lines = [f"ordinal: {s['n_ratings']} ratings from {len(s['units'])} units; left out: {excluded}"]
    sampling = s["bayesian"].get("sampling")
    if sampling:
        lines.append(
            f"  posterior by HMC: {sampling['chains']} chains x {sampling['draws_per_chain']} draws, "
            f"max R-hat {sampling['max_rhat']:.3f}, min ESS {sampling['min_ess']:.0f}, "
            f"{sampling['divergences']} divergences"
        )
    for t in s["bayesian"]["target_contrasts"]:
        tag = "centred" if t["centred"] else "raw"
        lines.append(
            f"  {t['name']} ({tag}): {t['mean']:+.3f} [{t['low']:+.3f}, {t['high']:+.3f}], "
            f"P(<0) = {t['p_below_zero']:.3f}"
        )
    lines.append(f"ordinal: {out_dir / 'ordinal.json'}  {out_dir / 'ordinal.html'}")
    return lines
