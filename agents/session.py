"""Browsing sessions: a training phase, then an evaluation phase, logged step by step.

At each step the feed picks a video, the agent (a model under a persona) observes it and
answers with a decision, the feed learns from the engagement, and one JSON line is appended
to the session's trajectory: what was shown, the feed's state, the prompt, the raw answer,
the parsed decision and any search results. Steps are sequential; nothing is batched across
them because each depends on the last.

Resuming: a killed session's trajectory (torn last line cut off) is replayed into a fresh
feed with the same seed, with no model calls: each recorded step must come out of the feed
again (else the folder holds another run and is refused), and its recorded engagement and
search results are fed back. The session then continues, ending with the same trajectory
as an uninterrupted run.

A failed request (the backend returned an error) is recorded with the error and leaves the
feed unchanged; an unreadable answer is recorded as a skip with ``parsed: false``.

Run folder::

  RUN_DIR/manifest.yaml, header.json
  RUN_DIR/browse/personas.json
  RUN_DIR/browse/trajectories/<model>__<persona>.jsonl
  RUN_DIR/browse/summary.json        (see agents.metrics)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agents.catalog import Catalog
from agents.decide import build_request, decision_from_likelihoods, parse_decision
from agents.feed import EmbeddingFeed, Engagement, FeedSimulator
from agents.manifest import BrowseManifest, BrowseModel
from agents.observe import observe
from agents.search import Searcher
from valuespectrum.backends.base import Backend
from valuespectrum.errors import ConfigError
from valuespectrum.personas import NO_PERSONA, Persona, load_personas_file, resolve_personas
from valuespectrum.results import (
    BrowseStep,
    BrowseSummary,
    FeedState,
    ShownVideo,
    StepDecision,
    read_steps,
    write_browse_summary,
    write_step,
)
from valuespectrum.run_kit import BackendFactory, JsonlWriter, ModelSource, RunDir, repair_tail, under
from valuespectrum.types import stable_hash

StepHook = Callable[[BrowseStep], None]
#: Fields that vary between identical runs (timing, cache hits); left out of comparisons.
VOLATILE_FIELDS: tuple[str, ...] = ("latency_s", "cached")


@dataclass(frozen=True)
class BrowseFolder(RunDir):
    """A browsing run's folder: the common run files plus ``browse/``."""

    @property
    def browse(self) -> Path:
        return self.root / "browse"

    @property
    def personas(self) -> Path:
        return self.browse / "personas.json"

    @property
    def trajectories(self) -> Path:
        return self.browse / "trajectories"

    @property
    def summary(self) -> Path:
        return self.browse / "summary.json"

    def trajectory(self, model: str, persona: str) -> Path:
        return self.trajectories / f"{slug(model)}__{slug(persona)}.jsonl"

    def has_results(self) -> bool:
        return self.trajectories.is_dir() and any(
            p.stat().st_size > 0 for p in self.trajectories.glob("*.jsonl")
        )


def slug(name: str) -> str:
    """A file-name-safe form of a label, with a short hash when characters were replaced."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "x"
    return safe if safe == name else f"{safe[:60]}-{stable_hash(name)[:6]}"


@dataclass
class SessionResult:
    model: str
    persona: str
    path: Path
    n_steps: int = 0
    n_new: int = 0
    n_replayed: int = 0
    n_failed: int = 0
    n_unparsed: int = 0
    exhausted: bool = False


@dataclass
class Session:
    """One (model, persona) browsing session over a catalog.

    Every session of a run uses the manifest's seed, so all (model, persona) pairs start from
    the same diverse sample and differ only by what their agent does.
    """

    catalog: Catalog
    persona: Persona | None
    model: BrowseModel
    manifest: BrowseManifest
    path: Path
    searcher: Searcher | None = None
    feed_factory: Callable[[], FeedSimulator] | None = None
    _centroids: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    _target: np.ndarray | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._centroids = {v.value: c for v, c in self.catalog.value_centroids().items()}
        if self.persona is not None and self.persona.targets:
            self._target = self.catalog.value_centroid(self.persona.schwartz_targets())

    @property
    def persona_id(self) -> str:
        return self.persona.id if self.persona else NO_PERSONA

    @property
    def total_steps(self) -> int:
        return self.manifest.phases.training + self.manifest.phases.evaluation

    @property
    def expected_steps(self) -> int:
        """Steps a finished session has: all of them, or fewer when the catalog runs out."""
        return min(self.total_steps, len(self.catalog))

    def is_complete(self) -> bool:
        return len(_without_failed_tail(list(read_steps(self.path)))) >= self.expected_steps

    @property
    def decision_mode(self) -> Literal["json", "likelihood"]:
        return self.model.decision or self.manifest.agent.decision

    def new_feed(self) -> FeedSimulator:
        if self.feed_factory is not None:
            return self.feed_factory()
        return EmbeddingFeed(self.catalog, self.manifest.feed, seed=self.manifest.seed)

    def run(self, backend: Backend | None, *, on_step: StepHook | None = None) -> SessionResult:
        """Replay what the trajectory holds, then run the remaining steps with ``backend``."""
        repair_tail(self.path)
        recorded = list(read_steps(self.path))
        done = _without_failed_tail(recorded)
        if len(done) < len(recorded):
            # failed requests at the end (e.g. a server down when the run stopped) are asked
            # again: exact, since a failed step changed the feed only by showing its video,
            # and the replayed feed offers that same video again
            tmp = self.path.with_suffix(".jsonl.tmp")
            with JsonlWriter(tmp) as rewrite:
                for st in done:
                    write_step(rewrite, st)
            tmp.replace(self.path)
        result = SessionResult(self.model.name, self.persona_id, self.path)
        feed = self.new_feed()
        for i, rec in enumerate(done):
            self._replay(feed, rec, i)
            result.n_replayed += 1
            _count(result, rec)
        if len(done) >= self.total_steps:
            result.n_steps = len(done)
            return result
        # flushed every step (survives a killed process), fsync only on close: a per-step
        # fsync costs milliseconds the loop's overhead budget does not have
        writer = JsonlWriter(self.path)
        try:
            for step in range(len(done), self.total_steps):
                pick = feed.next()
                if pick is None:
                    result.exhausted = True
                    break
                if backend is None:
                    raise RuntimeError("a backend is needed to continue this session")
                rec = self._step(feed, backend, step, pick.video_id, pick.mode, pick.score)
                write_step(writer, rec)
                writer.flush()  # each step reaches the file at once: a killed process loses nothing
                result.n_new += 1
                _count(result, rec)
                if on_step is not None:
                    on_step(rec)
        finally:
            writer.close()
        result.n_steps = result.n_replayed + result.n_new
        result.exhausted = result.n_steps < self.total_steps  # the loop ends early only when it ran out
        return result

    # -- one step ---------------------------------------------------------------------------

    def _step(
        self, feed: FeedSimulator, backend: Backend, step: int, video_id: str, mode: str, score: float | None
    ) -> BrowseStep:
        m = self.manifest
        phase = "training" if step < m.phases.training else "evaluation"
        feed_state = {"mode": mode, "score": score, **feed.state(), **self._affinity(feed)}
        obs = observe(self.catalog, video_id, modality=self.model.modality, frames=m.agent.frames)
        req = build_request(
            obs,
            self.persona,
            modality=self.model.modality,
            config=m.generation,
            request_id=f"{self.model.name}|{self.persona_id}|{step}",
            allow_search=m.agent.allow_search,
            decision=self.decision_mode,
        )
        t0 = time.perf_counter()
        responses = backend.generate([req])
        latency = time.perf_counter() - t0
        if len(responses) != 1:
            raise RuntimeError(f"backend {self.model.spec} returned {len(responses)} responses for 1 request")
        resp = responses[0]
        decision: StepDecision | None = None
        results: list[str] = []
        if resp.error is None:
            if self.decision_mode == "likelihood":
                decision = decision_from_likelihoods(resp.option_logprobs, obs.duration_s)
            else:
                decision = parse_decision(resp.text, obs.duration_s, allow_search=m.agent.allow_search)
            if decision.action == "search" and self.searcher is not None and decision.query:
                results = self.searcher.search(decision.query, m.agent.search_k)
        rec = BrowseStep(
            step=step,
            phase=phase,
            model=self.model.name,
            persona=self.persona_id,
            video_id=video_id,
            shown=ShownVideo(
                platform=obs.platform,
                caption=obs.caption,
                duration_s=obs.duration_s,
                values=[v.value for v in obs.values],
                frames=[f.path for f in obs.frames],
            ),
            feed=FeedState.model_validate(feed_state),
            request_key=req.key(backend.model_id, backend.revision),
            prompt=[msg.model_dump(mode="json") for msg in req.messages],
            raw=resp.text,
            error=resp.error,
            failed=resp.error is not None,
            decision=decision,
            search_results=results,
            latency_s=round(resp.latency_s if resp.latency_s is not None else latency, 6),
            cached=resp.cached,
        )
        _apply(feed, rec)
        return rec

    def _affinity(self, feed: FeedSimulator) -> dict[str, Any]:
        """Cosine of the interest vector with each value's centroid and with the persona's targets."""
        u = feed.interest
        if u is None:
            return {"affinity": None, "target_affinity": None}
        aff = {name: round(float(c @ u), 6) for name, c in self._centroids.items()}
        target = round(float(self._target @ u), 6) if self._target is not None else None
        return {"affinity": aff, "target_affinity": target}

    def _replay(self, feed: FeedSimulator, rec: BrowseStep, i: int) -> None:
        pick = feed.next()
        if rec.step != i or pick is None or pick.video_id != rec.video_id:
            raise ConfigError(
                f"{self.path}: step {i} of the trajectory does not match what the feed shows on replay "
                "(the index, the seed or the feed settings changed); pass --fresh to start over"
            )
        _apply(feed, rec)


def _without_failed_tail(records: list[BrowseStep]) -> list[BrowseStep]:
    end = len(records)
    while end and records[end - 1].failed:
        end -= 1
    return records[:end]


def engagement_of(rec: BrowseStep) -> Engagement:
    """The feed's reading of a recorded step (failed requests: no engagement)."""
    d = rec.decision
    if rec.failed or d is None:
        return Engagement("none")
    return Engagement(d.action, min(1.0, d.dwell_s / (rec.shown.duration_s or 1.0)))


def _apply(feed: FeedSimulator, rec: BrowseStep) -> None:
    eng = engagement_of(rec)
    feed.update(rec.video_id, eng)
    if eng.kind == "search":
        feed.add_search_results(rec.search_results)


def _count(result: SessionResult, rec: BrowseStep) -> None:
    if rec.failed:
        result.n_failed += 1
    elif rec.decision is not None and not rec.decision.parsed:
        result.n_unparsed += 1


# -- a whole run ---------------------------------------------------------------------------


@dataclass
class BrowseOutcome:
    folder: BrowseFolder
    sessions: list[SessionResult]
    summary: BrowseSummary

    @property
    def n_requests(self) -> int:
        return sum(s.n_steps for s in self.sessions)

    @property
    def n_failed(self) -> int:
        return sum(s.n_failed for s in self.sessions)

    @property
    def failure_rate(self) -> float:
        return self.n_failed / self.n_requests if self.n_requests else 0.0


def open_catalog(manifest: BrowseManifest, base: Path) -> tuple[Catalog, Searcher]:
    """The catalog and a searcher for the manifest's index (or its synthetic stand-in)."""
    from agents.search import KeywordSearcher, StoreSearcher
    from agents.synthetic import synthetic_catalog
    from ingestion.config import IndexConfig
    from ingestion.query import open_store

    syn = manifest.index.synthetic
    if syn is not None:
        cat = synthetic_catalog(syn.per_value, syn.dim, seed=syn.seed)
        return cat, KeywordSearcher(cat)
    data = under(base, manifest.index.data_dir)
    cfg = IndexConfig(
        corpus_root=data,
        data_dir=data,
        collection_prefix=manifest.index.collection,
        chroma_host=manifest.index.chroma_host,
        chroma_port=manifest.index.chroma_port,
        progress=False,
    )
    store = open_store(cfg)
    return Catalog.from_store(store, data), StoreSearcher(cfg, store)


def prepare_folder(
    manifest: BrowseManifest,
    folder: BrowseFolder,
    personas: list[Persona | None],
    *,
    fresh: bool,
    extra: dict[str, Any],
) -> None:
    """Create or reopen a run folder; refuse to continue another manifest's sessions in it."""
    if not fresh and folder.check_reopen(manifest, personas):
        folder.update_manifest(manifest)
        return
    if folder.browse.exists():
        for p in sorted(folder.trajectories.glob("*.jsonl")):
            p.unlink()
        folder.summary.unlink(missing_ok=True)
    folder.start(
        manifest,
        personas,
        extra=extra,
        write_more=lambda: folder.trajectories.mkdir(parents=True, exist_ok=True),
    )


def execute_browse(
    manifest: BrowseManifest,
    *,
    base: Path = Path("."),
    out: Path | None = None,
    fresh: bool = False,
    backend_factory: BackendFactory | None = None,
    catalog: Catalog | None = None,
    searcher: Searcher | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    on_step: StepHook | None = None,
    backends: Mapping[str, Backend] | None = None,
) -> BrowseOutcome:
    """Run every (model, persona) session of a manifest, resuming what a folder already holds.

    Backends come from ``backends`` (label -> backend), else ``backend_factory``, else the
    manifest's specs; only those built from the specs are closed here (the caller owns the rest).
    """
    from agents.metrics import summarise_run

    source = ModelSource.for_run(
        manifest.cache, base, factory=backend_factory, prebuilt=backends, models=manifest.models
    )

    extra_personas = (
        load_personas_file(under(base, manifest.personas_file)) if manifest.personas_file else None
    )
    personas = resolve_personas(manifest.personas, extra_personas)
    if catalog is None:
        catalog, store_searcher = open_catalog(manifest, base)
        searcher = searcher or store_searcher
    folder = BrowseFolder(out or under(base, manifest.output_dir) / manifest.name)
    store = catalog.store
    prepare_folder(
        manifest,
        folder,
        personas,
        fresh=fresh,
        extra={
            "n_videos": len(catalog),
            "encoder_id": getattr(store, "encoder_id", None),
            "index": str(under(base, manifest.index.data_dir)) if store is not None else None,
        },
    )
    results: list[SessionResult] = []
    for entry in manifest.models:
        sessions = [
            Session(
                catalog,
                p,
                entry,
                manifest,
                folder.trajectory(entry.name, p.id if p else NO_PERSONA),
                searcher,
            )
            for p in personas
        ]
        complete = all(s.is_complete() for s in sessions)
        with (
            nullcontext(None) if complete else source.open(entry.spec, entry.options, entry.label) as backend
        ):
            for s in sessions:
                label = f"{entry.name} / {s.persona_id}"
                hook = on_step
                if progress is not None:
                    total = s.expected_steps

                    def hook(rec: BrowseStep, _label: str = label, _total: int = total) -> None:
                        progress(_label, rec.step + 1, _total)
                        if on_step is not None:
                            on_step(rec)

                results.append(s.run(backend, on_step=hook))
    summary = summarise_run(folder, manifest, personas)
    write_browse_summary(folder.summary, summary)
    return BrowseOutcome(folder, results, summary)
