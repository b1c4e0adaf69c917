"""The tamper-evident confirmation log: an append-only chain of entries in SQLite.

Each entry carries an HMAC over its own content and the previous entry's MAC, keyed
with a secret kept in the state folder (mode 0600). Editing, deleting or reordering
an entry breaks the chain at that point, and rebuilding the chain needs the key, which
an auditor's copy of the database does not carry. ``verify`` walks the chain.

Entries are written in the same SQLite transaction as the state change they record,
so the log and the queue can never disagree after a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    document_id TEXT,
    job_id TEXT,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    mac TEXT NOT NULL
);
"""


def load_key(state: Path) -> bytes:
    """The chain's key, created on first use; readable by the daemon's user only."""
    path = state / "audit.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    key = os.urandom(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key.hex() + "\n")
        out.flush()
        os.fsync(out.fileno())
    try:
        # link, not rename: if two processes race, the first key wins and both use it
        os.link(tmp, path)
    except FileExistsError:
        pass
    tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def _mac(key: bytes, prev: str, seq: int, at: str, event: str, document_id: str | None, job_id: str | None, data: str) -> str:
    message = json.dumps([prev, seq, at, event, document_id, job_id, data], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def append(
    conn: sqlite3.Connection,
    key: bytes,
    at: str,
    event: str,
    *,
    document_id: str | None = None,
    job_id: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Add one entry; the caller holds the write transaction."""
    row = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    body = json.dumps(dict(data or {}), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    mac = _mac(key, prev, seq, at, event, document_id, job_id, body)
    conn.execute(
        "INSERT INTO audit (seq, at, event, document_id, job_id, data, prev, mac) VALUES (?,?,?,?,?,?,?,?)",
        (seq, at, event, document_id, job_id, body, prev, mac),
    )


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(conn: sqlite3.Connection, key: bytes) -> Verification:
    """Walk the whole chain; report every entry that does not fit."""
    problems: list[str] = []
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for seq, at, event, document_id, job_id, data, prev, mac in conn.execute(
        "SELECT seq, at, event, document_id, job_id, data, prev, mac FROM audit ORDER BY seq"
    ):
        count += 1
        if seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next entry is {seq})")
        if prev != expected_prev:
            problems.append(f"entry {seq} does not follow the entry before it (chain broken)")
        if not hmac.compare_digest(mac, _mac(key, prev, seq, at, event, document_id, job_id, data)):
            problems.append(f"entry {seq} ({event} at {at}) was altered after it was written")
        expected_prev, expected_seq = mac, seq + 1
    return Verification(entries=count, problems=tuple(problems))
