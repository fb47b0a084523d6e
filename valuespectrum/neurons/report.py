"""The value-neuron report: an HTML page with PNG figures beside it, from a locate folder.

Reads what ``vspec steer neurons`` wrote: the neuron sets (``*.json`` + ``*.safetensors``) and
``locate.json`` of ``locate``; the effect files of ``edit --out`` (default ``FOLDER/edits/*.json``);
``context-ablation.json`` of ``ablation --out FOLDER`` when present. Sections: neurons per layer
(table and figure), held-out readout against random sets, overlap between the values' sets
(Jaccard matrix), each edit's effect on the target against the opposite set and random sets of
the same size and layer distribution (z, and the 95% t prediction interval of a further random set;
beyond random only outside it), and fluency and capability under each edit. Everything the page shows lies in its
folder; it fetches nothing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from valuespectrum.designs.html import page, pyplot, save_png, table
from valuespectrum.errors import ConfigError
from valuespectrum.neurons.locate import NeuronSet
from valuespectrum.tables import read_json_object


def neuron_sets(folder: Path) -> dict[str, NeuronSet]:
    """The neuron sets in ``folder`` keyed by contrast (statistics and summaries skipped)."""
    out: dict[str, NeuronSet] = {}
    for f in sorted(folder.glob("*.json")):
        try:
            kind = json.loads(f.read_text(encoding="utf-8")).get("kind")
        except (json.JSONDecodeError, AttributeError):
            continue
        if kind == "neuron_set" and f.with_suffix(".safetensors").is_file():
            s = NeuronSet.load(f)
            out[str(s.settings.get("contrast") or f.stem)] = s
    return out


def _edit_files(folder: Path, edits: list[Path] | None) -> list[tuple[Path, dict[str, Any]]]:
    files = edits if edits else sorted((folder / "edits").glob("*.json"))
    out = []
    for f in files:
        d = read_json_object(Path(f), "the effects JSON that 'vspec steer neurons edit --out' writes")
        if "effects" not in d or "mode" not in d:
            raise ConfigError(f"{f}: fields 'effects' and 'mode' missing; write it with 'edit --out'")
        out.append((Path(f), d))
    return out


def _bars(
    path: Path,
    labels: list[str],
    series: list[tuple[str, list[float], list[float] | None]],
    title: str,
    ylabel: str,
) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(labels) + 2), 4.0))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(labels))
    for n, (name, ys, err) in enumerate(series):
        ax.bar(x + (n - (len(series) - 1) / 2) * width, ys, width, yerr=err, label=name, capsize=3)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def _heatmap(path: Path, names: list[str], m: np.ndarray, title: str) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2.2 + 0.9 * len(names), 1.8 + 0.7 * len(names)))
    im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8, color="white")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax)
    return save_png(fig, path)


def _img(path: Path, alt: str) -> str:
    return f"<img src='{path.name}' alt='{alt}'>"


def _layers_section(sets: dict[str, NeuronSet], out: Path) -> str:
    names = sorted(sets)
    layers = sorted({i for s in sets.values() for i in s.per_layer()})
    rows: list[list[Any]] = [[i, *[sets[n].per_layer().get(i, 0) for n in names]] for i in layers]
    rows.append(["all", *[len(sets[n]) for n in names]])
    fig = _bars(
        out / "neurons-per-layer.png",
        [str(i) for i in layers],
        [(n, [float(sets[n].per_layer().get(i, 0)) for i in layers], None) for n in names],
        "Selected neurons per layer",
        "neurons",
    )
    return table(["layer", *names], rows, caption="selected neurons per layer") + _img(
        fig, "neurons per layer"
    )


def _overlap_section(sets: dict[str, NeuronSet], out: Path) -> str:
    names = sorted(sets)
    m = np.array([[sets[a].jaccard(sets[b]) for b in names] for a in names])
    fig = _heatmap(out / "jaccard.png", names, m, "Jaccard overlap of the neuron sets")
    rows = [[a, *[float(x) for x in m[i]]] for i, a in enumerate(names)]
    return table(["set", *names], rows, caption="Jaccard overlap |A∩B| / |A∪B|") + _img(fig, "Jaccard matrix")


def _readout_section(summary: dict[str, Any]) -> str:
    rows = []
    for name, s in sorted(summary.get("contrasts", {}).items()):
        rnd = [float(x) for x in s.get("random_readout_accuracy") or []]
        rows.append(
            [
                name,
                s.get("size"),
                s.get("readout_accuracy"),
                s.get("readout_n"),
                float(np.mean(rnd)) if rnd else None,
                min(rnd) if rnd else None,
                max(rnd) if rnd else None,
            ]
        )
    return table(
        ["contrast", "neurons", "held-out accuracy", "texts", "random mean", "random min", "random max"],
        rows,
        caption="1-D readout on held-out pairs against random sets of the same size and layer distribution",
    )


def _short(contrast: str) -> str:
    """``Self-Transcendence:Self-Enhancement`` -> ``ST:SE`` (figure labels)."""
    return ":".join(
        "".join(w[0].upper() for w in side.replace("-", " ").split()) for side in contrast.split(":")
    )


def _label(edit: dict[str, Any], gamma: float) -> str:
    return f"{_short(str(edit.get('contrast', '?')))} {edit['mode']} γ={gamma:g}"


def _interval(e: dict[str, Any]) -> tuple[float | None, float | None]:
    """The 95% prediction interval of one more random set's effect: t with n-1 degrees of
    freedom, since the sd comes from only the n random sets drawn (3 by default)."""
    rnd = e.get("random") or []
    if len(rnd) < 2:
        return None, None
    from scipy.stats import t as student_t

    n = len(rnd)
    half = float(student_t.ppf(0.975, n - 1)) * float(e["random_sd"]) * math.sqrt(1 + 1 / n)
    return float(e["random_mean"]) - half, float(e["random_mean"]) + half


def _verdict(target: float, lo: float | None, hi: float | None) -> str:
    """Beyond random only outside the interval the table prints, so the two never disagree."""
    if lo is None or hi is None:
        return "n/a"
    return "beyond random" if target < lo or target > hi else "within random"


def _effects_section(edits: list[tuple[Path, dict[str, Any]]], out: Path) -> str:
    rows, labels, target, opposite, rmean, rsd = [], [], [], [], [], []
    for _, d in edits:
        for e in d["effects"]:
            lo, hi = _interval(e)
            verdict = _verdict(float(e["target"]), lo, hi)
            rows.append(
                [
                    d.get("contrast"),
                    d["mode"],
                    e["gamma"],
                    d.get("n_pairs"),
                    e["target"],
                    e.get("opposite"),
                    e["random_mean"],
                    e["random_sd"],
                    len(e.get("random") or []),
                    lo,
                    hi,
                    e.get("z"),
                    verdict,
                ]
            )
            labels.append(_label(d, e["gamma"]))
            target.append(float(e["target"]))
            opposite.append(float("nan") if e.get("opposite") is None else float(e["opposite"]))
            rmean.append(float(e["random_mean"]))
            rsd.append(float(e["random_sd"]))
    fig = _bars(
        out / "edit-effects.png",
        labels,
        [
            ("value-neuron set", target, None),
            ("opposite set", opposite, None),
            ("random sets (mean ± sd)", rmean, rsd),
        ],
        "Held-out preference change under each edit",
        "preference change (nats/token)",
    )
    head = [
        "contrast",
        "mode",
        "γ",
        "pairs",
        "Δ target",
        "Δ opposite",
        "random Δ mean",
        "random Δ sd",
        "random sets",
        "random 95% low",
        "random 95% high",
        "z vs random",
        "outside the 95% range",
    ]
    return (
        "<p>Δ = mean pair preference for aspect A (mean response log-probability, A minus B) under the edit, "
        "minus the unedited model's, on held-out pairs. The 95% range is where a further random set's Δ "
        "would fall (a t prediction interval from the random sets, n-1 degrees of freedom); an edit is "
        "beyond random only outside it.</p>"
        + table(head, rows, caption="edit effects against the opposite set and random sets")
        + _img(fig, "edit effects")
    )


def _quality_section(edits: list[tuple[Path, dict[str, Any]]]) -> str:
    keys = ["perplexity", "capability", "mmlu"]
    rows = []
    for _, d in edits:
        q = d.get("quality") or []
        base: dict[str, Any] = next((r for r in q if r["condition"] == "baseline"), {})
        present = [k for k in keys if any(r.get(k) is not None for r in q)]
        groups: dict[tuple[str, Any], list[dict[str, Any]]] = {}
        for r in q:
            groups.setdefault((r["condition"], r.get("gamma")), []).append(r)
        for (cond, g), rs in groups.items():
            vals = {k: _mean([r.get(k) for r in rs]) for k in present}
            ppl, bppl = vals.get("perplexity"), base.get("perplexity")
            rows.append(
                [
                    d.get("contrast"),
                    d["mode"],
                    "–" if g is None else f"{g:g}",
                    cond if len(rs) == 1 else f"{cond} (mean of {len(rs)})",
                    ppl,
                    None if ppl is None or not bppl else ppl / bppl,
                    vals.get("capability"),
                    vals.get("mmlu"),
                ]
            )
    if not rows:
        return "<p>No fluency or capability was measured (run 'edit' without --no-quality).</p>"
    return table(
        [
            "contrast",
            "mode",
            "γ",
            "condition",
            "perplexity",
            "perplexity / baseline",
            "capability (20 items)",
            "MMLU-layout accuracy",
        ],
        rows,
        caption="fluency (perplexity of the held-out texts under the edit) and capability under each edit",
    )


def _mean(xs: list[Any]) -> float | None:
    vals = [float(x) for x in xs if x is not None]
    return float(np.mean(vals)) if vals else None


def _ablation_section(d: dict[str, Any]) -> str:
    rows = []
    for c in d.get("contrasts", []):
        for v in ("controlled", "non_controlled"):
            rnd = c["random"].get(v) or []
            rows.append(
                [
                    c["contrast"],
                    v.replace("_", "-"),
                    c["n_train_pairs"],
                    c["n_test_texts"],
                    c["accuracy"][v],
                    _mean(rnd),
                    c["jaccard"],
                ]
            )
    return (
        "<p>Neurons located on context-controlled training texts (both aspects in the same situation) and on "
        "non-controlled ones (each aspect in a different situation), same size, read out on the same held-out "
        "pairs.</p>"
        + table(
            [
                "contrast",
                "training texts",
                "training pairs",
                "held-out texts",
                "held-out accuracy",
                "random sets' accuracy",
                "Jaccard of the two sets",
            ],
            rows,
            caption="context-controlled versus non-controlled location",
        )
    )


def write_neuron_report(
    folder: str | Path, edits: list[Path] | None = None, out: str | Path | None = None
) -> Path:
    """Write ``report.html`` (and its PNGs) for the locate folder ``folder``; returns the page."""
    root = Path(folder)
    sets = neuron_sets(root)
    if not sets:
        raise ConfigError(
            f"{root}: no neuron sets (*.json + *.safetensors written by 'vspec steer neurons locate')"
        )
    dest = Path(out) if out is not None else root / "report"
    dest.mkdir(parents=True, exist_ok=True)
    any_set = next(iter(sets.values()))
    summary = (
        read_json_object(root / "locate.json", "locate.json") if (root / "locate.json").is_file() else {}
    )
    sections = [
        (
            "Summary",
            f"<p>model {any_set.model_id}, neuron template {any_set.neuron_template}, "
            f"{len(sets)} set(s): {', '.join(sorted(sets))}</p>",
        ),
        ("Neurons per layer", _layers_section(sets, dest)),
        ("Overlap between values", _overlap_section(sets, dest)),
    ]
    if summary:
        sections.append(("Held-out readout", _readout_section(summary)))
    found = _edit_files(root, edits)
    if found:
        sections.append(("Edit effects against controls", _effects_section(found, dest)))
        sections.append(("Fluency and capability under each edit", _quality_section(found)))
    ablation = root / "context-ablation.json"
    if ablation.is_file():
        sections.append(
            (
                "Context-controlled versus non-controlled",
                _ablation_section(read_json_object(ablation, "context-ablation.json")),
            )
        )
    return page("Value neurons", sections, dest / "report.html")
