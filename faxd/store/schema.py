"""The database's tables, and bringing an older database up to them.

``CREATE ... IF NOT EXISTS`` makes creating idempotent; columns added since a table
was first made are added by ``migrate`` (SQLite's ``ALTER TABLE ADD COLUMN`` is cheap
and safe inside the daemon's start-up). The confirmation log's table comes from
``faxd.audit``, which owns it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from faxd import audit

TABLES = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    original_name TEXT NOT NULL,
    path TEXT NOT NULL,
    received TEXT NOT NULL,
    state TEXT NOT NULL,
    message_type TEXT,
    sender TEXT,
    reference TEXT,
    event_date TEXT,
    pages INTEGER,
    directory_version TEXT,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY,
    id TEXT UNIQUE,
    document_id TEXT NOT NULL REFERENCES documents(id),
    recipient TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    number TEXT NOT NULL,
    roles TEXT NOT NULL,
    rule TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    directory_version TEXT NOT NULL,
    outcome TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, priority, next_attempt);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    modem TEXT NOT NULL,
    number TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    remote_id TEXT,
    pages_total INTEGER NOT NULL,
    first_page INTEGER NOT NULL DEFAULT 0,
    archive TEXT,
    pages_sent INTEGER NOT NULL DEFAULT 0,
    pages_confirmed INTEGER NOT NULL DEFAULT 0,
    bit_rate INTEGER,
    outcome TEXT,
    reason TEXT
);
-- One row the daemon writes to learn whether the database takes writes again.
CREATE TABLE IF NOT EXISTS probe (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS modems (
    name TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    updated TEXT NOT NULL
);
"""

SCHEMA = TABLES + audit.SCHEMA

# Columns added after a table was first created: (table, column, definition).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("attempts", "first_page", "INTEGER NOT NULL DEFAULT 0"),
    ("attempts", "archive", "TEXT"),
    # A resume that would reach another machine starts the document again (issue 13):
    # pages confirmed by attempts up to ``restart_after`` no longer count, and
    # ``resend_reason`` says why the whole document goes again (the cover sheet prints it).
    ("jobs", "restart_after", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "resend_reason", "TEXT"),
)


def create(conn: sqlite3.Connection) -> None:
    """Create what is missing and add columns an older faxd did not have."""
    # executescript() manages its own transaction; CREATE ... IF NOT EXISTS is idempotent.
    conn.executescript(SCHEMA)
    migrate(conn)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a database made by an older faxd up to this schema (columns added since)."""
    for table, column, definition in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    audit.migrate(conn)


def connect(path: Path) -> sqlite3.Connection:
    """A connection as the daemon and faxctl use it.

    WAL lets readers (``faxctl``) never block the daemon; ``synchronous=FULL`` makes a
    committed transaction survive a crash or a power cut, which the file queue's
    argument relies on (a file leaves ``work/`` only after its outcome is committed).
    """
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
