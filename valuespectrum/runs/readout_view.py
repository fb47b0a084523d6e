"""Plain-text views of the readout, bias and chance blocks of ``summary.json``.

Shared by the terminal, the report and the demo; they only read the summary (one number per
metric, computed once by ``runs.score``), never recompute it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from valuespectrum.scoring.steerability import measure_of


@dataclass(frozen=True)
class ReadoutRow:
    group: str
    readout: str
    measure: str
    values: dict[str, float | None]
    spread: float | None
    from_distribution: str
    """``parsed answers with an option distribution / parsed answers``."""


def group_name(g: Mapping[str, Any]) -> str:
    name = f"{g['model']} / {g['persona']}"
    return f"{name} / {g['modality']}" if g.get("modality") not in (None, "", "text") else name


def readout_rows(groups: Sequence[Mapping[str, Any]]) -> list[ReadoutRow]:
    """Per group, one row per readout with its values on that readout's measure."""
    rows = []
    for g in groups:
        for readout, prof in sorted((g.get("profiles") or {}).items()):
            measure = measure_of(prof)
            rows.append(
                ReadoutRow(
                    group=group_name(g),
                    readout=readout,
                    measure=measure,
                    values=dict(prof.get(measure) or {}),
                    spread=prof.get("spread"),
                    from_distribution=f"{g.get('n_distribution', 0)}/{g.get('n_parsed', 0)}",
                )
            )
    return rows


def _num(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def bias_figures(b: Mapping[str, Any]) -> str:
    firsts = ", ".join(f"{o} {x:.2f}" for o, x in (b.get("first_option_share") or {}).items())
    parts = [f"first-presented option {firsts}" if firsts else ""]
    if b.get("yes_rate") is not None:
        parts.append(f"yes-rate {b['yes_rate']:.2f}")
    parts.append(f"order agreement r {_num(b.get('order_agreement'))}")
    parts.append(f"position variance share {_num(b.get('position_variance_share'))}")
    return "; ".join(p for p in parts if p)


def bias_lines(groups: Sequence[Mapping[str, Any]], readout: str) -> list[str]:
    """``bias <group> (<readout>): <verdict> (<figures>)`` per group with bias figures."""
    out = []
    for g in groups:
        b = (g.get("bias") or {}).get(readout)
        if b:
            out.append(f"bias {group_name(g)} ({readout}): {b['message']} ({bias_figures(b)})")
    return out


def chance_lines(chance: Mapping[str, Any]) -> list[str]:
    """The verdict per (model, modality), then one line per persona with targets."""
    out = []
    for v in chance.get("verdicts") or []:
        where = v["model"] + (f" / {v['modality']}" if v.get("modality") not in (None, "", "text") else "")
        out.append(f"persona effects {where}: {v['message']}")
    for p in chance.get("personas") or []:
        if not p.get("targets") or p.get("p_value") is None:
            continue
        holm = [
            r["value"] for r in p.get("values") or [] if r.get("p_holm") is not None and r["p_holm"] < 0.05
        ]
        out.append(
            f"  {p['model']} / {p['persona']}: targets {', '.join(p['targets'])} at mean rank "
            f"{_num(p.get('mean_target_rank'))} (chance {_num(p.get('chance_rank'))}, p = {p['p_value']:.3g}); "
            f"values changed after Holm: {', '.join(holm) if holm else 'none'}"
        )
    return out


def finding_line(summary: Mapping[str, Any]) -> str:
    """One line saying what a run found: headline readout, the baseline's bias verdict, chance."""
    readout = str(summary.get("readout") or "argmax")
    groups = summary.get("groups") or []
    base = next((g for g in groups if g.get("persona") == "none"), groups[0] if groups else None)
    parts = [f"{summary.get('run')}, {readout} readout"]
    if base is not None:
        for r in ("argmax", "expected"):
            b = (base.get("bias") or {}).get(r)
            if b:
                parts.append(f"{r}: {b['message']}")
    verdicts = (summary.get("chance") or {}).get("verdicts") or []
    parts.extend(v["message"] for v in verdicts)
    if not verdicts:
        parts.append("no persona with target values to test against chance")
    return "found: " + "; ".join(parts)
