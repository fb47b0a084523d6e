"""Report for a dilemma run: staircase plot, win-rate heat map, tables; HTML + PNG + JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from valuespectrum.designs.html import page, pyplot, save_png, table


def staircase_png(ctx_summary: dict[str, Any], values: list[str], out: Path, title: str) -> Path:
    plt = pyplot()
    steps = sorted(int(s) for s in ctx_summary["per_step"])
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for v in values:
        ys = [ctx_summary["per_step"][str(s)].get(v, {}).get("pref") for s in steps]
        if any(y is not None for y in ys):
            ax.plot(steps, [float("nan") if y is None else y for y in ys], marker="o", label=v)
    ax.set_xlabel("step")
    ax.set_ylabel("preference (chosen / offered)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(steps)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    return save_png(fig, out)


def heatmap_png(win_rate: dict[str, Any], out: Path, title: str) -> Path:
    import numpy as np

    plt = pyplot()
    vals = win_rate["values"]
    m = np.array([[np.nan if x is None else x for x in row] for row in win_rate["rate"]], dtype=float)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    im = ax.imshow(m, vmin=0, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(vals)), vals, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(vals)), vals, fontsize=8)
    for i in range(len(vals)):
        for j in range(len(vals)):
            n = win_rate["count"][i][j]
            if n:
                ax.text(j, i, f"{m[i, j]:.2f}\n{n}", ha="center", va="center", fontsize=6)
    ax.set_xlabel("against")
    ax.set_ylabel("value chosen")
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
    return save_png(fig, out)


def write_report(summary: dict[str, Any], folder: Path, title: str) -> Path:
    values = summary["values"]
    sections = []
    for ctx, s in summary["contexts"].items():
        stair = staircase_png(s, values, folder / f"staircase-{ctx}.png", f"{title}: context {ctx}")
        heat = heatmap_png(s["win_rate"], folder / f"winrate-{ctx}.png", f"win rate, context {ctx}")
        steps = sorted(s["per_step"], key=int)
        pref_rows = [
            [
                v,
                *[s["per_step"][k].get(v, {}).get("pref") for k in steps],
                s["overall"].get(v, {}).get("pref"),
            ]
            for v in values
        ]
        pb = s["position_bias"]
        pb_rows = [[o, pb[o]["share_A"], pb[o]["n"]] for o in pb if o != "order_consistent"]
        pb_rows.append(
            ["same choice in both orders", pb["order_consistent"]["share"], pb["order_consistent"]["n"]]
        )
        bt = s["bradley_terry"]
        bt_rows = [[v, bt[v]["strength"], bt[v]["ci"][0], bt[v]["ci"][1]] for v in values]
        body = (
            f"<p>records: {s['counts']}</p>"
            + table(
                ["value", *[f"step {k}" for k in steps], "overall"], pref_rows, caption="preference per step"
            )
            + table(
                ["label order", "share of A", "n"], pb_rows, caption="position bias (beside the preferences)"
            )
            + f"<img src='{stair.name}' alt='staircase plot'><img src='{heat.name}' alt='win-rate heat map'>"
            + table(
                ["value", "strength", "ci low", "ci high"],
                bt_rows,
                caption="Bradley-Terry (95% CI over dilemmas)",
            )
            + table(
                ["steps", "Kendall tau", "values"],
                [
                    [f"{t['steps'][0]}→{t['steps'][1]}", t["tau"], t["n_values"]]
                    for t in s["kendall_tau_consecutive"]
                ],
                caption="ranking shift between steps",
            )
            + f"<p>intransitive triads: {s['intransitive_triads'] or 'none'}</p>"
        )
        sections.append((f"context: {ctx}", body))
    if summary["context_agreement"]:
        sections.append(
            (
                "agreement between context modes",
                table(
                    ["modes", "agreement", "n"],
                    [
                        [" vs ".join(a["contexts"]), a["agreement"], a["n"]]
                        for a in summary["context_agreement"]
                    ],
                ),
            )
        )
    return page(title, sections, folder / "report.html")
