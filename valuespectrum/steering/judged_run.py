"""``vspec steer judged``: judged CSR and fluency of a vector, from a YAML manifest.

    model: hf:./models/SmolLM2-135M-Instruct
    vector: vectors/benevolence-caa.json       # ungated condition (mode add by default)
    strength: 4.0
    layers: [15]
    questions: questions.txt                   # one question per line (or JSONL with "question")
    judge: hf:./models/judge                   # default: the model judges itself
    calibration: builtin                       # builtin, a labelled file, or none
    gated: {vector: vectors/benevolence-probe.json, mode: conva_raise, p0: 0.9, layers: [10, 11],
            detector: vectors/benevolence-detector.json, threshold: 0.5}
    settings: [none, negative]                 # the robustness setting: a value-negative persona
    mmlu: {folder: mmlu, k: 5}
    out: judged

Writes ``OUT/judged.json`` (one comparison per setting, with the answers) and ``OUT/summary.txt``.
Paths are relative to the manifest's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from valuespectrum.runs.setup import under
from valuespectrum.runs.spec import ModelSpec
from valuespectrum.steering.apply import P0_MODES, Mode
from valuespectrum.steering.judged import Persona
from valuespectrum.steering.manifest import _model_entry


class GatedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vector: str
    """A probe vector (with biases) for the p0 modes."""
    mode: Mode = "conva_raise"
    p0: float = Field(default=0.9, gt=0.0, lt=1.0)
    layers: list[int] | None = None
    detector: str | None = None
    """A saved probe read as the whole-input gate (default: the gated vector's own probe)."""
    detector_layer: int | None = None
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)


class MMLUSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: str
    """An MMLU-layout folder (dev/ and test/ CSV files per subject)."""
    split: str = "test"
    k: int = Field(default=5, ge=0)


class JudgedManifest(BaseModel):
    """Judged CSR and fluency of a vector against same-norm random vectors."""

    model_config = ConfigDict(extra="forbid")

    model: ModelSpec
    vector: str
    strength: float = 4.0
    layers: list[int] | None = None
    mode: Mode = "add"
    questions: str
    """A text file (one question per line) or JSONL with a ``question`` field."""
    judge: ModelSpec | None = None
    """The judge model (default: the steered model itself, unsteered)."""
    judge_mode: Literal["auto", "options", "text"] = "auto"
    calibration: str = "builtin"
    """'builtin' (the shipped 41-answer set), a labelled JSONL/CSV file, or 'none' (uncalibrated)."""
    gated: GatedSpec | None = None
    settings: list[Persona] = Field(default=["none"], min_length=1)
    """none: the plain questions; negative: the robustness setting (a value-negative persona first)."""
    n_random: int = Field(default=2, ge=1)
    max_new_tokens: int = Field(default=100, ge=1)
    mmlu: MMLUSpec | None = None
    out: str = "judged"

    @field_validator("model", "judge", mode="before")
    @classmethod
    def _entry(cls, raw: Any) -> Any:
        return _model_entry(raw) if raw is not None else raw

    @model_validator(mode="after")
    def _p0_strength(self) -> JudgedManifest:
        if self.mode in P0_MODES and not 0.0 < self.strength < 1.0:
            raise ValueError(
                f"in mode: {self.mode} 'strength' is the p0 target and must lie strictly between 0 and 1 "
                f"(got {self.strength:g}); use mode: add for a multiplier"
            )
        return self


def read_questions(path: Path) -> list[str]:
    from valuespectrum.errors import ConfigError
    from valuespectrum.tables import read_jsonl

    if not path.is_file():
        raise ConfigError(f"{path}: questions file not found")
    if path.suffix.lower() == ".jsonl":
        lines = []
        for n, row in read_jsonl(path):  # names the file and line of a bad JSON line
            q = row.get("question")
            if not isinstance(q, str) or not q.strip():
                raise ConfigError(f"{path}: line {n}: field 'question' is missing or empty")
            lines.append(q.strip())
    else:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines:
        raise ConfigError(f"{path}: no questions")
    return lines


def run_judged(manifest: Path) -> tuple[Path, list[str]]:
    """Run the manifest; returns the output folder and the summary lines."""
    from valuespectrum.backends.registry import create_backend
    from valuespectrum.manifest import load_config
    from valuespectrum.steering.detector import InputDetector
    from valuespectrum.steering.judged import GatedSetup, csr_judge, fluency_judge, judged_comparison
    from valuespectrum.steering.mmlu import load_mmlu
    from valuespectrum.steering.question_gate import DetectorQuestionGate
    from valuespectrum.steering.vectors import SteeringVector

    m = load_config(JudgedManifest, manifest)
    base_dir = manifest.parent
    questions = read_questions(under(base_dir, m.questions))
    vector = SteeringVector.load(under(base_dir, m.vector))
    model = create_backend(m.model.spec, base_dir=base_dir, **m.model.options)
    judge_backend = model
    if m.judge is not None and m.judge.model_dump() != m.model.model_dump():
        judge_backend = create_backend(m.judge.spec, base_dir=base_dir, **m.judge.options)
    try:
        csr = csr_judge(judge_backend, mode=m.judge_mode)
        flu = fluency_judge(judge_backend, mode=m.judge_mode)
        calibration: str | Path | None = None
        if m.calibration == "builtin":
            from valuespectrum.steering.judged import builtin_calibration

            calibration = builtin_calibration()
        elif m.calibration != "none":
            calibration = under(base_dir, m.calibration)
        gated = None
        if m.gated is not None:
            g = m.gated
            probe = SteeringVector.load(under(base_dir, g.vector))
            det_vec = probe if g.detector is None else SteeringVector.load(under(base_dir, g.detector))
            det = InputDetector.from_vector(
                det_vec, layer=g.detector_layer, threshold=g.threshold, source=g.detector or "own probe"
            )
            gate = DetectorQuestionGate(det, model)
            gated = GatedSetup(probe, gate, strength=g.p0, mode=g.mode, layers=g.layers)
        mmlu = dev = None
        if m.mmlu is not None:
            folder = under(base_dir, m.mmlu.folder)
            mmlu = [q for qs in load_mmlu(folder, m.mmlu.split).values() for q in qs]
            dev = load_mmlu(folder, "dev") if m.mmlu.k > 0 else None
        results = []
        for k, persona in enumerate(m.settings):
            results.append(
                judged_comparison(
                    model,
                    vector,
                    questions,
                    csr,
                    flu,
                    strength=m.strength,
                    layers=m.layers,
                    mode=m.mode,
                    random_seeds=tuple(range(m.n_random)),
                    max_new_tokens=m.max_new_tokens,
                    mmlu=mmlu if k == 0 else None,  # general ability does not depend on the persona
                    mmlu_dev=dev,
                    mmlu_k=m.mmlu.k if m.mmlu is not None else 0,
                    gated=gated,
                    persona=persona,
                    calibration=calibration if k == 0 else None,
                )
            )
    finally:
        if judge_backend is not model:
            judge_backend.close()
        model.close()
    out = under(base_dir, m.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"manifest": m.model_dump(mode="json"), "settings": [r.to_dict() for r in results]}
    (out / "judged.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    lines = [ln for r in results for ln in r.summary_lines()]
    (out / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out, lines
