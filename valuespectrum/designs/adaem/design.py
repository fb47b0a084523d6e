"""``vspec adaem generate|evaluate``: the AdAEM designs driven by manifests.

Both manifests name the models under test (``models``: each a model entry with an optional
``persona``, so one loaded model can stand for several "models"), the judge that extracts
values (``extractor``) and the output folder; ``generate`` adds generators, seed topics and the
bandit settings, ``evaluate`` a question file. A folder resumes from its trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from valuespectrum.backends.base import Backend
from valuespectrum.designs.adaem.evaluate import Question, evaluate_models
from valuespectrum.designs.adaem.extract import ValueExtractor
from valuespectrum.designs.adaem.loop import AdaptiveLoop, SafetyFilter, Settings, Subject
from valuespectrum.designs.adaem.questions import load_questions
from valuespectrum.designs.adaem.report import write_evaluate_report, write_generate_report
from valuespectrum.designs.adaem.trace import Trace
from valuespectrum.designs.common import make_backend, out_folder, resolve
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import ModelEntry, load_config
from valuespectrum.personas import resolve_personas
from valuespectrum.runs.jsonl import write_json_atomic
from valuespectrum.runs.spec import ModelSpec, Strict, check_slug, check_unique_labels
from valuespectrum.value_systems import system_from


class SubjectEntry(ModelSpec):
    persona: str | None = None
    """A persona id (``vspec personas``) the model answers as; several entries may share a
    spec and differ only here (the model is loaded once)."""


class _Common(Strict):
    name: str = "adaem"
    models: list[SubjectEntry] = Field(min_length=2)
    extractor: ModelEntry
    values: str | list[str] = "schwartz10"
    """The value system the extractor reads answers in: ``schwartz10``, ``mft6``, ``schwartz19``,
    ``valuepilot6``, or a list of names (a free system; give definitions in the names)."""
    opinions: Literal["sentences", "whole"] = "sentences"
    max_opinions: int = Field(default=5, ge=1)
    max_new_tokens: int = Field(default=96, ge=8)
    output_dir: str = "runs"
    max_unread_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    """Exit non-zero when more than this share of value judgments is unread."""

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        return check_slug(v)

    @field_validator("models")
    @classmethod
    def _unique(cls, v: list[SubjectEntry]) -> list[SubjectEntry]:
        check_unique_labels(v)
        return v


class GenerateManifest(_Common):
    generators: list[ModelEntry] = Field(min_length=1)
    topics: list[str] = Field(default_factory=list)
    topics_file: str | None = None
    """A text file, one seed topic per line (relative to the manifest)."""
    budget: int = Field(default=10, ge=1)
    n_questions: int = Field(default=3, ge=1)
    n_refine: int = Field(default=1, ge=0)
    beta: float = Field(default=1.0, ge=0.0)
    subtopics: bool = True
    log_term: Literal["budget", "t"] = "budget"
    blocklist: list[str] = Field(default_factory=list)
    """A question containing any of these words (case-insensitive) is dropped and traced; for
    a model-based safety filter pass ``safety=`` to the library call."""


class EvaluateManifest(_Common):
    questions: str
    """A CSV/TSV/JSONL question file or a ``vspec adaem generate`` folder (relative to the manifest)."""
    limit: int | None = Field(default=None, ge=1)
    samples: int = Field(default=1, ge=1)
    temperature: float = Field(default=0.7, gt=0.0)
    n_boot: int = Field(default=200, ge=0)
    seed: int = 0


@contextmanager
def _backends(entries: Sequence[ModelSpec], base: Path) -> Iterator[list[Backend]]:
    """One backend per distinct (spec, options), closed on the way out."""
    made: dict[str, Backend] = {}
    out = []
    try:
        for e in entries:
            key = json.dumps([e.spec, e.options], sort_keys=True, default=str)
            if key not in made:
                made[key] = make_backend(ModelEntry(spec=e.spec, options=e.options), base=base)
            out.append(made[key])
        yield out
    finally:
        for b in made.values():
            b.close()


def _subjects(entries: Sequence[SubjectEntry], backends: Sequence[Backend]) -> list[Subject]:
    personas = resolve_personas([e.persona or "none" for e in entries])
    return [Subject(e.name, b, p) for e, b, p in zip(entries, backends, personas, strict=True)]


def _topics(m: GenerateManifest, base: Path) -> list[str]:
    topics = list(m.topics)
    path = resolve(base, m.topics_file)
    if path is not None:
        try:
            topics += [t.strip() for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read topics_file ({exc.strerror or exc})") from exc
    if not topics:
        raise ConfigError("adaem generate: give seed topics (topics: [...] or topics_file:)")
    return list(dict.fromkeys(topics))


def _blocklist(words: Sequence[str]) -> SafetyFilter | None:
    if not words:
        return None
    folded = [w.casefold() for w in words]

    def check(question: str) -> str | None:
        hit = next((w for w in folded if w in question.casefold()), None)
        return f"blocklisted word {hit!r}" if hit else None

    return check


def _header(kind: str, m: _Common, backends: dict[str, Backend]) -> dict[str, Any]:
    return {
        "design": f"adaem-{kind}",
        "manifest": m.model_dump(mode="json", exclude={"output_dir", "max_unread_rate"}),
        "model_ids": {k: b.model_id for k, b in backends.items()},
    }


def run_generate(
    path: str | Path, *, out: Path | None = None, fresh: bool = False, safety: SafetyFilter | None = None
) -> tuple[Path, dict[str, Any]]:
    path = Path(path)
    m = load_config(GenerateManifest, path)
    base = path.parent
    topics = _topics(m, base)
    folder = out_folder(base, m.output_dir, m.name, out, fresh)
    entries: list[ModelSpec] = [*m.models, m.extractor, *m.generators]
    with _backends(entries, base) as bs:
        subj_b, ext_b, gen_b = bs[: len(m.models)], bs[len(m.models)], bs[len(m.models) + 1 :]
        ids = {e.name: b for e, b in zip(m.models, subj_b, strict=True)}
        ids["extractor"] = ext_b
        ids.update({f"generator{i}": g for i, g in enumerate(gen_b)})
        trace = Trace(folder / "trace.jsonl", {**_header("generate", m, ids), "topics": topics})
        extractor = ValueExtractor(
            ext_b, system=system_from(m.values), split=m.opinions, max_opinions=m.max_opinions
        )
        settings = Settings(
            budget=m.budget,
            n_questions=m.n_questions,
            n_refine=m.n_refine,
            beta=m.beta,
            subtopics=m.subtopics,
            max_new_tokens=m.max_new_tokens,
            log_term=m.log_term,
        )
        loop = AdaptiveLoop(
            trace,
            gen_b,
            _subjects(m.models, subj_b),
            extractor,
            settings,
            safety=safety or _blocklist(m.blocklist),
        )
        result = loop.run(topics)
    ranked = sorted(result.questions, key=lambda q: -q.score)
    with open(folder / "questions.jsonl.tmp", "w", encoding="utf-8") as fh:
        for q in ranked:
            fh.write(json.dumps(asdict(q), ensure_ascii=False) + "\n")
    (folder / "questions.jsonl.tmp").replace(folder / "questions.jsonl")
    n_judged = trace.by_role.get("extractor", 0)
    summary = {
        "design": "adaem-generate",
        "value_system": extractor.system.id,
        "models": [s.name for s in m.models],
        "n_questions": len(ranked),
        "arms": result.arms,
        "filtered": result.filtered,
        "n_unparsed_generations": result.n_unparsed_generations,
        "n_unread_judgments": sum(q.n_unread for q in result.questions),
        "mean_score": sum(q.score for q in ranked) / len(ranked) if ranked else None,
        "calls_made": result.calls_made,
        "calls_replayed": result.calls_replayed,
        "top": [{"id": q.id, "topic": q.topic, "question": q.text, "score": q.score} for q in ranked[:10]],
        "n_judgments": n_judged,
        "unread_rate": sum(q.n_unread for q in result.questions) / n_judged if n_judged else 0.0,
    }
    write_json_atomic(folder / "summary.json", summary)
    write_generate_report(summary, ranked, folder)
    return folder, summary


def run_evaluate(
    path: str | Path, *, out: Path | None = None, fresh: bool = False
) -> tuple[Path, dict[str, Any]]:
    path = Path(path)
    m = load_config(EvaluateManifest, path)
    base = path.parent
    qpath = resolve(base, m.questions)
    assert qpath is not None
    questions: list[Question] = load_questions(qpath, limit=m.limit)
    folder = out_folder(base, m.output_dir, m.name, out, fresh)
    from valuespectrum.designs.adaem.quality import packaged_encoder

    with _backends([*m.models, m.extractor], base) as bs:
        subj_b, ext_b = bs[: len(m.models)], bs[-1]
        ids = {e.name: b for e, b in zip(m.models, subj_b, strict=True)} | {"extractor": ext_b}
        header = {**_header("evaluate", m, ids), "questions": [[q.id, q.text] for q in questions]}
        trace = Trace(folder / "trace.jsonl", header)
        extractor = ValueExtractor(
            ext_b, system=system_from(m.values), split=m.opinions, max_opinions=m.max_opinions
        )
        summary = evaluate_models(
            trace,
            questions,
            _subjects(m.models, subj_b),
            extractor,
            samples=m.samples,
            temperature=m.temperature,
            max_new_tokens=m.max_new_tokens,
            n_boot=m.n_boot,
            seed=m.seed,
            embed=packaged_encoder(),
        )
    n_judged = trace.by_role.get("extractor", 0)
    summary["design"] = "adaem-evaluate"
    summary["value_system"] = extractor.system.id
    summary["n_judgments"] = n_judged
    summary["unread_rate"] = summary["n_unread_judgments"] / n_judged if n_judged else 0.0
    write_json_atomic(folder / "summary.json", summary)
    write_evaluate_report(summary, folder)
    return folder, summary
