"""One database, one connection per thread (sqlite3 objects are not shareable)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from faxd import audit
from faxd.store import schema


class Database:
    def __init__(self, path: Path, chain: audit.Chain | None = None) -> None:
        """``chain`` signs the log's entries; without one the store can be read but any
        write that logs raises AuditError (an auditor's faxctl has no signing key)."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.chain = chain or audit.Chain(None, None)
        self._local = threading.local()
        schema.create(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = schema.connect(self.path)
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        # IMMEDIATE: take the write lock up front so two writers never deadlock mid-way.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed (a full disk): SQLite then keeps the
            # transaction open, and every later BEGIN on this connection would fail.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self.chain.rolled_back()
            raise
        self.chain.committed()

    def _audit(self, conn: sqlite3.Connection, at: str, event: str, **kw: Any) -> None:
        self.chain.append(conn, at, event, **kw)

    def verify_log(self, verifier: audit.Verifier | None = None) -> audit.Verification:
        """Verify with ``verifier`` (default: the public half of this store's signing key)
        against the heads in the chain's head file."""
        if verifier is None:
            if self.chain.signer is None:
                raise audit.AuditError("no public key given to verify the log with")
            verifier = self.chain.signer.verifier()
        head = self.chain.head
        heads = head.read()[0] if head else []
        return audit.verify(self._conn(), verifier, heads, head_expected=head is not None)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
