"""Execute a text/VQA probe run from a manifest into a run folder, resumably.

Every (model, persona, probe, label order) becomes one request; requests already in
responses.jsonl are skipped, so a killed run picks up where it stopped and ends with the
same records as an uninterrupted one. Failed requests are recorded (never dropped) and
counted; the caller decides on the exit code from the failure rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.errors import ConfigError, MediaChangedError
from valuespectrum.manifest import RunManifest
from valuespectrum.personas import NO_PERSONA, Persona, load_personas_file, resolve_personas
from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import Probe, ProbeBank
from valuespectrum.runs.folder import RunFolder
from valuespectrum.runs.jsonl import JsonlWriter, read_jsonl
from valuespectrum.runs.records import Order, RunRecord, record_id
from valuespectrum.runs.setup import (
    BackendFactory,
    backend_factory,
    check_manifest,
    under,
    write_run_files,
)


def resolve_probes(manifest: RunManifest, base: Path) -> list[Probe]:
    """Collect the probes a manifest selects (banks, item files, a probe set), filtered."""
    from valuespectrum.probes.bank import load_bank
    from valuespectrum.probes.importers import ColumnMapping, load_items
    from valuespectrum.probes.probe_set import load_probe_set

    banks: list[ProbeBank] = [load_bank(name) for name in manifest.probes.banks]
    for f in manifest.probes.files:
        mapping = ColumnMapping.coerce(f.mapping, source=f"manifest probes.files ({f.path})")
        banks.append(load_items(under(base, f.path), mapping, name=f.name))
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
    wanted = manifest.probes.values
    if wanted is not None:
        probes = [p for p in probes if set(p.values()) & set(wanted)]
    if manifest.probes.limit_per_value:
        count: dict[str, int] = {}
        kept = []
        for p in probes:
            vals = [v.value for v in p.values()]
            if any(count.get(v, 0) < manifest.probes.limit_per_value for v in vals):
                kept.append(p)
                for v in vals:
                    count[v] = count.get(v, 0) + 1
        probes = kept
    if not probes:
        raise ConfigError("the manifest selects no probes (check probes.banks, probes.values)")
    return probes


def resolve_run_personas(manifest: RunManifest, base: Path) -> list[Persona | None]:
    extra = load_personas_file(under(base, manifest.personas_file)) if manifest.personas_file else None
    return resolve_personas(manifest.personas, extra)


def default_backend_factory(manifest: RunManifest, base: Path = Path(".")) -> BackendFactory:
    return backend_factory(manifest.cache, base)


@dataclass
class RunOutcome:
    folder: RunFolder
    n_requests: int = 0
    n_new: int = 0
    n_failed: int = 0
    n_cached: int = 0
    skipped_existing: int = 0
    failures_by_model: dict[str, int] = field(default_factory=dict)

    @property
    def failure_rate(self) -> float:
        return self.n_failed / self.n_requests if self.n_requests else 0.0


Job = tuple[str, Order, Probe, Persona | None, str]


def modality_of(variant: str) -> str:
    """Records of text probes have no variant; media probes record vision or text."""
    return variant or "text"


def _batches(items: Sequence[Job], size: int) -> Iterator[list[Job]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


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


def _probes_text(probes: list[Probe]) -> str:
    return "".join(p.model_dump_json() + "\n" for p in probes)


def check_same_manifest(manifest: RunManifest, folder: RunFolder, *, fresh: bool) -> str:
    """The manifest's digest; raises when the folder already holds a run of another manifest."""
    return check_manifest(manifest, folder.root, folder.header, fresh=fresh)


def prepare_folder(
    manifest: RunManifest,
    folder: RunFolder,
    probes: list[Probe],
    personas: list[Persona | None],
    *,
    fresh: bool,
) -> None:
    """Create or reopen a run folder; refuse to mix two different manifests in one folder."""
    digest = check_same_manifest(manifest, folder, fresh=fresh)
    if folder.exists() and not fresh:
        if folder.probes.read_text(encoding="utf-8") != _probes_text(probes):
            raise MediaChangedError(
                f"{folder.probes}: the probes (or the media they show) changed since this run began; "
                "pass --fresh to start over with the new items"
            )
        return
    if fresh and folder.root.exists():
        for p in (folder.responses, folder.scores, folder.summary, folder.summary_csv, folder.header):
            p.unlink(missing_ok=True)
    folder.root.mkdir(parents=True, exist_ok=True)
    folder.probes.write_text(_probes_text(probes), encoding="utf-8")
    write_run_files(
        manifest,
        personas,
        manifest_path=folder.manifest,
        personas_path=folder.personas,
        header_path=folder.header,
        digest=digest,
        seed=manifest.seed,
    )


def execute_run(
    manifest: RunManifest,
    *,
    base: Path = Path("."),
    out: Path | None = None,
    fresh: bool = False,
    backend_factory: BackendFactory | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunOutcome:
    """Ask every model every probe under every persona (both label orders if set)."""
    probes = resolve_probes(manifest, base)
    personas = resolve_run_personas(manifest, base)
    folder = RunFolder(out or under(base, manifest.output_dir) / manifest.name)
    factory = backend_factory or default_backend_factory(manifest, base)
    if manifest.probes.describe is not None:
        from valuespectrum.runs.describe import describe_probes

        check_same_manifest(manifest, folder, fresh=fresh)  # before hours of describing, not after

        probes = describe_probes(
            probes,
            manifest.probes.describe,
            factory,
            batch_size=manifest.batch_size,
            reuse_from=None if fresh else folder.probes,
        )
    prepare_folder(manifest, folder, probes, personas, fresh=fresh)
    done = {r["record_id"] for r in read_jsonl(folder.responses)}
    orders: list[Order] = ["fwd", "rev"] if manifest.controls.reverse_labels else ["fwd"]
    outcome = RunOutcome(folder=folder)
    with JsonlWriter(folder.responses) as writer:
        for entry in manifest.models:
            todo: list[Job] = []
            for persona in personas:
                pid = persona.id if persona else NO_PERSONA
                if entry.personas is not None and pid not in entry.personas:
                    continue
                for probe in probes:
                    variants = list(entry.modalities or manifest.modalities) if probe.media else [""]
                    for variant in variants:
                        for order in orders:
                            rid = record_id(entry.name, pid, probe.id, order, variant)
                            outcome.n_requests += 1
                            if rid in done:
                                outcome.skipped_existing += 1
                            else:
                                todo.append((rid, order, probe, persona, variant))
            if not todo:
                continue
            backend = factory(entry.spec, dict(entry.options), entry.label)
            score_only = manifest.generation.model_copy(update={"generate_text": False})
            try:
                scores_options = backend.supports_option_logprobs
                finished = 0
                for batch in _batches(todo, manifest.batch_size):
                    rendered = [
                        render_probe(
                            p,
                            persona,
                            reverse_labels=(o == "rev"),
                            config=manifest.generation
                            if needs_text(p, manifest, scores_options=scores_options)
                            else score_only,
                            request_id=rid,
                            text_only=(v == "text"),
                            style=manifest.prompt_style,
                        )
                        for rid, o, p, persona, v in batch
                    ]
                    requests = [r.request for r in rendered]
                    responses = backend.generate(requests)
                    if len(responses) != len(requests):
                        raise RuntimeError(
                            f"backend {entry.spec} returned {len(responses)} responses for {len(requests)} requests"
                        )
                    records = []
                    for (rid, order, probe, persona, variant), req, resp in zip(
                        batch, requests, responses, strict=True
                    ):
                        records.append(
                            RunRecord(
                                record_id=rid,
                                model=entry.name,
                                model_id=backend.model_id,
                                persona=persona.id if persona else NO_PERSONA,
                                probe_id=probe.id,
                                order=order,
                                variant=variant,
                                messages=req.messages,
                                options=req.options,
                                request_key=req.key(backend.model_id, backend.revision),
                                response=resp.model_copy(update={"request_id": rid}),
                            ).model_dump(mode="json")
                        )
                        outcome.n_new += 1
                        outcome.n_cached += int(resp.cached)
                    writer.write_many(records)
                    finished += len(batch)
                    if progress:
                        progress(entry.name, finished, len(todo))
            finally:
                backend.close()
    for rec in read_jsonl(folder.responses):
        if rec["response"].get("error"):
            outcome.n_failed += 1
            outcome.failures_by_model[rec["model"]] = outcome.failures_by_model.get(rec["model"], 0) + 1
    return outcome
