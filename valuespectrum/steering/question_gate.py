"""Gates that decide from a question's text whether a judged condition steers it (ConVA's gate).

A :class:`QuestionGate` reads plain question texts and says, per text, whether the question is
relevant to the steered value; :func:`~valuespectrum.steering.judged.judged_comparison` steers
only the questions it lets through (open questions and MMLU-layout questions alike), and answers
the others with the unsteered model. Two gates ship:

- :class:`DetectorQuestionGate`: a whole-input probe detector read on the unsteered model
  (:class:`~valuespectrum.steering.detector.InputDetector`);
- :class:`ClassifierQuestionGate`: an external local text classifier with per-value thresholds
  (:class:`~valuespectrum.steering.classifier_gate.ClassifierGate`), as the paper gates.

Any object with ``decide(texts) -> list[bool]`` and ``describe() -> dict`` works as a gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from valuespectrum.backends.base import ActivationAccess, text_reader
from valuespectrum.errors import ConfigError

if TYPE_CHECKING:
    from valuespectrum.steering.classifier_gate import ClassifierGate
    from valuespectrum.steering.detector import InputDetector
    from valuespectrum.values import Value


@runtime_checkable
class QuestionGate(Protocol):
    def decide(self, texts: Sequence[str]) -> list[bool]:
        """True for each text the gate lets through to steering."""
        ...

    def describe(self) -> dict[str, Any]:
        """What a report shows about the gate (kind, source, threshold...)."""
        ...


@dataclass
class DetectorQuestionGate:
    """A probe detector read on the unsteered model ``backend`` (an ``hf:`` backend)."""

    detector: InputDetector
    backend: Any

    def __post_init__(self) -> None:
        if not isinstance(self.backend, ActivationAccess):
            raise ConfigError(
                f"a detector gate needs a backend that exposes its activations, got {type(self.backend).__name__}"
            )

    def decide(self, texts: Sequence[str]) -> list[bool]:
        if not texts:
            return []
        return self.detector.decide(self.backend.model, text_reader(self.backend), list(texts))

    def describe(self) -> dict[str, Any]:
        d = self.detector
        return {
            "kind": "probe detector",
            "source": d.source or "own probe",
            "layer": d.layer,
            "pooling": d.pooling,
            "threshold": d.threshold,
        }


@dataclass
class ClassifierQuestionGate:
    """An external sequence classifier's decision for one value (score above its threshold)."""

    classifier: ClassifierGate
    value: Value

    def decide(self, texts: Sequence[str]) -> list[bool]:
        return self.classifier.decide(list(texts), self.value) if texts else []

    def describe(self) -> dict[str, Any]:
        c = self.classifier
        return {
            "kind": "text classifier",
            "labels": list(c.value_map.get(self.value, [])),
            "threshold": c.thresholds.get(self.value, 0.5),
            "low_threshold": c.low_thresholds.get(self.value),
        }


def gate_rate(decisions: Sequence[bool]) -> float | None:
    """Share of texts let through (None for no texts)."""
    return sum(decisions) / len(decisions) if decisions else None
