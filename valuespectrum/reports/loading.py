"""Read what a report needs from a run folder: the summary groups, personas and item scores.

Typed views over ``summary.json``, ``personas.json`` and ``scores.jsonl``; a missing or
malformed file raises :class:`~valuespectrum.errors.ConfigError` naming the file and field.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from valuespectrum.errors import ConfigError
from valuespectrum.runs.execute import modality_of
from valuespectrum.runs.folder import RunFolder
from valuespectrum.values import CIRCUMPLEX, HigherOrder, Value


@dataclass(frozen=True)
class Group:
    """One (model, persona) row of ``summary.json``."""

    model: str
    persona: str
    n_records: int
    n_parsed: int
    n_unparsed: int
    n_failed: int
    n_cached: int
    parse_rate: float | None
    scale: str
    scores: dict[Value, float | None]
    ci_low: dict[Value, float | None]
    ci_high: dict[Value, float | None]
    n_items: dict[Value, int]
    centred: dict[Value, float | None]
    like_rate: dict[Value, float | None]
    higher_order: dict[HigherOrder, float | None]
    spread: float | None
    mrat: float | None
    order_rho: float | None
    """Spearman's rho between the profiles from forward and reversed label orders."""
    order_p: float | None

    @property
    def label(self) -> str:
        return f"{self.model} / {self.persona}"

    @property
    def unparsed_rate(self) -> float | None:
        return self.n_unparsed / self.n_records if self.n_records else None

    @property
    def failure_rate(self) -> float | None:
        return self.n_failed / self.n_records if self.n_records else None


@dataclass
class RunData:
    """A scored run folder as the report reads it."""

    root: Path
    name: str
    groups: list[Group]
    targets: dict[str, list[Value]] = field(default_factory=dict)
    """Persona id -> the values it is expected to favour (empty when it names none)."""


def _values(raw: Any, where: str, cast: type = float) -> dict[Value, Any]:
    if raw is None:
        return {v: None for v in CIRCUMPLEX}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an object keyed by value name, got {type(raw).__name__}")
    out: dict[Value, Any] = {}
    for v in CIRCUMPLEX:
        x = raw.get(v.value)
        out[v] = None if x is None else cast(x)
    return out


def _group(g: dict[str, Any], where: str) -> Group:
    try:
        prof = g["profile"]
        agreement = g.get("order_agreement") or {}
        return Group(
            model=str(g["model"]),
            persona=str(g["persona"]),
            n_records=int(g["n_records"]),
            n_parsed=int(g["n_parsed"]),
            n_unparsed=int(g["n_unparsed"]),
            n_failed=int(g["n_failed"]),
            n_cached=int(g.get("n_cached", 0)),
            parse_rate=None if g.get("parse_rate") is None else float(g["parse_rate"]),
            scale=str(prof.get("scale", "none")),
            scores=_values(prof["scores"], f"{where}.profile.scores"),
            ci_low=_values(prof.get("ci_low"), f"{where}.profile.ci_low"),
            ci_high=_values(prof.get("ci_high"), f"{where}.profile.ci_high"),
            n_items={
                v: int(n or 0)
                for v, n in _values(prof.get("n_items"), f"{where}.profile.n_items", int).items()
            },
            centred=_values(prof.get("centred"), f"{where}.profile.centred"),
            like_rate=_values(prof.get("like_rate"), f"{where}.profile.like_rate"),
            higher_order={
                h: (None if (x := (prof.get("higher_order") or {}).get(h.value)) is None else float(x))
                for h in HigherOrder
            },
            spread=None if prof.get("spread") is None else float(prof["spread"]),
            mrat=None if prof.get("mrat") is None else float(prof["mrat"]),
            order_rho=None if agreement.get("rho") is None else float(agreement["rho"]),
            order_p=None if agreement.get("p_value") is None else float(agreement["p_value"]),
        )
    except KeyError as exc:
        raise ConfigError(
            f"{where}: missing field {exc.args[0]!r}; re-score the run with `vspec score`"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: malformed group ({exc}); re-score the run with `vspec score`") from exc


def load_run(run_dir: Path) -> RunData:
    """Read a scored run folder (``summary.json`` required, ``personas.json`` optional)."""
    folder = RunFolder(Path(run_dir))
    if not folder.summary.is_file():
        raise ConfigError(
            f"{folder.summary}: not found; is {folder.root} a scored run folder? (run `vspec run` first)"
        )
    try:
        summary = json.loads(folder.summary.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{folder.summary}: not valid JSON ({exc})") from exc
    raw_groups = summary.get("groups")
    if not isinstance(raw_groups, list):
        raise ConfigError(f"{folder.summary}: field 'groups' must be a list; re-score the run")
    groups = [_group(g, f"{folder.summary}: groups[{i}]") for i, g in enumerate(raw_groups)]
    if len({str(g.get("modality", "")) for g in raw_groups}) > 1:
        # vision and text answers of one model are different groups: name them apart
        groups = [
            replace(g, model=model_label(g.model, str(raw.get("modality", ""))))
            for g, raw in zip(groups, raw_groups, strict=True)
        ]
    targets: dict[str, list[Value]] = {}
    if folder.personas.is_file():
        from valuespectrum.values import parse_value

        for p in json.loads(folder.personas.read_text(encoding="utf-8")):
            try:
                targets[str(p["id"])] = [parse_value(t) for t in p.get("targets") or []]
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"{folder.personas}: bad persona entry {p!r} ({exc})") from exc
    return RunData(
        root=folder.root, name=str(summary.get("run") or folder.root.name), groups=groups, targets=targets
    )


#: (model, persona) -> probe id -> value -> (sum of item scores, number of items)
ItemTable = dict[tuple[str, str], dict[str, dict[Value, tuple[float, int]]]]


def load_item_scores(run_dir: Path) -> ItemTable:
    """Item scores from ``scores.jsonl``, summed per (group, probe, value).

    Several records of one probe (label orders, variants) add up under the same probe, so a
    bootstrap that resamples probes keeps them together, as the profile CIs do.
    """
    path = RunFolder(Path(run_dir)).scores
    if not path.is_file():
        raise ConfigError(f"{path}: not found; score the run first (`vspec score {Path(run_dir)}`)")
    acc: dict[tuple[str, str, str], dict[str, dict[Value, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    )
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key = (str(rec["model"]), str(rec["persona"]), modality_of(str(rec.get("variant") or "")))
                for item in rec.get("items") or []:
                    cell = acc[key][str(item["probe_id"])][Value(item["value"])]
                    cell[0] += float(item["score"])
                    cell[1] += 1
            except (json.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
                raise ConfigError(
                    f"{path}: line {n} is not a valid score record ({exc}); re-score the run"
                ) from exc
    multi = len({m for _, _, m in acc}) > 1
    return {
        (model_label(model, modality) if multi else model, persona): {
            p: {v: (c[0], int(c[1])) for v, c in vals.items()} for p, vals in probes.items()
        }
        for (model, persona, modality), probes in acc.items()
    }


def model_label(model: str, modality: str) -> str:
    """How a report names one model's answers in one modality, when a run has several."""
    return f"{model} [{modality}]" if modality else model
