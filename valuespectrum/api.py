"""The library front door: evaluate a model in a notebook as ``vspec run`` does in the shell.

``evaluate`` builds the same run spec a manifest gives and runs it through the same runner,
so a notebook result and a run folder agree record for record. It writes nothing unless
``log_dir`` is given (it works in a temporary folder and removes it). The caller owns the
backends it passes in: they are used as given and never closed, so one loaded model can
serve many evaluations (a probe run, a browse, steering conditions).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuespectrum.backends.base import Backend
from valuespectrum.errors import ConfigError
from valuespectrum.probes.schema import Probe, ProbeBank
from valuespectrum.runs.log import (
    GroupSummary,
    RunRecord,
    RunSummary,
    ScoreLine,
    latest_records,
    read_scores,
    read_summary,
)
from valuespectrum.scoring.profile import ValueProfile

#: evaluate() keywords that go into a nested section of the run spec
_NESTED = {
    "reverse_labels": "controls",
    "use_logprobs": "scoring",
    "n_boot": "scoring",
    "ci": "scoring",
    "weight_threshold": "scoring",
    "weight_sign": "scoring",
    "reducer": "scoring",
    "values": "probes",
    "limit_per_value": "probes",
}
_TOP = {
    "name",
    "seed",
    "prompt_style",
    "modalities",
    "generation",
    "batch_size",
    "cache",
    "max_failure_rate",
    "max_unparsed_rate",
    "personas_file",
    "wordings",
    "repeats",
}


@dataclass
class RunResult:
    """A scored run: the summary, and every request's record and score line."""

    summary: RunSummary
    records: list[RunRecord] = field(default_factory=list)
    scores: list[ScoreLine] = field(default_factory=list)
    folder: Path | None = None
    """Where the run was written (None when ``evaluate`` kept nothing)."""

    def group(
        self, *, persona: str = "none", model: str | None = None, modality: str | None = None
    ) -> GroupSummary:
        return self.summary.group(model=model, persona=persona, modality=modality)

    def profile(
        self, persona: str = "none", *, model: str | None = None, modality: str | None = None
    ) -> ValueProfile:
        """The value profile of one (model, persona, modality); ``model`` may be left out with one model."""
        return self.group(persona=persona, model=model, modality=modality).profile

    @property
    def n_failed(self) -> int:
        return self.summary.n_failed

    @property
    def n_unparsed(self) -> int:
        return self.summary.n_unparsed


def _spec_section(settings: Mapping[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key, value in settings.items():
        if key in _TOP:
            raw[key] = value
        elif key in _NESTED:
            raw.setdefault(_NESTED[key], {})[key] = value
        else:
            raise ConfigError(
                f"evaluate(): unknown setting {key!r}; settings: {', '.join(sorted(_TOP | set(_NESTED)))}"
            )
    return raw


def _probe_selection(
    probes: str | Sequence[str] | ProbeBank | Sequence[Probe],
) -> tuple[list[str], list[Probe]]:
    """(bank names, probes given as objects)."""
    if isinstance(probes, str):
        return [probes], []
    if isinstance(probes, ProbeBank):
        return [], list(probes.probes)
    items = list(probes)
    if all(isinstance(p, str) for p in items):
        return [str(p) for p in items], []
    if all(isinstance(p, Probe) for p in items):
        return [], [p for p in items if isinstance(p, Probe)]
    raise ConfigError("evaluate(probes=...): give a bank name, a list of bank names, a ProbeBank or probes")


def evaluate(
    backend_or_spec: Backend | str | Mapping[str, Backend | str],
    *,
    probes: str | Sequence[str] | ProbeBank | Sequence[Probe] = "portrait",
    personas: str | Sequence[str] = "none",
    log_dir: str | Path | None = None,
    fresh: bool = False,
    **settings: Any,
) -> RunResult:
    """Ask a model (or several: label -> backend or spec) the probes under the personas.

    ``settings`` are run-spec fields: ``reverse_labels``, ``n_boot``, ``use_logprobs``,
    ``values``, ``limit_per_value``, ``generation``, ``prompt_style``, ``wordings``,
    ``repeats``, ``reducer``, ``seed``, ``cache`` (default off), ``max_failure_rate`` ... With ``log_dir`` the run folder is kept there
    (and resumed when run again); without, nothing is written.
    """
    from valuespectrum.manifest import parse_manifest
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.folder import RunFolder
    from valuespectrum.runs.score import score_folder

    given: Mapping[str, Backend | str] = (
        backend_or_spec
        if isinstance(backend_or_spec, Mapping)
        else {_label(backend_or_spec): backend_or_spec}
    )
    prebuilt = {label: b for label, b in given.items() if not isinstance(b, str)}
    models = [
        {"spec": b if isinstance(b, str) else f"prebuilt:{label}", "label": label}
        for label, b in given.items()
    ]
    banks, objects = _probe_selection(probes)
    raw: dict[str, Any] = {"name": "evaluate", "cache": False, **_spec_section(settings)}
    raw["models"] = models
    raw["personas"] = [personas] if isinstance(personas, str) else list(personas)
    raw["probes"] = {**raw.get("probes", {}), "banks": banks}
    manifest = parse_manifest(raw, "evaluate()")
    if prebuilt and manifest.cache is not False:
        # a backend object is the caller's: the run does not wrap it behind its back
        raise ConfigError(
            "evaluate(cache=...) applies to models given as specs; to cache a backend you built, "
            "wrap it yourself: CachedBackend(backend, 'cache.sqlite') from valuespectrum.backends.cache"
        )
    with tempfile.TemporaryDirectory(prefix="vspec-") as tmp:
        out = Path(log_dir) if log_dir is not None else Path(tmp) / "run"
        outcome = execute_run(manifest, out=out, fresh=fresh, backends=prebuilt, probes=objects or None)
        summary = score_folder(outcome.folder)
        folder = RunFolder(out)
        result = RunResult(
            summary=summary,
            records=list(latest_records(folder.responses).values()),
            scores=list(read_scores(folder.scores)),
            folder=out if log_dir is not None else None,
        )
    return result


def _label(b: Backend | str) -> str:
    return b if isinstance(b, str) else b.model_id


def score(run_dir: str | Path) -> RunSummary:
    """Re-score a run folder from its stored responses (no model is called)."""
    from valuespectrum.runs.folder import RunFolder
    from valuespectrum.runs.score import score_folder

    return score_folder(_run_folder(run_dir, RunFolder))


def read_run(run_dir: str | Path) -> RunResult:
    """A scored run folder as typed results (``vspec score`` it first if it has no summary)."""
    from valuespectrum.runs.folder import RunFolder

    folder = _run_folder(run_dir, RunFolder)
    return RunResult(
        summary=read_summary(folder.summary),
        records=list(latest_records(folder.responses).values()),
        scores=list(read_scores(folder.scores)),
        folder=folder.root,
    )


def _run_folder(run_dir: str | Path, cls: Any) -> Any:
    folder = cls(Path(run_dir))
    if not folder.exists():
        raise ConfigError(f"{run_dir}: not a run folder (no header.json); give the folder `vspec run` wrote")
    return folder
