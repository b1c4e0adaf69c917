"""The confirmation log: signed chain (``chain``), keys (``keys``), published head
(``head``), the view replayed from the entries (``view``) and verification (``verify``).
"""

from __future__ import annotations

from faxd.audit.chain import GENESIS, SCHEMA, Chain, Entry, entries, migrate, outage_in_force
from faxd.audit.head import Head, HeadFile, read_checkpoints
from faxd.audit.keys import AuditError, KeyMissing, Signer, Verifier, generate, load_signer, load_verifier
from faxd.audit.verify import Break, Problem, Verification, verify
from faxd.audit.view import LogView, replay

__all__ = [
    "GENESIS",
    "SCHEMA",
    "AuditError",
    "Break",
    "Chain",
    "Entry",
    "Head",
    "HeadFile",
    "KeyMissing",
    "LogView",
    "Problem",
    "Signer",
    "Verification",
    "Verifier",
    "entries",
    "generate",
    "load_signer",
    "load_verifier",
    "migrate",
    "outage_in_force",
    "read_checkpoints",
    "replay",
    "verify",
]
