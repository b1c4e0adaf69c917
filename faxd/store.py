"""Queue and state in SQLite: documents, one job per document and recipient, attempts.

SQLite in WAL mode with ``synchronous=FULL``: a committed change survives a crash or a
power cut, readers (``faxctl``) never block the daemon, and one file is all an operator
has to back up. Every state change and its confirmation-log entry (``faxd.audit``) are
one transaction.

Job states::

    queued --claim--> active --confirmed--> confirmed            (final)
                        |  `--retryable, tries left--> queued (next_attempt_at later)
                        `--not retryable / no tries left--> failed  (final, kept for follow-up)

Documents are ``routed`` while any job is open, then ``done`` (all confirmed) or
``follow_up`` (some job failed); ``quarantined`` documents never got jobs.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faxd import audit


class JobState(enum.StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class DocumentState(enum.StrEnum):
    ROUTED = "routed"
    QUARANTINED = "quarantined"
    DONE = "done"
    FOLLOW_UP = "follow_up"


SCHEMA = (
    """
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
CREATE TABLE IF NOT EXISTS modems (
    name TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    updated TEXT NOT NULL
);
"""
    + audit.SCHEMA
)


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class NewJob:
    recipient: str
    recipient_name: str
    number: str
    roles: str
    rule: str
    priority: int


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    document_id: str
    document_path: Path
    document_sha256: str
    message_type: str
    sender: str
    recipient: str
    recipient_name: str
    number: str
    priority: int
    attempts: int
    directory_version: str
    document_pages: int
    created: datetime
    pages_done: int  # document pages the recipient confirmed in earlier attempts: resume after them


@dataclass(frozen=True, slots=True)
class AttemptEnd:
    outcome: str
    reason: str
    remote_id: str | None
    pages_sent: int
    pages_confirmed: int
    bit_rate: int | None


class Store:
    """One database, one connection per thread (sqlite3 objects are not shareable)."""

    def __init__(self, path: Path, state_dir: Path | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._key = audit.load_key(state_dir or path.parent)
        self._local = threading.local()
        # executescript() manages its own transaction; CREATE ... IF NOT EXISTS is idempotent.
        self._conn().executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a database made by an older faxd up to this schema (columns added since)."""
        columns = {row[1] for row in self._conn().execute("PRAGMA table_info(attempts)")}
        if "first_page" not in columns:
            self._conn().execute("ALTER TABLE attempts ADD COLUMN first_page INTEGER NOT NULL DEFAULT 0")
        if "archive" not in columns:
            self._conn().execute("ALTER TABLE attempts ADD COLUMN archive TEXT")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
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

    # -- documents ---------------------------------------------------------------------

    def add_routed_document(
        self,
        *,
        document_id: str,
        sha256: str,
        original_name: str,
        path: Path,
        message_type: str,
        sender: str,
        reference: str | None,
        event_date: str | None,
        pages: int,
        directory_version: str,
        jobs: Sequence[NewJob],
    ) -> list[str]:
        """Record a routed document and its jobs; returns the job ids (also the job references)."""
        at = iso(now_utc())
        ids: list[str] = []
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO documents (id, sha256, original_name, path, received, state, message_type, sender,"
                " reference, event_date, pages, directory_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (document_id, sha256, original_name, str(path), at, DocumentState.ROUTED, message_type, sender,
                 reference, event_date, pages, directory_version),
            )
            self._audit(conn, at, "document.routed", document_id=document_id, data={
                "sha256": sha256, "original_name": original_name, "message_type": message_type,
                "sender": sender, "reference": reference, "pages": pages, "directory_version": directory_version,
                "recipients": [j.recipient for j in jobs],
            })
            for job in jobs:
                cur = conn.execute(
                    "INSERT INTO jobs (document_id, recipient, recipient_name, number, roles, rule, priority, state,"
                    " next_attempt, created, updated, directory_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (document_id, job.recipient, job.recipient_name, job.number, job.roles, job.rule, job.priority,
                     JobState.QUEUED, at, at, at, directory_version),
                )
                job_id = f"FX-{at[:10].replace('-', '')}-{cur.lastrowid:05d}"
                conn.execute("UPDATE jobs SET id = ? WHERE seq = ?", (job_id, cur.lastrowid))
                self._audit(conn, at, "job.created", document_id=document_id, job_id=job_id, data={
                    "recipient": job.recipient, "number": job.number, "roles": job.roles, "rule": job.rule,
                })
                ids.append(job_id)
        return ids

    def add_quarantined_document(
        self, *, document_id: str, sha256: str, original_name: str, path: Path, reason: str
    ) -> None:
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO documents (id, sha256, original_name, path, received, state, reason)"
                " VALUES (?,?,?,?,?,?,?)",
                (document_id, sha256, original_name, str(path), at, DocumentState.QUARANTINED, reason),
            )
            self._audit(conn, at, "document.quarantined", document_id=document_id, data={
                "sha256": sha256, "original_name": original_name, "reason": reason,
            })

    def document_states(self) -> dict[str, str]:
        return dict(self._conn().execute("SELECT id, state FROM documents").fetchall())

    # -- jobs and attempts -------------------------------------------------------------

    def claim_next_job(self, modem: str, now: datetime) -> Job | None:
        """Take the most urgent due job for ``modem``; it becomes active. None if none is due."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT j.id, j.document_id, d.path, d.sha256, d.message_type, d.sender, j.recipient,"
                 " j.recipient_name, j.number, j.priority, j.attempts, j.directory_version, d.pages,"
                " j.created, (SELECT COALESCE(MAX(a.first_page + MAX(a.pages_confirmed - 1, 0)), 0)"
                " FROM attempts a WHERE a.job_id = j.id) FROM jobs j JOIN documents d ON d.id = j.document_id"
                " WHERE j.state = ? AND j.next_attempt <= ? ORDER BY j.priority, j.next_attempt, j.seq LIMIT 1",
                (JobState.QUEUED, iso(now)),
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE jobs SET state = ?, updated = ? WHERE id = ?", (JobState.ACTIVE, iso(now), row[0]))
        return Job(row[0], row[1], Path(row[2]), row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10],
                   row[11], row[12], datetime.fromisoformat(row[13]), row[14])

    def next_due_time(self) -> datetime | None:
        row = self._conn().execute(
            "SELECT MIN(next_attempt) FROM jobs WHERE state = ?", (JobState.QUEUED,)
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def update_job_number(self, job_id: str, number: str, directory_version: str, why: str) -> None:
        """The directory changed the recipient's number after routing; the job follows it."""
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET number = ?, directory_version = ?, updated = ? WHERE id = ?",
                         (number, directory_version, at, job_id))
            self._audit(conn, at, "job.number_changed", job_id=job_id, data={
                "number": number, "directory_version": directory_version, "why": why,
            })

    def start_attempt(
        self,
        job: Job,
        modem: str,
        number: str,
        pages_total: int,
        now: datetime,
        *,
        first_page: int = 0,
        archive: str | None = None,
    ) -> int:
        """Record a call about to be placed. ``first_page`` is the 0-based document page the
        call starts at after its cover sheet (non-zero when resuming)."""
        at = iso(now)
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO attempts (job_id, modem, number, started, pages_total, first_page, archive)"
                " VALUES (?,?,?,?,?,?,?)",
                (job.id, modem, number, at, pages_total, first_page, archive),
            )
            conn.execute("UPDATE jobs SET attempts = attempts + 1, updated = ? WHERE id = ?", (at, job.id))
            self._audit(conn, at, "attempt.started", document_id=job.document_id, job_id=job.id, data={
                "attempt": cur.lastrowid, "modem": modem, "number": number, "pages_total": pages_total,
                "first_page": first_page, "archive": archive,
            })
            assert cur.lastrowid is not None
            return cur.lastrowid

    def page_confirmed(self, attempt_id: int, job_id: str, page_index: int) -> None:
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute(
                "UPDATE attempts SET pages_confirmed = MAX(pages_confirmed, ?), pages_sent = MAX(pages_sent, ?)"
                " WHERE id = ?", (page_index + 1, page_index + 1, attempt_id))
            self._audit(conn, at, "page.confirmed", job_id=job_id, data={"attempt": attempt_id, "page": page_index + 1})

    def finish_attempt(
        self,
        attempt_id: int,
        job: Job,
        end: AttemptEnd,
        *,
        job_state: JobState,
        next_attempt: datetime | None,
        count_attempt: bool = True,
    ) -> None:
        """Close an attempt and move its job on. ``count_attempt=False`` gives the try back
        (the modem failed, not the call), so a broken modem cannot use up a job's tries."""
        at = iso(now_utc())
        with self.transaction() as conn:
            if not count_attempt:
                conn.execute("UPDATE jobs SET attempts = attempts - 1 WHERE id = ?", (job.id,))
            conn.execute(
                "UPDATE attempts SET ended = ?, remote_id = ?, pages_sent = MAX(pages_sent, ?),"
                " pages_confirmed = MAX(pages_confirmed, ?), bit_rate = ?, outcome = ?, reason = ? WHERE id = ?",
                (at, end.remote_id, end.pages_sent, end.pages_confirmed, end.bit_rate, end.outcome, end.reason,
                 attempt_id),
            )
            conn.execute(
                "UPDATE jobs SET state = ?, outcome = ?, reason = ?, updated = ?, next_attempt = ? WHERE id = ?",
                (job_state, end.outcome, end.reason, at, iso(next_attempt) if next_attempt else at, job.id),
            )
            self._audit(conn, at, "attempt.ended", document_id=job.document_id, job_id=job.id, data={
                "attempt": attempt_id, "outcome": end.outcome, "reason": end.reason, "remote_id": end.remote_id,
                "pages_sent": end.pages_sent, "pages_confirmed": end.pages_confirmed, "job_state": job_state,
            })
            self._settle_document(conn, job.document_id, at)

    def fail_job(self, job: Job, outcome: str, reason: str) -> None:
        """End a job without a call (e.g. its unit left the directory, or its document cannot be rendered)."""
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET state = ?, outcome = ?, reason = ?, updated = ? WHERE id = ?",
                         (JobState.FAILED, outcome, reason, at, job.id))
            self._audit(conn, at, "job.failed", document_id=job.document_id, job_id=job.id,
                        data={"outcome": outcome, "reason": reason})
            self._settle_document(conn, job.document_id, at)

    def _settle_document(self, conn: sqlite3.Connection, document_id: str, at: str) -> None:
        states = {r[0] for r in conn.execute("SELECT state FROM jobs WHERE document_id = ?", (document_id,))}
        if states & {JobState.QUEUED, JobState.ACTIVE}:
            return
        final = DocumentState.DONE if states == {JobState.CONFIRMED} else DocumentState.FOLLOW_UP
        conn.execute("UPDATE documents SET state = ? WHERE id = ?", (final, document_id))
        self._audit(conn, at, f"document.{final}", document_id=document_id)

    def release_job(self, job: Job) -> None:
        """Put a job its runner could not finish back in the queue, closing an attempt it
        left open, without counting the try."""
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute(
                "UPDATE attempts SET ended = ?, outcome = 'interrupted', reason = ? WHERE job_id = ? AND ended IS NULL",
                (at, "the runner failed during the attempt; queued again", job.id),
            )
            conn.execute("UPDATE jobs SET state = ?, next_attempt = ?, updated = ? WHERE id = ? AND state = ?",
                         (JobState.QUEUED, at, at, job.id, JobState.ACTIVE))
            self._audit(conn, at, "job.released", document_id=job.document_id, job_id=job.id)

    def recover_interrupted(self, now: datetime) -> int:
        """After a crash: close attempts left open and put their jobs back in the queue."""
        at = iso(now)
        with self.transaction() as conn:
            open_attempts = conn.execute("SELECT id, job_id FROM attempts WHERE ended IS NULL").fetchall()
            for attempt_id, job_id in open_attempts:
                reason = "the daemon stopped during the call; the job is queued again"
                conn.execute("UPDATE attempts SET ended = ?, outcome = ?, reason = ? WHERE id = ?",
                             (at, "interrupted", reason, attempt_id))
                self._audit(conn, at, "attempt.interrupted", job_id=job_id, data={"attempt": attempt_id})
            active = conn.execute("UPDATE jobs SET state = ?, next_attempt = ?, updated = ? WHERE state = ?",
                                  (JobState.QUEUED, at, at, JobState.ACTIVE)).rowcount
        return max(active, len(open_attempts))

    def document_finished(self, document_id: str) -> DocumentState | None:
        row = self._conn().execute("SELECT state FROM documents WHERE id = ?", (document_id,)).fetchone()
        return DocumentState(row[0]) if row else None

    def set_document_path(self, document_id: str, path: Path) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE documents SET path = ? WHERE id = ?", (str(path), document_id))

    # -- modems ------------------------------------------------------------------------

    def set_modem_state(self, name: str, device: str, state: str, detail: str | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO modems (name, device, state, detail, updated) VALUES (?,?,?,?,?)"
                " ON CONFLICT(name) DO UPDATE SET device=excluded.device, state=excluded.state,"
                " detail=excluded.detail, updated=excluded.updated",
                (name, device, state, detail, iso(now_utc())),
            )

    # -- reading, for faxctl -----------------------------------------------------------

    def confirmation_log(self) -> list[dict[str, Any]]:
        """Every attempt, oldest first, in the shape of ``faxctl log --json``."""
        rows = self._conn().execute(
            "SELECT a.id, a.job_id, d.id, d.sha256, d.message_type, j.recipient, j.recipient_name, a.number,"
            " a.remote_id, a.pages_total, a.pages_sent, a.pages_confirmed, a.bit_rate, a.started, a.ended,"
            " a.outcome, a.reason, a.modem, j.directory_version, a.archive"
            " FROM attempts a JOIN jobs j ON j.id = a.job_id JOIN documents d ON d.id = j.document_id"
            " ORDER BY a.id"
        ).fetchall()
        keys = ("attempt", "job_id", "document_id", "document_sha256", "message_type", "recipient",
                "recipient_name", "number", "remote_id", "pages_total", "pages_sent", "pages_confirmed",
                "bit_rate", "started", "ended", "outcome", "reason", "modem", "directory_version", "archive")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def jobs(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT j.id, j.document_id, d.message_type, j.recipient, j.number, j.priority, j.state,"
            " j.attempts, j.next_attempt, j.outcome, j.reason FROM jobs j JOIN documents d ON d.id = j.document_id"
            " ORDER BY j.seq"
        ).fetchall()
        keys = ("job_id", "document_id", "message_type", "recipient", "number", "priority", "state", "attempts",
                "next_attempt", "outcome", "reason")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def quarantined(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT id, original_name, received, reason, path FROM documents WHERE state = ? ORDER BY received",
            (DocumentState.QUARANTINED,),
        ).fetchall()
        return [dict(zip(("document_id", "original_name", "received", "reason", "path"), r, strict=True))
                for r in rows]

    def modems(self) -> list[dict[str, Any]]:
        rows = self._conn().execute("SELECT name, device, state, detail, updated FROM modems ORDER BY name")
        return [dict(zip(("name", "device", "state", "detail", "updated"), r, strict=True)) for r in rows]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
