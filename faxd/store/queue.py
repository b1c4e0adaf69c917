"""The queue's writes: documents and their jobs in, jobs claimed, attempts recorded.

Every state change and its confirmation-log entry (``faxd.audit``) are one
transaction, so the queue and the log can never disagree after a crash.

Job states::

    queued --claim--> active --confirmed--> confirmed            (final)
                        |  `--retryable, tries left--> queued (next_attempt_at later)
                        `--not retryable / no tries left--> failed  (final, kept for follow-up)

Documents are ``routed`` while any job is open, then ``done`` (all confirmed) or
``follow_up`` (some job failed); ``quarantined`` documents never got jobs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from faxd import audit
from faxd.store.base import Database
from faxd.store.model import JOB_COLUMNS, AttemptEnd, DocumentState, Job, JobState, NewJob, iso, now_utc


class QueueStore(Database):
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
        hold_without_outage: bool = False,
        then: Callable[[sqlite3.Connection, str, list[str]], None] | None = None,
    ) -> list[str]:
        """Record a routed document and its jobs; returns the job ids (also the job references).
        ``hold_without_outage``: if no outage is in force the jobs are ``held``, decided in
        the same transaction that `faxd.outage.start` releases held jobs in, so none is missed.
        ``then(conn, at, job_ids)`` runs last in the same transaction (follow-up records why
        it queued a notice, so the notice and its reason are committed together)."""
        at = iso(now_utc())
        ids: list[str] = []
        with self.transaction() as conn:
            held = hold_without_outage and not audit.outage_in_force(conn)
            conn.execute(
                "INSERT INTO documents (id, sha256, original_name, path, received, state, message_type, sender,"
                " reference, event_date, pages, directory_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    document_id,
                    sha256,
                    original_name,
                    str(path),
                    at,
                    DocumentState.HELD if held else DocumentState.ROUTED,
                    message_type,
                    sender,
                    reference,
                    event_date,
                    pages,
                    directory_version,
                ),
            )
            self._audit(
                conn,
                at,
                "document.routed",
                document_id=document_id,
                # No file name in the log: a care system may name files after the patient.
                data={
                    "sha256": sha256,
                    "message_type": message_type,
                    "sender": sender,
                    "reference": reference,
                    "event_date": event_date,
                    "pages": pages,
                    "directory_version": directory_version,
                    "recipients": [j.recipient for j in jobs],
                    "held": held,
                },
            )
            for job in jobs:
                cur = conn.execute(
                    "INSERT INTO jobs (document_id, recipient, recipient_name, number, roles, rule, priority, state,"
                    " next_attempt, created, updated, directory_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        document_id,
                        job.recipient,
                        job.recipient_name,
                        job.number,
                        job.roles,
                        job.rule,
                        job.priority,
                        JobState.HELD if held else JobState.QUEUED,
                        at,
                        at,
                        at,
                        directory_version,
                    ),
                )
                job_id = f"FX-{at[:10].replace('-', '')}-{cur.lastrowid:05d}"
                conn.execute("UPDATE jobs SET id = ? WHERE seq = ?", (job_id, cur.lastrowid))
                self._audit(
                    conn,
                    at,
                    "job.created",
                    document_id=document_id,
                    job_id=job_id,
                    data={
                        "recipient": job.recipient,
                        "recipient_name": job.recipient_name,
                        "number": job.number,
                        "roles": job.roles,
                        "rule": job.rule,
                        "priority": job.priority,
                        "directory_version": directory_version,
                    },
                )
                ids.append(job_id)
            if then is not None:
                then(conn, at, ids)
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
            self._audit(
                conn,
                at,
                "document.quarantined",
                document_id=document_id,
                data={
                    "sha256": sha256,
                    "reason": reason,
                },
            )

    def document_states(self) -> dict[str, str]:
        return dict(self._conn().execute("SELECT id, state FROM documents").fetchall())

    # -- jobs and attempts -------------------------------------------------------------

    def claim_next_job(self, modem: str, now: datetime) -> Job | None:
        """Take the most urgent due job for ``modem``; it becomes active. None if none is due."""
        with self.transaction() as conn:
            cur = conn.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs j JOIN documents d ON d.id = j.document_id"
                " WHERE j.state = ? AND j.next_attempt <= ?"
                # One call per number at a time across all modems: a second modem dialling
                # a number that is already in a call gets busy, or overlaps two faxes.
                " AND j.number NOT IN (SELECT number FROM jobs WHERE state = ?)"
                " ORDER BY j.priority, j.next_attempt, j.seq LIMIT 1",
                (JobState.QUEUED, iso(now), JobState.ACTIVE),
            )
            cur.row_factory = sqlite3.Row
            row = cur.fetchone()
            if row is None:
                return None
            conn.execute("UPDATE jobs SET state = ?, updated = ? WHERE id = ?", (JobState.ACTIVE, iso(now), row["id"]))
        return Job.from_row(row)

    def next_due_time(self) -> datetime | None:
        row = self._conn().execute("SELECT MIN(next_attempt) FROM jobs WHERE state = ?", (JobState.QUEUED,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def update_job_number(self, job_id: str, number: str, directory_version: str, why: str) -> None:
        """The directory changed the recipient's number after routing; the job follows it."""
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET number = ?, directory_version = ?, updated = ? WHERE id = ?",
                (number, directory_version, at, job_id),
            )
            self._audit(
                conn,
                at,
                "job.number_changed",
                job_id=job_id,
                data={
                    "number": number,
                    "directory_version": directory_version,
                    "why": why,
                },
            )

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
        sent_again_in_full: str | None = None,
    ) -> int:
        """Record a call about to be placed. ``first_page`` is the 0-based document page the
        call starts at after its cover sheet (non-zero when resuming); ``sent_again_in_full``
        why a job that had confirmed pages sends the whole document again (faxd/runner_resume.py)."""
        at = iso(now)
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO attempts (job_id, modem, number, started, pages_total, first_page, archive)"
                " VALUES (?,?,?,?,?,?,?)",
                (job.id, modem, number, at, pages_total, first_page, archive),
            )
            conn.execute("UPDATE jobs SET attempts = attempts + 1, updated = ? WHERE id = ?", (at, job.id))
            self._audit(
                conn,
                at,
                "attempt.started",
                document_id=job.document_id,
                job_id=job.id,
                data={
                    "attempt": cur.lastrowid,
                    "modem": modem,
                    "number": number,
                    "pages_total": pages_total,
                    "first_page": first_page,
                    "archive": archive,
                    **({"sent_again_in_full": sent_again_in_full} if sent_again_in_full else {}),
                },
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def page_confirmed(
        self,
        attempt_id: int,
        job_id: str,
        page_index: int,
        *,
        bit_rate: int | None = None,
        coding: str | None = None,
        ecm: bool | None = None,
    ) -> None:
        """Record one confirmed page with how it went on the line (rate, coding, ECM)."""
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute(
                "UPDATE attempts SET pages_confirmed = MAX(pages_confirmed, ?), pages_sent = MAX(pages_sent, ?)"
                " WHERE id = ?",
                (page_index + 1, page_index + 1, attempt_id),
            )
            self._audit(
                conn,
                at,
                "page.confirmed",
                job_id=job_id,
                data={
                    "attempt": attempt_id,
                    "page": page_index + 1,
                    "bit_rate": bit_rate,
                    "coding": coding,
                    "ecm": ecm,
                },
            )

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
                (
                    at,
                    end.remote_id,
                    end.pages_sent,
                    end.pages_confirmed,
                    end.bit_rate,
                    end.outcome,
                    end.reason,
                    attempt_id,
                ),
            )
            conn.execute(
                "UPDATE jobs SET state = ?, outcome = ?, reason = ?, updated = ?, next_attempt = ? WHERE id = ?",
                (job_state, end.outcome, end.reason, at, iso(next_attempt) if next_attempt else at, job.id),
            )
            self._audit(
                conn,
                at,
                "attempt.ended",
                document_id=job.document_id,
                job_id=job.id,
                data={
                    "attempt": attempt_id,
                    "outcome": end.outcome,
                    "reason": end.reason,
                    "remote_id": end.remote_id,
                    "pages_sent": end.pages_sent,
                    "pages_confirmed": end.pages_confirmed,
                    "job_state": job_state,
                    "bit_rate": end.bit_rate,
                    "coding": end.coding,
                    "ecm": end.ecm,
                },
            )
            self._settle_document(conn, job.document_id, at)

    def fail_job(self, job: Job, outcome: str, reason: str) -> None:
        """End a job without a call (e.g. its unit left the directory, or its document cannot be rendered)."""
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET state = ?, outcome = ?, reason = ?, updated = ? WHERE id = ?",
                (JobState.FAILED, outcome, reason, at, job.id),
            )
            self._audit(
                conn,
                at,
                "job.failed",
                document_id=job.document_id,
                job_id=job.id,
                data={"outcome": outcome, "reason": reason},
            )
            self._settle_document(conn, job.document_id, at)

    def _settle_document(self, conn: sqlite3.Connection, document_id: str, at: str) -> None:
        states = {r[0] for r in conn.execute("SELECT state FROM jobs WHERE document_id = ?", (document_id,))}
        if states & {JobState.QUEUED, JobState.ACTIVE, JobState.HELD}:
            return
        final = DocumentState.DONE if states == {JobState.CONFIRMED} else DocumentState.FOLLOW_UP
        conn.execute("UPDATE documents SET state = ? WHERE id = ?", (final, document_id))
        self._audit(conn, at, f"document.{final}", document_id=document_id)

    def release_job(self, job: Job) -> None:
        """Put a job its runner could not finish back in the queue, closing an attempt it
        left open and giving that attempt's try back (the runner failed, not the call).

        A job that is no longer active is left as it is, with no entry: its outcome is
        recorded (e.g. confirmed, and then filing the document failed on a full or
        read-only spool), and a ``job.released`` would tell the log it went back to the
        queue while the jobs table keeps it confirmed."""
        at = iso(now_utc())
        reason = "the runner failed during the attempt; queued again"
        with self.transaction() as conn:
            state = conn.execute("SELECT state FROM jobs WHERE id = ?", (job.id,)).fetchone()
            if state is None or state[0] != JobState.ACTIVE:
                return
            cut_off = [
                r[0] for r in conn.execute("SELECT id FROM attempts WHERE job_id = ? AND ended IS NULL", (job.id,))
            ]
            conn.execute(
                "UPDATE attempts SET ended = ?, outcome = 'interrupted', reason = ? WHERE job_id = ? AND ended IS NULL",
                (at, reason, job.id),
            )
            conn.execute(
                "UPDATE jobs SET state = ?, next_attempt = ?, updated = ?, attempts = MAX(attempts - ?, 0) WHERE id = ?",
                (JobState.QUEUED, at, at, len(cut_off), job.id),
            )
            self._audit(
                conn,
                at,
                "job.released",
                document_id=job.document_id,
                job_id=job.id,
                data={"attempts": cut_off, "reason": reason},
            )

    def recover_interrupted(self, now: datetime) -> int:
        """After a crash: close attempts left open and put their jobs back in the queue."""
        at = iso(now)
        with self.transaction() as conn:
            open_attempts = conn.execute("SELECT id, job_id FROM attempts WHERE ended IS NULL").fetchall()
            for attempt_id, job_id in open_attempts:
                reason = "the daemon stopped during the call; the job is queued again"
                conn.execute(
                    "UPDATE attempts SET ended = ?, outcome = ?, reason = ? WHERE id = ?",
                    (at, "interrupted", reason, attempt_id),
                )
                self._audit(
                    conn, at, "attempt.interrupted", job_id=job_id, data={"attempt": attempt_id, "reason": reason}
                )
            active = conn.execute(
                "UPDATE jobs SET state = ?, next_attempt = ?, updated = ? WHERE state = ?",
                (JobState.QUEUED, at, at, JobState.ACTIVE),
            ).rowcount
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

    def probe_write(self) -> None:
        """A small real write: raises when the
        database cannot take writes, e.g. on a full or read-only disk."""
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO probe (id, at) VALUES (1, ?)", (iso(now_utc()),))
