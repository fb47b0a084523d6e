"""Persona effects tested against chance, from the steerability block and the item scores.

- **Target ranks**: per persona with target values, the exact permutation test of the mean
  rank of its targets among its value changes (``scoring.reliability.target_rank_test``);
  per (model, modality) the same test pooled over its personas with targets.
- **Per-value effects**: per persona and value, the paired differences over the items
  answered both under the persona and with no persona (each item's mean over label orders,
  on the run's measure); a two-sided one-sample t-test and a t confidence interval of their
  mean; Holm and Benjamini-Hochberg adjusted p-values over the persona's values.
- **Verdict** per (model, modality): "distinguishable from chance" when the pooled rank test
  or some target value's Holm-adjusted p is below ``CHANCE_ALPHA`` (0.05); otherwise "no
  persona effect distinguishable from chance".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from valuespectrum.personas import NO_PERSONA
from valuespectrum.runs.readout_log import (
    CHANCE_ALPHA,
    ChanceSummary,
    ChanceVerdict,
    PersonaChanceTest,
    ValueEffectTest,
)
from valuespectrum.scoring.reliability import benjamini_hochberg, holm, target_rank_test
from valuespectrum.value_systems import Dim, as_dim, dim_name, dims_in

GroupKey = tuple[str, str, str]
"""(model, persona, modality)"""
ItemTable = Mapping[Dim, Mapping[str, float]]
"""Per value, probe id -> the item's score on the run's measure (order-averaged)."""


def paired_test(
    persona: Mapping[str, float], baseline: Mapping[str, float], ci: float = 0.95
) -> tuple[int, float | None, float | None, float | None]:
    """(n pairs, CI low, CI high, two-sided p) of the mean paired difference."""
    from scipy.stats import t as student_t

    diffs = [persona[p] - baseline[p] for p in persona if p in baseline]
    n = len(diffs)
    if n < 2:
        return n, None, None, None
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if sd <= 1e-12:
        # no variance: every item moved alike; the t-test is undefined (p = 1 when nothing moved)
        return n, mean, mean, 1.0 if abs(mean) <= 1e-12 else None
    se = sd / math.sqrt(n)
    q = float(student_t.ppf(0.5 + ci / 2, n - 1))
    p = float(2 * student_t.sf(abs(mean / se), n - 1))
    return n, mean - q * se, mean + q * se, min(1.0, p)


def _value_tests(
    changes: Mapping[str, float], persona: ItemTable, baseline: ItemTable, ci: float
) -> list[ValueEffectTest]:
    rows: list[ValueEffectTest] = []
    for v in dims_in(changes):
        if dim_name(v) not in changes:
            continue
        n, lo, hi, p = paired_test(persona.get(v, {}), baseline.get(v, {}), ci)
        rows.append(
            ValueEffectTest(
                value=dim_name(v), change=changes[dim_name(v)], n_items=n, ci_low=lo, ci_high=hi, p_value=p
            )
        )
    tested = [r for r in rows if r.p_value is not None]
    if tested:
        ps = [float(r.p_value) for r in tested]  # type: ignore[arg-type]
        for r, ph, pb in zip(tested, holm(ps), benjamini_hochberg(ps), strict=True):
            r.p_holm, r.p_bh = ph, pb
    return rows


def chance_summary(
    effects: Sequence[Mapping[str, object]],
    tables: Mapping[GroupKey, ItemTable],
    *,
    ci: float = 0.95,
    alpha: float = CHANCE_ALPHA,
) -> ChanceSummary:
    """The chance block of ``summary.json`` from the steerability persona lines."""
    personas: list[PersonaChanceTest] = []
    pooled: dict[tuple[str, str], list[tuple[dict[Dim, float], list[Dim]]]] = {}
    for e in effects:
        model, modality, persona = str(e["model"]), str(e.get("modality", "")), str(e["persona"])
        changes = {str(k): float(x) for k, x in dict(e.get("changes") or {}).items()}  # type: ignore[call-overload]
        targets = [as_dim(t) for t in list(e.get("targets") or [])]  # type: ignore[call-overload]
        test = PersonaChanceTest(
            model=model,
            modality=modality,
            persona=persona,
            measure=str(e.get("measure") or "scores"),
            targets=[dim_name(t) for t in targets],
            values=_value_tests(
                changes,
                tables.get((model, persona, modality), {}),
                tables.get((model, NO_PERSONA, modality), {}),
                ci,
            ),
        )
        by_value: dict[Dim, float] = {as_dim(k): x for k, x in changes.items()}
        if targets:
            rank = target_rank_test([(by_value, targets)])
            if rank is not None:
                test.mean_target_rank, test.chance_rank = rank.mean_target_rank, rank.chance
                test.p_value, test.exact = rank.p_value, rank.exact
                pooled.setdefault((model, modality), []).append((by_value, targets))
        personas.append(test)
    verdicts = []
    for (model, modality), cells in sorted(pooled.items()):
        rank = target_rank_test(cells)
        assert rank is not None  # every cell had a ranked target
        mine = [p for p in personas if (p.model, p.modality) == (model, modality)]
        n_target = sum(
            1
            for p in mine
            for r in p.values
            if r.value in p.targets and r.p_holm is not None and r.p_holm < alpha
        )
        yes = rank.p_value < alpha or n_target > 0
        verdicts.append(
            ChanceVerdict(
                model=model,
                modality=modality,
                n_personas=rank.n_personas,
                mean_target_rank=rank.mean_target_rank,
                chance_rank=rank.chance,
                p_value=rank.p_value,
                exact=rank.exact,
                n_target_effects=n_target,
                distinguishable=yes,
                message=_message(yes, rank.mean_target_rank, rank.chance, rank.p_value, n_target, alpha),
            )
        )
    return ChanceSummary(alpha=alpha, personas=personas, verdicts=verdicts)


def _message(yes: bool, mean_rank: float, chance: float, p: float, n_target: int, alpha: float) -> str:
    figures = (
        f"targets' mean rank {mean_rank:.2f} (chance {chance:.2f}, permutation p = {p:.3g}); "
        f"{n_target} target change(s) significant after Holm at {alpha:g}"
    )
    if yes:
        return f"persona effect distinguishable from chance: {figures}"
    return f"no persona effect distinguishable from chance: {figures}"
