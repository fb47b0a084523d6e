"""valuespectrum: measure, compare and steer the Schwartz values of VLMs and LLMs.

The front door for notebooks and scripts::

    import valuespectrum as vs
    m = vs.create_backend("hf:./models/SmolLM2-135M-Instruct")
    res = vs.evaluate(m, probes="portrait", personas=["none", "value-power"])
    res.profile("value-power").scores[vs.Value.POWER]

Everything here is imported lazily on first use, so ``import valuespectrum`` stays light
(no torch, no video libraries) and the CLI answers at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # running and reading runs
    "create_backend": "valuespectrum.backends.registry:create_backend",
    "list_backends": "valuespectrum.backends.registry:list_backends",
    "register_backend": "valuespectrum.backends.registry:register_backend",
    "Backend": "valuespectrum.backends.base:Backend",
    "ActivationAccess": "valuespectrum.backends.base:ActivationAccess",
    "activation_access": "valuespectrum.backends.base:activation_access",
    "evaluate": "valuespectrum.api:evaluate",
    "score": "valuespectrum.api:score",
    "read_run": "valuespectrum.api:read_run",
    "RunResult": "valuespectrum.api:RunResult",
    "RunSummary": "valuespectrum.runs.log:RunSummary",
    "GroupSummary": "valuespectrum.runs.log:GroupSummary",
    "RunRecord": "valuespectrum.runs.log:RunRecord",
    "ScoreLine": "valuespectrum.runs.log:ScoreLine",
    "BrowseStep": "valuespectrum.runs.browse_log:BrowseStep",
    "BrowseSummary": "valuespectrum.runs.browse_log:BrowseSummary",
    "read_browse_summary": "valuespectrum.runs.browse_log:read_browse_summary",
    "SteeringSummary": "valuespectrum.steering.summary:SteeringSummary",
    "read_steering_summary": "valuespectrum.steering.summary:read_steering_summary",
    # items and answers
    "load_bank": "valuespectrum.probes.bank:load_bank",
    "list_banks": "valuespectrum.probes.bank:list_banks",
    "load_items": "valuespectrum.probes.importers:load_items",
    "Probe": "valuespectrum.probes.schema:Probe",
    "interpret": "valuespectrum.scoring.interpret:interpret",
    # personas and the value vocabulary
    "Persona": "valuespectrum.personas:Persona",
    "builtin_personas": "valuespectrum.personas:builtin_personas",
    "NO_PERSONA": "valuespectrum.personas:NO_PERSONA",
    "Value": "valuespectrum.values:Value",
    "HigherOrder": "valuespectrum.values:HigherOrder",
    "CIRCUMPLEX": "valuespectrum.values:CIRCUMPLEX",
    "parse_value": "valuespectrum.values:parse_value",
}
_SUBMODULES = {"steering", "scoring", "probes", "backends", "runs", "reports", "results", "run_kit"}

__all__ = [
    "CIRCUMPLEX",
    "NO_PERSONA",
    "ActivationAccess",
    "Backend",
    "BrowseStep",
    "BrowseSummary",
    "GroupSummary",
    "HigherOrder",
    "Persona",
    "Probe",
    "RunRecord",
    "RunResult",
    "RunSummary",
    "ScoreLine",
    "SteeringSummary",
    "Value",
    "__version__",
    "activation_access",
    "builtin_personas",
    "create_backend",
    "evaluate",
    "interpret",
    "list_backends",
    "list_banks",
    "load_bank",
    "load_items",
    "parse_value",
    "read_browse_summary",
    "read_run",
    "read_steering_summary",
    "register_backend",
    "score",
]

if TYPE_CHECKING:
    from valuespectrum.api import RunResult, evaluate, read_run, score
    from valuespectrum.backends.base import ActivationAccess, Backend, activation_access
    from valuespectrum.backends.registry import create_backend, list_backends, register_backend
    from valuespectrum.personas import NO_PERSONA, Persona, builtin_personas
    from valuespectrum.probes.bank import list_banks, load_bank
    from valuespectrum.probes.importers import load_items
    from valuespectrum.probes.schema import Probe
    from valuespectrum.runs.browse_log import BrowseStep, BrowseSummary, read_browse_summary
    from valuespectrum.runs.log import GroupSummary, RunRecord, RunSummary, ScoreLine
    from valuespectrum.scoring.interpret import interpret
    from valuespectrum.steering.summary import SteeringSummary, read_steering_summary
    from valuespectrum.values import CIRCUMPLEX, HigherOrder, Value, parse_value


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is not None:
        module, _, attr = target.partition(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"valuespectrum.{name}")
    raise AttributeError(f"module 'valuespectrum' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_SUBMODULES])
