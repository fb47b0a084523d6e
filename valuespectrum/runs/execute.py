"""Execute a text/VQA probe run from a manifest into a run folder, resumably.

Every (model, persona, probe, variant, wording, label order, repeat) becomes one request (see
:mod:`valuespectrum.runs.plan`); requests already answered in responses.jsonl are skipped
and failed ones re-asked, so a killed run picks up where it stopped and ends with the same
answers as an uninterrupted one. Failed requests are recorded (never dropped) and counted;
the caller decides on the exit code from the failure rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.backends.base import Backend
from valuespectrum.config import repeated
from valuespectrum.errors import BackendError, ConfigError
from valuespectrum.manifest import RunManifest
from valuespectrum.personas import Persona, check_targets, load_personas_file, resolve_personas
from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import Probe, ProbeBank
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.jsonl import JsonlWriter
from valuespectrum.runs.log import latest_records
from valuespectrum.runs.plan import Trial, batches, modality_of, plan_trials
from valuespectrum.runs.records import RunRecord
from valuespectrum.runs.setup import BackendFactory, ModelSource, under
from valuespectrum.types import GenerateConfig, ModelRequest
from valuespectrum.value_systems import ValueSystem, dim_name, system_of_probes

__all__ = ["RunOutcome", "execute_run", "modality_of", "needs_text", "resolve_probes", "resolve_run_personas"]


MAX_ITEM_FILE_BYTES = 200_000_000
"""Largest item file a manifest may name (200 MB)."""


def resolve_probes(manifest: RunManifest, base: Path) -> list[Probe]:
    """Collect the probes a manifest selects (banks, item files, a probe set), filtered."""
    from valuespectrum.probes.bank import load_bank
    from valuespectrum.probes.importers import ColumnMapping, load_items
    from valuespectrum.probes.probe_set import load_probe_set

    banks: list[ProbeBank] = [load_bank(name) for name in manifest.probes.banks]
    for f in manifest.probes.files:
        mapping = ColumnMapping.coerce(f.mapping, source=f"manifest probes.files ({f.path})")
        path = under(base, f.path)
        if path.is_file() and path.stat().st_size > MAX_ITEM_FILE_BYTES:
            raise ConfigError(
                f"{path}: {path.stat().st_size} bytes is larger than the {MAX_ITEM_FILE_BYTES}-byte limit "
                "for an item file; split it into several files"
            )
        try:
            banks.append(load_items(path, mapping, name=f.name))
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: byte {exc.start} is not valid UTF-8; save the item file as UTF-8"
            ) from exc
    if manifest.probes.probe_set:
        banks.append(load_probe_set(under(base, manifest.probes.probe_set)))
    if manifest.probes.from_index:
        from ingestion.config import IndexConfig
        from ingestion.probe_sets import ProbeSetSpec, build_probe_set

        src = manifest.probes.from_index
        cfg = IndexConfig(
            corpus_root=under(base, src.data_dir),
            data_dir=under(base, src.data_dir),
            collection_prefix=src.collection,
            progress=False,
        )
        spec = ProbeSetSpec(
            per_value=src.per_value, frames=src.frames, answer_format=src.answer_format, seed=manifest.seed
        )
        banks.append(build_probe_set(cfg, spec))
    probes: list[Probe] = []
    seen: set[str] = set()
    for bank in banks:
        for p in bank.probes:
            pid = p.id if p.id not in seen else f"{bank.name}:{p.id}"
            if pid in seen:
                raise ConfigError(f"probe id {p.id!r} appears twice in bank {bank.name!r}")
            seen.add(pid)
            probes.append(p if pid == p.id else p.model_copy(update={"id": pid}))
    return select_probes(manifest, probes)


def select_probes(manifest: RunManifest, probes: list[Probe]) -> list[Probe]:
    """Apply the manifest's value filter and per-value limit; refuse an empty selection."""
    dups = repeated(p.id for p in probes)
    if dups:
        raise ConfigError(f"probe ids must be unique; repeated: {dups[:5]}")
    wanted = manifest.probes.values
    if wanted is not None:
        system = system_of_probes(probes)
        wanted = [system.resolve(dim_name(v), where="manifest probes.values") for v in wanted]
        probes = [p for p in probes if {dim_name(v) for v in p.values()} & set(wanted)]
    if manifest.probes.limit_per_value:
        count: dict[str, int] = {}
        kept = []
        for p in probes:
            vals = [dim_name(v) for v in p.values()]
            if any(count.get(v, 0) < manifest.probes.limit_per_value for v in vals):
                kept.append(p)
                for v in vals:
                    count[v] = count.get(v, 0) + 1
        probes = kept
    if not probes:
        raise ConfigError("the manifest selects no probes (check probes.banks, probes.values)")
    return probes


def resolve_run_personas(
    manifest: RunManifest, base: Path, system: ValueSystem | None = None
) -> list[Persona | None]:
    """The manifest's personas; with ``system``, their targets checked against it (an error
    names the file that defines the persona and its ``targets`` field)."""
    path = under(base, manifest.personas_file) if manifest.personas_file else None
    extra = load_personas_file(path) if path is not None else None
    personas = resolve_personas(manifest.personas, extra)
    if system is None:
        return personas
    return [
        check_targets(
            [p], system, source=str(path) if extra and p and p.id in extra else "built-in personas.yaml"
        )[0]
        for p in personas
    ]


@dataclass
class RunOutcome:
    folder: RunFolder
    n_requests: int = 0
    n_new: int = 0
    n_failed: int = 0
    n_cached: int = 0
    skipped_existing: int = 0
    n_retried: int = 0
    """Requests re-asked because their earlier record was a failure."""
    failures_by_model: dict[str, int] = field(default_factory=dict)

    @property
    def failure_rate(self) -> float:
        return self.n_failed / self.n_requests if self.n_requests else 0.0


def needs_text(probe: Probe, manifest: RunManifest, *, scores_options: bool) -> bool:
    """Whether a request with options for ``probe`` also generates free text.

    Text is skipped (``GenerateConfig.generate_text=False``, much faster on local models)
    only when answers are read from option log-likelihoods and the prompt asks for nothing
    but the answer. Yes/no items that ask for a reason (items with media, ``ask_reason``)
    or carry their own instruction keep it, so the run records what the model said.
    ``generation.generate_text: false`` in the manifest skips text for every such request.
    """
    if probe.format.kind == "yes_no" and manifest.prompt_style != "plain":
        return True  # JSON styles send no options: the answer is the text
    if not manifest.generation.generate_text:
        return False
    if not (manifest.scoring.use_logprobs and scores_options):
        return True
    if probe.format.kind != "yes_no":
        return False  # Likert and choice prompts ask for the number or letter only
    return bool(probe.media or probe.metadata.get("ask_reason") or probe.metadata.get("instruction"))


def probes_text(probes: Sequence[Probe]) -> str:
    return "".join(p.model_dump_json() + "\n" for p in probes)


def _start_folder(
    manifest: RunManifest,
    folder: RunFolder,
    probes: list[Probe],
    personas: list[Persona | None],
    *,
    fresh: bool,
) -> None:
    """Reopen the folder (same prompts) or start it over; called once the run can start."""
    text = probes_text(probes)
    if not fresh and folder.check_reopen(manifest, personas):
        folder.check_probes(text)
        folder.update_manifest(manifest)  # edits that change no answer take effect in scoring
        return
    for p in folder.results():
        p.unlink(missing_ok=True)
    folder.start(manifest, personas, write_more=lambda: folder.probes.write_text(text, encoding="utf-8"))


def _config(
    t: Trial, manifest: RunManifest, score_only: GenerateConfig, scores_options: bool
) -> GenerateConfig:
    """The generation settings of one request; a repeat carries its own seed (recorded)."""
    config = (
        manifest.generation if needs_text(t.probe, manifest, scores_options=scores_options) else score_only
    )
    return config if t.seed is None else config.model_copy(update={"seed": t.seed})


def _requests(
    backend: Backend, batch: list[Trial], manifest: RunManifest, score_only: GenerateConfig
) -> list[ModelRequest]:
    scores_options = backend.supports_option_logprobs
    return [
        render_probe(
            t.probe,
            t.persona,
            reverse_labels=(t.order == "rev"),
            config=_config(t, manifest, score_only, scores_options),
            request_id=t.record_id,
            text_only=(t.variant == "text"),
            style=manifest.prompt_style,
            wording=t.wording,
        ).request
        for t in batch
    ]


def _preflight(
    backend: Backend, trials: list[Trial], manifest: RunManifest, score_only: GenerateConfig
) -> None:
    """Backends that can tell in advance which requests they cannot answer (a replay file) check
    every request of the run at once, so the user sees all the gaps in one error."""
    b: object = backend
    while b is not None:
        check = getattr(b, "check_requests", None)
        if callable(check):
            check(_requests(backend, trials, manifest, score_only))
            return
        b = getattr(b, "inner", None)


def _ask(
    backend: Backend, batch: list[Trial], manifest: RunManifest, score_only: GenerateConfig
) -> list[RunRecord]:
    """Send one batch to a backend; the records to append, one per trial."""
    requests = _requests(backend, batch, manifest, score_only)
    responses = backend.generate(requests)
    if len(responses) != len(requests):
        raise BackendError(
            f"backend {backend.model_id} returned {len(responses)} responses for {len(requests)} requests"
        )
    return [
        RunRecord(
            record_id=t.record_id,
            model=t.model.name,
            model_id=backend.model_id,
            persona=t.persona_id,
            probe_id=t.probe.id,
            order=t.order,
            variant=t.variant,
            wording=t.wording_id,
            repeat=t.repeat,
            seed=t.seed,
            messages=req.messages,
            options=req.options,
            request_key=req.key(backend.model_id, backend.revision),
            response=resp.model_copy(update={"request_id": t.record_id}),
        )
        for t, req, resp in zip(batch, requests, responses, strict=True)
    ]


def execute_run(
    manifest: RunManifest,
    *,
    base: Path = Path("."),
    out: Path | None = None,
    fresh: bool = False,
    backend_factory: BackendFactory | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    backends: Mapping[str, Backend] | None = None,
    probes: Sequence[Probe] | None = None,
) -> RunOutcome:
    """Ask every model every probe under every persona (both label orders if set).

    Resuming asks exactly the requests with no record or a failed one. Backends come from
    ``backends`` (label -> backend; the caller's, never closed), else ``backend_factory``
    (the caller's; what it returns is the caller's to close), else the manifest's specs
    (built and closed here). ``probes`` replaces the manifest's probe sources (the value
    filter still applies). Nothing is written until the first backend is up.
    """
    source = ModelSource.for_run(
        manifest.cache, base, factory=backend_factory, prebuilt=backends, models=manifest.models
    )
    if manifest.probes.describe is not None:
        source.check(manifest.probes.describe.spec, manifest.probes.describe.options, None)
    probes = select_probes(manifest, list(probes)) if probes is not None else resolve_probes(manifest, base)
    personas = resolve_run_personas(manifest, base, system_of_probes(probes))
    folder = RunFolder(out or under(base, manifest.output_dir) / manifest.name)
    # raise before hours of describing when the folder holds answers to other prompts
    resuming = not fresh and folder.check_reopen(manifest, [])
    if manifest.probes.describe is not None:
        from valuespectrum.runs.describe import describe_probes

        probes = describe_probes(
            probes,
            manifest.probes.describe,
            source,
            batch_size=manifest.batch_size,
            reuse_from=folder.probes if resuming else None,
        )
    if resuming:
        folder.check_probes(probes_text(probes))
        folder.check_reopen(manifest, personas)
    trials = plan_trials(manifest, probes, personas)
    outcome = RunOutcome(folder=folder, n_requests=len(trials))
    done = latest_records(folder.responses) if resuming else {}
    todo = [t for t in trials if t.record_id not in done or done[t.record_id].response.error]
    outcome.n_retried = sum(1 for t in todo if t.record_id in done)
    outcome.skipped_existing = len(trials) - len(todo)
    score_only = manifest.generation.model_copy(update={"generate_text": False})
    asking = [e for e in manifest.models if any(t.model is e for t in todo)]
    if not asking:
        with folder.locked():
            _start_folder(manifest, folder, probes, personas, fresh=fresh)
    with ExitStack() as run, ExitStack() as model:
        for i, entry in enumerate(asking):
            backend = model.enter_context(source.open(entry.spec, entry.options, entry.label))
            mine = [t for t in todo if t.model is entry]
            _preflight(backend, mine, manifest, score_only)
            if i == 0:  # the first model is up: the run can start
                run.enter_context(folder.locked())
                _start_folder(manifest, folder, probes, personas, fresh=fresh)
                writer = run.enter_context(JsonlWriter(folder.responses))
            for done_n, batch in enumerate(batches(mine, manifest.batch_size), 1):
                records = _ask(backend, batch, manifest, score_only)
                writer.write_many(r.model_dump(mode="json") for r in records)
                outcome.n_new += len(records)
                outcome.n_cached += sum(1 for r in records if r.response.cached)
                if progress:
                    progress(entry.name, min(done_n * manifest.batch_size, len(mine)), len(mine))
            model.close()  # free this model before the next one loads
    for rec in latest_records(folder.responses).values():
        if rec.response.error:
            outcome.n_failed += 1
            outcome.failures_by_model[rec.model] = outcome.failures_by_model.get(rec.model, 0) + 1
    return outcome
