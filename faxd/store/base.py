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
    def __init__(self, path: Path, state_dir: Path | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._key = audit.load_key(state_dir or path.parent)
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
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _audit(self, conn: sqlite3.Connection, at: str, event: str, **kw: Any) -> None:
        audit.append(conn, self._key, at, event, **kw)

    def verify_log(self) -> audit.Verification:
        return audit.verify(self._conn(), self._key)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
