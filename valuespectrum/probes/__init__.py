"""Probes: the item schema, the built-in banks, instrument keys and item-file importers."""

from valuespectrum.probes.bank import list_banks, load_bank
from valuespectrum.probes.importers import ColumnMapping, load_items
from valuespectrum.probes.instruments import InstrumentKey, apply_key, instrument_key, list_instruments
from valuespectrum.probes.schema import AnswerFormat, Option, Probe, ProbeBank

__all__ = [
    "AnswerFormat",
    "ColumnMapping",
    "InstrumentKey",
    "Option",
    "Probe",
    "ProbeBank",
    "apply_key",
    "instrument_key",
    "list_banks",
    "list_instruments",
    "load_bank",
    "load_items",
]
