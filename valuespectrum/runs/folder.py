"""Run folders: one class for every kind of run, and the layout of a probe run.

RUN_DIR/
  manifest.yaml     the resolved manifest
  header.json       versions, git revision, seed, the manifest's answer identity
  .lock             held while a run writes the folder (a second run is refused)
  probes.jsonl      the probes asked (for re-scoring without the model)
  personas.json     the personas used
  responses.jsonl   one RunRecord per request (prompt, request key, response)
  scores.jsonl      parsed answer and item scores per record
  summary.json      profiles per (model, persona) with counts and failures
  summary.csv       the same as a flat table

A folder's identity is everything that changes a prompt or an answer: the manifest's
answer identity (:meth:`RunSpecBase.answer_identity`), the persona texts and the items.
Reopening a folder with another identity is refused with a message naming what changed;
edits outside it (bootstrap count, thresholds, report settings) are accepted and only
re-score. Nothing is written before :meth:`RunDir.start`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from valuespectrum.config import load_config
from valuespectrum.errors import ConfigError, MediaChangedError
from valuespectrum.personas import Persona
from valuespectrum.runs.folder_lock import RunLockedError as RunLockedError  # re-exported
from valuespectrum.runs.folder_lock import hold_lock
from valuespectrum.runs.header import build_header
from valuespectrum.runs.jsonl import write_json_atomic
from valuespectrum.runs.spec import RunSpecBase
from valuespectrum.types import stable_hash


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        path = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict) and not prefix:
            out.extend(_changed_fields(a, b, path + "."))
        else:
            out.append(path)
    return out


@dataclass(frozen=True)
class RunDir:
    """What every run folder has: the manifest, header, personas and the writer's lock."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.yaml"

    @property
    def header(self) -> Path:
        return self.root / "header.json"

    @property
    def personas(self) -> Path:
        return self.root / "personas.json"

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    def exists(self) -> bool:
        return self.header.is_file()

    def has_results(self) -> bool:
        """Whether the folder holds any answers (a folder started but never answered holds none)."""
        return False

    # -- identity ---------------------------------------------------------------------

    def changed_fields(self, spec: RunSpecBase) -> list[str]:
        """Fields of ``spec`` that differ from the stored manifest (all of them count)."""
        try:
            old = load_config(type(spec), self.manifest).model_dump(mode="json")
        except ConfigError:
            return ["(the stored manifest.yaml cannot be read)"]
        return _changed_fields(old, spec.model_dump(mode="json"))

    def check_reopen(self, spec: RunSpecBase, personas: Sequence[Persona | None]) -> bool:
        """Raise if this folder holds answers to other prompts; True when it may be resumed
        (False: a new or answerless folder, to be started afresh)."""
        if not self.exists() or not self.has_results():
            return False
        changed = self.changed_fields(spec)
        answer_changes = [
            c for c in changed if c.split(".")[0] not in spec.NO_ANSWER_FIELDS or c.startswith("(")
        ]
        if answer_changes:
            raise ConfigError(
                f"{self.root}: holds a run of a different manifest (changed: {', '.join(answer_changes)}); "
                "use another 'name' or 'output_dir', or pass --fresh to start this folder over"
            )
        self._check_personas(personas)
        return True

    def _check_personas(self, personas: Sequence[Persona | None]) -> None:
        try:
            stored = {p["id"]: p for p in json.loads(self.personas.read_text(encoding="utf-8"))}
        except (OSError, ValueError, KeyError, TypeError):
            return
        changed = [
            p.id
            for p in personas
            if p is not None and p.id in stored and stored[p.id] != p.model_dump(mode="json")
        ]
        if changed:
            raise ConfigError(
                f"{self.personas}: the text of persona(s) {', '.join(changed)} changed since this run "
                "began, so one profile would pool two prompts; give the edited persona a new id, or "
                "pass --fresh to start over"
            )

    # -- writing ----------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock; a second run on the same folder gets a clear error."""
        self.make()
        with hold_lock(self.lock_path, root=self.root):
            yield

    def make(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ConfigError(
                f"{self.root}: cannot be the run folder, a file of that name is in the way; "
                "choose another 'output_dir'/'name' or --out"
            ) from exc
        except OSError as exc:
            raise ConfigError(
                f"{self.root}: cannot create the run folder ({exc.strerror or exc}); choose a writable "
                "'output_dir' or --out"
            ) from exc
        if not os.access(self.root, os.W_OK):
            raise ConfigError(
                f"{self.root}: the run folder is not writable; choose another 'output_dir' or --out"
            )

    def start(
        self,
        spec: RunSpecBase,
        personas: Sequence[Persona | None],
        *,
        extra: Mapping[str, Any] | None = None,
        write_more: Callable[[], object] | None = None,
    ) -> None:
        """Record what the run is: the resolved manifest, the personas and the header (written
        last: a folder with a header is a started run)."""
        self.make()
        if write_more is not None:
            write_more()
        self.manifest.write_text(
            yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        write_json_atomic(self.personas, [p.model_dump(mode="json") for p in personas if p is not None])
        header = build_header(
            seed=spec.seed, manifest_digest=stable_hash(spec.model_dump(mode="json")), extra=dict(extra or {})
        )
        header["answer_identity"] = spec.answer_identity()
        write_json_atomic(self.header, header)

    def update_manifest(self, spec: RunSpecBase) -> None:
        """Store edits that change no answer (resumed or re-scored folders score with them)."""
        self.manifest.write_text(
            yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )


@dataclass(frozen=True)
class RunFolder(RunDir):
    """A probe run's folder (``vspec run``)."""

    @property
    def probes(self) -> Path:
        return self.root / "probes.jsonl"

    @property
    def responses(self) -> Path:
        return self.root / "responses.jsonl"

    @property
    def scores(self) -> Path:
        return self.root / "scores.jsonl"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def summary_csv(self) -> Path:
        return self.root / "summary.csv"

    @property
    def comparison_csv(self) -> Path:
        return self.root / "comparison.csv"

    def has_results(self) -> bool:
        return self.responses.is_file() and self.responses.stat().st_size > 0

    def results(self) -> list[Path]:
        return [self.responses, self.scores, self.summary, self.summary_csv, self.comparison_csv, self.header]

    def check_probes(self, probes_text: str) -> None:
        """Refuse items that changed since the run began, naming them."""
        if not self.probes.is_file():
            return
        old_text = self.probes.read_text(encoding="utf-8")
        if old_text == probes_text:
            return
        old = {json.loads(x)["id"]: x for x in old_text.splitlines() if x.strip()}
        new = {json.loads(x)["id"]: x for x in probes_text.splitlines() if x.strip()}
        changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
        added, removed = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
        parts = []
        for what, ids in (("changed", changed), ("added", added), ("removed", removed)):
            if ids:
                parts.append(
                    f"{what}: {', '.join(ids[:5])}" + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
                )
        raise MediaChangedError(
            f"{self.probes}: the probes (their text, options or the media they show) changed since this "
            f"run began ({'; '.join(parts) or 'order changed'}); pass --fresh to start over with the new items"
        )
