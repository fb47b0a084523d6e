"""A roles x steering-conditions run design for value graphs (the published causal-graph design).

Roles come from small gender / job / MBTI lists written for this project (:func:`generate_roles`),
or from a user's role file in the published ``players*.json`` layout (:func:`load_players`: a
list, or a name-keyed object, of entries with ``mini_trait``). Each role is a persona
("(FYI, here is your trait. ...)"). Conditions per role:

- ``none``: the role alone (the baseline its steered rows are compared with);
- ``prompt_inclined`` / ``prompt_disinclined``: the role plus "You are inclined (disinclined) to
  the value of V, which means ..." (prompt steering);
- ``vector``: a steered model (a saved steering vector at a strength), asked as the role;
- ``sae``: the base model with SAE features edited (:class:`FeatureSteeredBackend`), asked as the role.

The run is an ordinary probe run over a value instrument (built-in banks or imported items);
:func:`table_from_run` turns its ``summary.csv`` into the condition x value table ``vspec graph`` reads;
:func:`run_design` does all of it with one loaded model.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from valuespectrum.errors import ConfigError
from valuespectrum.tables import read_json_document
from valuespectrum.values import Value

GENDERS = ("female", "male", "non-binary")
JOBS = (
    "teacher",
    "nurse",
    "software engineer",
    "farmer",
    "painter",
    "lawyer",
    "soldier",
    "chef",
    "accountant",
    "priest",
)
MBTI = tuple(a + b + c + d for a in "EI" for b in "SN" for c in "TF" for d in "JP")


@dataclass(frozen=True)
class Role:
    id: str
    trait: str


@dataclass(frozen=True)
class DesignCondition:
    model: str
    """The run's model label."""
    persona: str
    role: str
    method: str
    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def generate_roles(n: int, seed: int = 0) -> list[Role]:
    """``n`` distinct roles drawn from the gender x job x MBTI lists with ``seed``."""
    combos = [(g, j, m) for g in GENDERS for j in JOBS for m in MBTI]
    if not 0 < n <= len(combos):
        raise ConfigError(f"between 1 and {len(combos)} roles can be generated, asked for {n}")
    picked = random.Random(seed).sample(combos, n)
    return [Role(f"role{i:03d}", f"Gender: {g}; Job: {j}, MBTI: {m}") for i, (g, j, m) in enumerate(picked)]


def load_players(path: str | Path, limit: int | None = None) -> list[Role]:
    """Roles from a ``players*.json`` file (entries with ``mini_trait``; names kept as ids)."""
    p = Path(path)
    raw = read_json_document(p, "a role file: a JSON list or object of entries with 'mini_trait'")
    items = (
        list(raw.items())
        if isinstance(raw, dict)
        else list(enumerate(raw))
        if isinstance(raw, list)
        else None
    )
    if not items:
        raise ConfigError(f"{p}: expected a list (or a name-keyed object) of players with 'mini_trait'")
    out: list[Role] = []
    for key, entry in items:
        if not isinstance(entry, dict) or not str(entry.get("mini_trait") or "").strip():
            raise ConfigError(
                f"{p}: player {key!r} has no 'mini_trait' field (e.g. 'Gender: ...; Job: ..., MBTI: ...')"
            )
        name = str(entry.get("name") or key)
        out.append(
            Role(
                f"player-{len(out):03d}-{''.join(c for c in name if c.isalnum())[:24]}",
                str(entry["mini_trait"]).strip(),
            )
        )
    return out[:limit] if limit else out


def role_text(role: Role) -> str:
    return f"(FYI, here is your trait. {role.trait})"


def prompt_steering_text(value: Value, inclined: bool) -> str:
    word = "inclined" if inclined else "disinclined"
    return f"You are {word} to the value of {value.value}, which means: {value.definition}"


def build_design(
    roles: Sequence[Role],
    base_label: str,
    values: Sequence[Value],
    *,
    prompt: bool = True,
    vectors: Mapping[Value, str] | None = None,
    strength: float = 4.0,
    sae_features: Mapping[Value, Sequence[int]] | None = None,
    sae_coefficient: float = 100.0,
) -> list[DesignCondition]:
    """Every (role, condition) the run asks (see the module notes)."""
    out: list[DesignCondition] = []
    for r in roles:
        out.append(DesignCondition(base_label, r.id, r.id, "none"))
        for v in values if prompt else []:
            for inclined in (True, False):
                method = "prompt_inclined" if inclined else "prompt_disinclined"
                out.append(DesignCondition(base_label, f"{r.id}|{method}|{v.value}", r.id, method, v.value))
        for v, path in (vectors or {}).items():
            out.append(
                DesignCondition(
                    f"{base_label}+vector:{v.value}:{strength:g}",
                    r.id,
                    r.id,
                    "vector",
                    v.value,
                    {"vector": path, "strength": strength},
                )
            )
        for v, feats in (sae_features or {}).items():
            for f in feats:
                out.append(
                    DesignCondition(
                        f"{base_label}+sae:{v.value}:{f}",
                        r.id,
                        r.id,
                        "sae",
                        v.value,
                        {"feature": f, "coefficient": sae_coefficient},
                    )
                )
    return out


def personas_yaml(roles: Sequence[Role], design: Sequence[DesignCondition]) -> str:
    """The personas file of the design (roles, and roles with prompt steering)."""
    by_id = {r.id: r for r in roles}
    seen: dict[str, dict[str, Any]] = {}
    for c in design:
        if c.persona in seen:
            continue
        text = role_text(by_id[c.role])
        targets: list[str] = []
        if c.method.startswith("prompt_"):
            v = Value(c.target)
            text += " " + prompt_steering_text(v, c.method == "prompt_inclined")
            targets = [v.value] if c.method == "prompt_inclined" else []
        seen[c.persona] = {"id": c.persona, "kind": "custom", "description": text, "targets": targets}
    return yaml.safe_dump({"personas": list(seen.values())}, sort_keys=False, allow_unicode=True)


def manifest_dict(
    design: Sequence[DesignCondition],
    *,
    name: str,
    spec: str,
    banks: Sequence[str] = ("portrait",),
    limit_per_value: int | None = None,
    personas_file: str = "personas.yaml",
    seed: int = 0,
    model_options: Mapping[str, Any] | None = None,
    sae_path: str | None = None,
    sae_positions: str = "prompt",
    sae_span: str | None = None,
    readout: str = "argmax",
) -> dict[str, Any]:
    """A run manifest (as a dict for RunManifest / YAML): the base model plus one entry per steered model.

    With ``sae_path`` (the SAE's folder, as the manifest will read it) SAE conditions become
    ``sae:`` entries that name the SAE and the edit, so the stored manifest re-runs on its own;
    without it they are base-model entries that only :func:`design_factory` feature-steers.
    ``readout: expected`` scores the table from option probabilities (continuous where a small
    model's argmax answers only follow label position)."""
    models: dict[str, dict[str, Any]] = {}
    opts = dict(model_options or {})
    for c in design:
        m = models.get(c.model)
        if m is None:
            if c.method == "vector":
                o = {"vector": c.detail["vector"], "strength": c.detail["strength"], "model_options": opts}
                m = {"spec": f"steered:{spec}", "label": c.model, "options": o, "personas": []}
            elif c.method == "sae" and sae_path is not None:
                edit = {"feature": c.detail["feature"], "mode": "add", "value": c.detail["coefficient"]}
                o = {"sae": sae_path, "edits": [edit], "positions": sae_positions, "value": c.target}
                if sae_span is not None:
                    o["span"] = sae_span
                m = {
                    "spec": f"sae:{spec}",
                    "label": c.model,
                    "options": {**o, "model_options": opts},
                    "personas": [],
                }
            elif c.method == "sae":  # the base spec; design_factory feature-steers it
                m = {"spec": spec, "label": c.model, "options": opts, "personas": []}
            else:
                m = {"spec": spec, "label": c.model, "options": opts}
            models[c.model] = m
        if "personas" in m and c.persona not in m["personas"]:
            m["personas"].append(c.persona)
    return {
        "name": name,
        "seed": seed,
        "models": list(models.values()),
        "probes": {"banks": list(banks), **({"limit_per_value": limit_per_value} if limit_per_value else {})},
        "personas": list(dict.fromkeys(c.persona for c in design)),
        "personas_file": personas_file,
        "controls": {"reverse_labels": True},
        **({"scoring": {"readout": readout}} if readout != "argmax" else {}),
    }


def design_factory(
    base: Any, design: Sequence[DesignCondition], sae: Any = None, *, span: str | None = None
) -> Callable[..., Any]:
    """A run backend factory lending one loaded ``base`` to every condition (SAE ones feature-steered)."""
    from valuespectrum.backends.steered import Borrowed, SteeredBackend
    from valuespectrum.steering.vectors import SteeringVector

    by_model = {c.model: c for c in design}
    made: dict[str, Any] = {}

    def make(_spec: str, _options: dict[str, object], label: str | None) -> Any:
        c = by_model.get(label or "")
        if c is None:
            raise ConfigError(f"model {label!r} is not a condition of this design")
        if c.model in made:
            return made[c.model]
        if c.method == "vector":
            b: Any = SteeredBackend(base, SteeringVector.load(c.detail["vector"]), c.detail["strength"])
        elif c.method == "sae":
            from valuespectrum.sae.backend import FeatureSteeredBackend
            from valuespectrum.sae.steer import FeatureEdit

            if sae is None:
                raise ConfigError("the design has SAE conditions: pass the SAE to design_factory")
            b = FeatureSteeredBackend(
                base,
                sae,
                [FeatureEdit(c.detail["feature"], "add", c.detail["coefficient"])],
                span=span,
                positions="prompt",
                value=c.target,
            )
        else:
            b = Borrowed(base)
        made[c.model] = b
        return b

    return make


def table_from_run(run_dir: str | Path, design: Sequence[DesignCondition], out_csv: str | Path) -> Path:
    """The run's scores as a condition x value CSV with role / method / target columns."""
    src = Path(run_dir) / "summary.csv"
    if not src.is_file():
        raise ConfigError(f"{run_dir}: no summary.csv; score the run first (vspec score)")
    with open(src, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("modality", "text") in ("text", "")]
    scores: dict[tuple[str, str], dict[str, str]] = {}
    values: list[str] = []
    for r in rows:
        scores.setdefault((r["model"], r["persona"]), {})[r["value"]] = r["score"]
        if r["value"] not in values:
            values.append(r["value"])
    out = Path(out_csv)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["condition", "role", "method", "target", *values])
        for c in design:
            got = scores.get((c.model, c.persona))
            if got is None or any(got.get(v) in (None, "") for v in values):
                continue
            w.writerow([f"{c.model}|{c.persona}", c.role, c.method, c.target, *[got[v] for v in values]])
    return out


def run_design(
    roles: Sequence[Role],
    design: Sequence[DesignCondition],
    base: Any,
    folder: str | Path,
    *,
    name: str,
    spec: str,
    sae: Any = None,
    limit_per_value: int | None = None,
    readout: str = "argmax",
) -> Path:
    """Run ``design`` in ``folder`` with one loaded ``base`` model: the personas file, the probe run
    (in ``folder/run``), its scores, and the condition x value table; the table's path."""
    from valuespectrum.manifest import RunManifest
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.folder import RunFolder
    from valuespectrum.runs.score import score_run

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "personas.yaml").write_text(personas_yaml(roles, design), encoding="utf-8")
    manifest = RunManifest.model_validate(
        manifest_dict(design, name=name, spec=spec, limit_per_value=limit_per_value, readout=readout)
    )
    run = folder / "run"
    execute_run(manifest, base=folder, out=run, backend_factory=design_factory(base, design, sae))
    score_run(RunFolder(run))
    return table_from_run(run, design, folder / "table.csv")
