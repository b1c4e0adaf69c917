"""The confirmation log: an append-only chain of Ed25519-signed entries in SQLite.

Each entry is signed over its own content and the previous entry's signature, so an
entry cannot be edited, removed, inserted or moved without breaking the chain at that
point; the signing key sits outside the state folder, so the chain cannot be rebuilt
by whoever can write the database; and the head is published elsewhere
(``faxd.audit.head``), so dropping the newest entries is caught too.

Entries are written in the same SQLite transaction as the state change they record,
so the log and the queue never disagree after a crash; the head is published after
the commit (``Chain.committed``), so a published head always exists in the database.
What ``faxctl log``, exports, reconciliation and reports show is derived from these
entries (``faxd.audit.view``), never from the queue's working tables.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from faxd.audit.head import HeadFile
from faxd.audit.keys import AuditError, Signer

log = structlog.get_logger("faxd.audit")

GENESIS = "0" * 128
TABLE = "audit"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    document_id TEXT,
    job_id TEXT,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    sig TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_event ON audit(event);
"""


def migrate(conn: sqlite3.Connection) -> None:
    """A database from before the signed chain has an HMAC chain whose key sat beside
    it, so it proves nothing; it is kept, renamed, and the signed chain starts afresh."""
    columns = {row[1] for row in conn.execute(f"PRAGMA table_info({TABLE})")}
    if "mac" in columns:
        conn.execute(f"ALTER TABLE {TABLE} RENAME TO audit_hmac_retired")
    conn.executescript(SCHEMA)


def message(prev: str, seq: int, at: str, event: str, document_id: str | None, job_id: str | None, data: str) -> bytes:
    """The bytes an entry's signature covers: everything it says, and its predecessor."""
    return json.dumps(
        [prev, seq, at, event, document_id, job_id, data], ensure_ascii=False, separators=(",", ":")
    ).encode()


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at: str
    event: str
    document_id: str | None
    job_id: str | None
    body: str  # the data as stored (JSON text), what the signature covers
    prev: str
    sig: str

    @property
    def data(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    def message(self, seq: int | None = None) -> bytes:
        return message(
            self.prev, self.seq if seq is None else seq, self.at, self.event, self.document_id, self.job_id, self.body
        )


def entries(conn: sqlite3.Connection) -> Iterator[Entry]:
    """Every entry in sequence order. Raises sqlite3.OperationalError if the table is gone."""
    for row in conn.execute(f"SELECT seq, at, event, document_id, job_id, data, prev, sig FROM {TABLE} ORDER BY seq"):
        yield Entry(*row)


def outage_in_force(conn: sqlite3.Connection) -> bool:
    """Whether the latest outage entry declares one (``faxd.outage`` writes them)."""
    row = conn.execute(
        f"SELECT event FROM {TABLE} WHERE event IN ('outage.started', 'outage.ended') ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return bool(row) and row[0] == "outage.started"


class Chain:
    """Appends signed entries and publishes the head once they are committed."""

    def __init__(self, signer: Signer | None, head: HeadFile | None, *, checkpoint_every: int = 100) -> None:
        self.signer = signer
        self.head = head
        self.checkpoint_every = checkpoint_every
        self._pending = threading.local()
        self._lock = threading.Lock()
        self._published = 0
        # In every checkpoint: which log it belongs to, so a verifier reading a journal
        # that holds other installations' checkpoints compares only this log's.
        self.key = signer.verifier().fingerprint if signer is not None else None

    def append(
        self,
        conn: sqlite3.Connection,
        at: str,
        event: str,
        *,
        document_id: str | None = None,
        job_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Add one entry; the caller holds the write transaction. Raises AuditError when
        this process has no signing key (e.g. an auditor's read-only faxctl)."""
        if self.signer is None:
            raise AuditError("the confirmation log cannot be written without its signing key: run as the daemon's user")
        row = conn.execute(f"SELECT seq, sig FROM {TABLE} ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        body = json.dumps(dict(data or {}), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        sig = self.signer.sign(message(prev, seq, at, event, document_id, job_id, body)).hex()
        conn.execute(
            f"INSERT INTO {TABLE} (seq, at, event, document_id, job_id, data, prev, sig) VALUES (?,?,?,?,?,?,?,?)",
            (seq, at, event, document_id, job_id, body, prev, sig),
        )
        entry = Entry(seq, at, event, document_id, job_id, body, prev, sig)
        if getattr(self._pending, "entry", None) is None:
            self._pending.first = seq  # the transaction's first entry, for the checkpoint rule
        self._pending.entry = entry
        return entry

    def committed(self) -> None:
        """The transaction that appended is committed: publish its last entry as the head."""
        entry: Entry | None = getattr(self._pending, "entry", None)
        first: int = getattr(self._pending, "first", 0)
        self._pending.entry = None
        if entry is None:
            return
        with self._lock:
            # Two threads may commit seq 7 and 8 and publish 8 first; 8 covers 7.
            if entry.seq <= self._published:
                return
            self._published = entry.seq
            if self.head is not None:
                self.head.publish(entry.seq, entry.sig, entry.at)
            # Entry 1, and every transaction whose entries reach a multiple of checkpoint_every
            # (not only one that ends on it: a document's routing writes several at once).
            if first == 1 or (first - 1) // self.checkpoint_every < entry.seq // self.checkpoint_every:
                log.info("audit.checkpoint", seq=entry.seq, signature=entry.sig, key=self.key)

    def rolled_back(self) -> None:
        self._pending.entry = None
