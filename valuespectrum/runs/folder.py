"""The layout of a run folder. One place names every file so readers and writers agree.

RUN_DIR/
  manifest.yaml     the resolved manifest
  header.json       versions, git revision, seed, models
  probes.jsonl      the probes asked (for re-scoring without the model)
  personas.json     the personas used
  responses.jsonl   one RunRecord per request (prompt, request key, response)
  scores.jsonl      parsed answer and item scores per record
  summary.json      profiles per (model, persona) with counts and failures
  summary.csv       the same as a flat table
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunFolder:
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.yaml"

    @property
    def header(self) -> Path:
        return self.root / "header.json"

    @property
    def probes(self) -> Path:
        return self.root / "probes.jsonl"

    @property
    def personas(self) -> Path:
        return self.root / "personas.json"

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

    def exists(self) -> bool:
        return self.header.is_file()
