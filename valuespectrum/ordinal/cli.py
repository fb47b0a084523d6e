"""What ``vspec compare --ordinal`` runs and prints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from valuespectrum.errors import ConfigError
from valuespectrum.ordinal.data import By


def run_ordinal(
    run_dirs: Sequence[Path], out_dir: Path, *, by: str = "auto", baseline: str | None = None
) -> list[str]:
    """Fit and write the ordinal comparison; return the lines to print."""
    from valuespectrum.ordinal.analysis import ordinal_compare

    choices = get_args(By)
    if by not in choices:
        raise ConfigError(f"--ordinal-by {by!r}: use one of {', '.join(choices)}")
    res = ordinal_compare(run_dirs, out_dir, by=by, baseline=baseline)  # type: ignore[arg-type]
    s = res.summary
    excluded = ", ".join(f"{k} {v}" for k, v in s["excluded"].items()) or "none"
    lines = [f"ordinal: {s['n_ratings']} ratings from {len(s['units'])} units; left out: {excluded}"]
    for t in s["bayesian"]["target_contrasts"]:
        tag = "centred" if t["centred"] else "raw"
        lines.append(
            f"  {t['name']} ({tag}): {t['mean']:+.3f} [{t['low']:+.3f}, {t['high']:+.3f}], "
            f"P(<0) = {t['p_below_zero']:.3f}"
        )
    lines.append(f"ordinal: {out_dir / 'ordinal.json'}  {out_dir / 'ordinal.html'}")
    return lines
