"""Versioned message contracts: the only thing the services share about each other."""

from contracts._cards import CardIssuedV1
from contracts._envelope import Contract, Envelope
from contracts._records import (
    Contact,
    Dose,
    KeyedPin,
    RecordMatchedV1,
    RecordRequestedV1,
    RecordUnmatchedV1,
    RegistryPatient,
)

#: Every published contract, in the order of the flow.
CONTRACTS: tuple[type[Contract], ...] = (
    RecordRequestedV1,
    RecordMatchedV1,
    RecordUnmatchedV1,
    CardIssuedV1,
)

__all__ = [
    "CONTRACTS",
    "CardIssuedV1",
    "Contact",
    "Contract",
    "Dose",
    "Envelope",
    "KeyedPin",
    "RecordMatchedV1",
    "RecordRequestedV1",
    "RecordUnmatchedV1",
    "RegistryPatient",
]
