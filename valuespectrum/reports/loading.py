"""Read what a report needs from a run folder: the summary groups, personas and item scores.

Views over the typed results (:mod:`valuespectrum.runs.log`) of ``summary.json``,
``personas.json`` and ``scores.jsonl``; a missing or malformed file raises :class:`~valuespectrum.errors.ConfigError` naming the file and field.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from valuespectrum.errors import ConfigError
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.log import GroupSummary, RunSummary, read_summary
from valuespectrum.runs.plan import modality_of
from valuespectrum.value_systems import SCHWARTZ10, Dim, as_dim, dims_in
from valuespectrum.values import CIRCUMPLEX, HigherOrder


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
    scores: dict[Dim, float | None]
    ci_low: dict[Dim, float | None]
    ci_high: dict[Dim, float | None]
    n_items: dict[Dim, int]
    centred: dict[Dim, float | None]
    like_rate: dict[Dim, float | None]
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
    targets: dict[str, list[Dim]] = field(default_factory=dict)
    """Persona id -> the values it is expected to favour (empty when it names none)."""
    summary: RunSummary | None = None
    """The typed ``summary.json``: what the run-level analyses computed (never recomputed here)."""

    @property
    def value_system(self) -> str:
        return self.summary.value_system if self.summary is not None else SCHWARTZ10

    @property
    def is_schwartz(self) -> bool:
        return self.value_system == SCHWARTZ10

    @property
    def dims(self) -> list[Dim]:
        """The value columns: the profiles' dimensions (Schwartz's ten in circumplex order)."""
        return list(self.groups[0].scores) if self.groups else list(CIRCUMPLEX)


def _group(g: GroupSummary) -> Group:
    prof = g.profile
    dims = dims_in(prof.scores)
    agreement = g.order_agreement
    counts = {"model", "persona", "n_records", "n_parsed", "n_unparsed", "n_failed", "n_cached", "parse_rate"}
    return Group(
        **g.model_dump(include=counts),
        scale=prof.scale,
        scores={v: prof.scores.get(v) for v in dims},
        ci_low={v: prof.ci_low.get(v) for v in dims},
        ci_high={v: prof.ci_high.get(v) for v in dims},
        n_items={v: int(prof.n_items.get(v) or 0) for v in dims},
        centred={v: prof.centred.get(v) for v in dims},
        like_rate={v: prof.like_rate.get(v) for v in dims},
        higher_order={h: prof.higher_order.get(h) for h in HigherOrder} if prof.higher_order else {},
        spread=prof.spread,
        mrat=prof.mrat,
        order_rho=agreement.rho if agreement else None,
        order_p=agreement.p_value if agreement else None,
    )


def load_run(run_dir: Path) -> RunData:
    """Read a scored run folder (``summary.json`` required, ``personas.json`` optional)."""
    folder = RunFolder(Path(run_dir))
    if not folder.summary.is_file():
        raise ConfigError(
            f"{folder.summary}: not found; is {folder.root} a scored run folder? (run `vspec run` first)"
        )
    summary = read_summary(folder.summary)
    groups = [_group(g) for g in summary.groups]
    if len({g.modality for g in summary.groups}) > 1:
        # vision and text answers of one model are different groups: name them apart
        groups = [
            replace(g, model=model_label(g.model, raw.modality))
            for g, raw in zip(groups, summary.groups, strict=True)
        ]
    targets: dict[str, list[Dim]] = {}
    if folder.personas.is_file():
        from valuespectrum.personas import Persona

        for p in json.loads(folder.personas.read_text(encoding="utf-8")):
            try:
                targets[str(p["id"])] = list(Persona.model_validate(p).targets)
            except (KeyError, ValueError, TypeError) as exc:
                raise ConfigError(f"{folder.personas}: bad persona entry {p!r} ({exc})") from exc
    return RunData(
        root=folder.root,
        name=summary.run or folder.root.name,
        groups=groups,
        targets=targets,
        summary=summary,
    )


#: (model, persona) -> probe id -> value -> (sum of item scores, number of items)
ItemTable = dict[tuple[str, str], dict[str, dict[Dim, tuple[float, int]]]]


def load_item_scores(run_dir: Path, *, readout: str = "argmax") -> ItemTable:
    """Item scores from ``scores.jsonl``, summed per (group, probe, value).

    Several records of one probe (label orders, variants) add up under the same probe, so a
    bootstrap that resamples probes keeps them together, as the profile CIs do. ``readout``
    ``expected`` reads the expected readout's item scores (the run's headline, see
    ``summary.readout``), so differences agree with the profiles they compare.
    """
    field = "expected_items" if readout == "expected" else "items"
    path = RunFolder(Path(run_dir)).scores
    if not path.is_file():
        raise ConfigError(f"{path}: not found; score the run first (`vspec score {Path(run_dir)}`)")
    acc: dict[tuple[str, str, str], dict[str, dict[Dim, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    )
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key = (str(rec["model"]), str(rec["persona"]), modality_of(str(rec.get("variant") or "")))
                for item in rec.get(field) or []:
                    cell = acc[key][str(item["probe_id"])][as_dim(item["value"])]
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
