"""What a probe run asks: one trial per (model, persona, probe, variant, wording, label
order, repeat).

The plan is a pure function of the manifest, the probes and the personas, so the runner
(what to ask), resume (what is still missing) and ``vspec score`` (is the run complete?)
all count the same requests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from valuespectrum.manifest import ModelEntry, RunManifest
from valuespectrum.personas import NO_PERSONA, Persona
from valuespectrum.probes.schema import Probe
from valuespectrum.probes.wordings import Wording
from valuespectrum.runs.records import record_id
from valuespectrum.types import Order


@dataclass(frozen=True)
class Trial:
    """One request of a run."""

    record_id: str
    model: ModelEntry
    persona: Persona | None
    probe: Probe
    order: Order
    variant: str
    """``""`` for text probes; ``vision`` or ``text`` for probes with media."""
    wording: Wording | None = None
    """The wording asked (None: the default prompt of a run that names no wordings)."""
    repeat: int = 0
    seed: int | None = None
    """The sampling seed of a repeated request (None: the manifest's generation settings)."""

    @property
    def wording_id(self) -> str:
        return self.wording.id if self.wording else ""

    @property
    def persona_id(self) -> str:
        return self.persona.id if self.persona else NO_PERSONA


def modality_of(variant: str) -> str:
    """Records of text probes have no variant; media probes record vision or text."""
    return variant or "text"


def plan_trials(
    manifest: RunManifest, probes: Sequence[Probe], personas: Sequence[Persona | None]
) -> list[Trial]:
    """Every request the manifest asks, model by model, in a stable order."""
    orders: list[Order] = ["fwd", "rev"] if manifest.controls.reverse_labels else ["fwd"]
    wordings: list[Wording | None] = list(manifest.wordings) or [None]
    several = len(wordings) > 1  # ids name the wording only then (old ids stay valid)
    repeats = manifest.repeats
    base_seed = manifest.generation.seed if manifest.generation.seed is not None else manifest.seed
    out: list[Trial] = []
    for entry in manifest.models:
        for persona in personas:
            pid = persona.id if persona else NO_PERSONA
            if entry.personas is not None and pid not in entry.personas:
                continue  # this model is asked under some of the run's personas only
            for probe in probes:
                variants = list(entry.modalities or manifest.modalities) if probe.media else [""]
                for variant in variants:
                    for wording in wordings:
                        wid = wording.id if wording is not None and several else ""
                        for order in orders:
                            for r in range(repeats):
                                rid = record_id(
                                    entry.name,
                                    pid,
                                    probe.id,
                                    order,
                                    variant,
                                    wording=wid,
                                    repeat=r if repeats > 1 else None,
                                )
                                seed = base_seed + r if repeats > 1 else None
                                out.append(
                                    Trial(rid, entry, persona, probe, order, variant, wording, r, seed)
                                )
    return out


def batches(items: Sequence[Trial], size: int) -> Iterator[list[Trial]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
