"""Follow-up of what never arrived: a printable package and a notice to the sender.

When a job fails for good, ``FollowUp.settle`` writes the package (``faxd.followup.package``)
into the follow-up folder and queues a one-page notice to the sending unit as an
ordinary job (message type ``followup-notice``): it is dialled from the directory,
retried, confirmed and logged like any fax. ``settle`` is driven by the queue's state,
not by an event: it looks for failed jobs that have no follow-up entry in the
confirmation log yet, so a crash between the failure and the package loses nothing
(the daemon calls it after every job, at start and hourly).

Rules that keep it from feeding on itself:

- a failed notice never gets a notice or a package: it is recorded
  (``followup.notice_failed``) and raises ``alarm.followup_notice_failed``, once;
- drills have their own alarm and are left alone;
- a failure older than ``followup.within_hours`` when first seen (a database from
  before follow-up was on) gets nothing automatic: the reconciliation lists it.

Entries in the confirmation log: ``followup.package`` (file name, pages, SHA-256),
``followup.notice_queued`` (the notice's job), ``followup.notice_impossible`` (why not),
``followup.notice_failed``. None carries patient data.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from drivers.page import FaxPage
from faxd.config import Config
from faxd.followup.package import assemble
from faxd.followup.pages import FailedJob, notice_page, package_first_page
from faxd.generated import queue_generated_fax
from faxd.prepare import Renderer, message_type_words, transmission_pages
from faxd.store import JobState, NewJob, Store, iso, now_utc
from imaging import ArchivedPages, DocumentRenderError, render_pdf_isolated
from routing.directory import Directory, Unit
from routing.numbers import display_number

log = structlog.get_logger("faxd.followup")

NOTICE_TYPE = "followup-notice"
SENDER = "faxd-followup"
DRILL_TYPE = "drill"
# An entry with one of these events and the job's id means the job's follow-up is done.
DONE_EVENTS = ("followup.package", "followup.notice_queued", "followup.notice_impossible")

_CANDIDATES = f"""
SELECT j.id AS job_id, j.document_id, j.recipient, j.recipient_name, j.number, j.priority, j.attempts,
       COALESCE(j.outcome, '') AS outcome, COALESCE(j.reason, '') AS reason, j.updated,
       d.message_type, d.sender, d.reference, d.path, COALESCE(d.pages, 0) AS pages
FROM jobs j JOIN documents d ON d.id = j.document_id
WHERE j.state = ? AND j.updated >= ? AND d.message_type NOT IN ('{DRILL_TYPE}', '{NOTICE_TYPE}')
  AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.job_id = j.id AND a.event IN {DONE_EVENTS!r})
ORDER BY j.seq
"""

_FAILED_NOTICES = f"""
SELECT j.id AS job_id, j.document_id, COALESCE(j.outcome, '') AS outcome, COALESCE(j.reason, '') AS reason,
       d.reference, j.recipient
FROM jobs j JOIN documents d ON d.id = j.document_id
WHERE j.state = ? AND d.message_type = '{NOTICE_TYPE}'
  AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.job_id = j.id AND a.event = 'followup.notice_failed')
ORDER BY j.seq
"""


@dataclass(frozen=True, slots=True)
class Settled:
    """What follow-up did for one failed job."""

    job_id: str
    package: Path | None
    pages: int
    notice_job: str | None
    problem: str | None  # why no notice was queued, when one should have been


class FollowUp:
    """Owned by the daemon, shared by its runners (one lock: a job is followed up once)."""

    def __init__(self, config: Config, store: Store, directory: Callable[[], Directory], wake: Callable[[], None]):
        self.config = config  # replaced by the daemon on reload
        self.store = store
        self.directory = directory
        self.wake = wake  # tells idle runners a notice was queued
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.config.followup.enabled or self.config.followup.notify_sender

    def settle(self, renderer: Renderer | None = None) -> list[Settled]:
        """Follow up every failed job that has not been; record failed notices. Returns
        what was done. Raises on storage trouble (the caller retries later); a document
        whose pages cannot be rendered still gets a package (its first page says so)."""
        if not self.active:
            return []
        with self._lock:
            done = [self._one(row, renderer or render_pdf_isolated) for row in self._rows(_CANDIDATES, since=True)]
            for row in self._rows(_FAILED_NOTICES, since=False):
                self._notice_failed(row)
        return done

    def _rows(self, query: str, *, since: bool) -> list[sqlite3.Row]:
        conn = self.store._conn()
        cutoff = iso(now_utc() - timedelta(hours=self.config.followup.within_hours))
        cursor = conn.execute(query, (JobState.FAILED, cutoff) if since else (JobState.FAILED,))
        cursor.row_factory = sqlite3.Row
        return list(cursor.fetchall())

    # -- one failed job ----------------------------------------------------------------

    def _one(self, row: sqlite3.Row, renderer: Renderer) -> Settled:
        directory = self.directory()
        sender = directory.get(row["sender"])
        failed = FailedJob(
            job_id=row["job_id"],
            document_id=row["document_id"],
            reference=row["reference"],
            message_type=message_type_words(row["message_type"] or ""),
            sender_name=sender.name if sender else row["sender"],
            sender_fax=sender.fax_display if sender else None,
            recipient_name=row["recipient_name"],
            recipient_fax=display_number(row["number"]),
            outcome=row["outcome"],
            reason=row["reason"],
            attempts=row["attempts"],
            failed_at=datetime.fromisoformat(row["updated"]).astimezone(ZoneInfo(self.config.outage.timezone)),
            gateway_callback=self.config.station.callback,
        )
        package, pages = None, 0
        if self.config.followup.enabled:
            package, pages = self._write_package(failed, row, directory, renderer)
        recorded = _Recorder(self.store, failed, package, pages)
        problem = None
        notice_job = None
        if self.config.followup.notify_sender:
            if sender is None:
                problem = (
                    f"the sending unit {row['sender']} is not in the fax directory (version {directory.version}):"
                    " no notice can be faxed; tell the unit by phone"
                )
            else:
                notice_job = self._queue_notice(failed, sender, row, directory, recorded)
        if notice_job is None:
            with self.store.transaction() as conn:
                recorded(conn, iso(now_utc()), [], problem)
        if package is not None:
            log.info("followup.package_written", job_id=failed.job_id, file=package.name, pages=pages)
        if notice_job is not None:
            log.info("followup.notice_queued", job_id=failed.job_id, notice_job=notice_job, to=row["sender"])
            self.wake()
        if problem is not None:
            log.error("alarm.followup_notice_impossible", job_id=failed.job_id, sender=row["sender"], reason=problem)
        return Settled(failed.job_id, package, pages, notice_job, problem)

    def _write_package(
        self, failed: FailedJob, row: sqlite3.Row, directory: Directory, renderer: Renderer
    ) -> tuple[Path, int]:
        folder = self.config.followup_folder
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{failed.job_id}.pdf"
        archived = self._archive(failed.job_id)
        if archived is not None:
            note = "Därefter: försättsbladet och sidorna precis som de faxades (ur sidarkivet)."
            pages: Iterable[FaxPage] = ArchivedPages(archived)
        else:
            note = "Därefter: försättsbladet och sidorna som de skulle ha faxats (renderade nu; inget fullständigt försök arkiverat)."
            pages = transmission_pages(
                config=self.config,
                directory=directory,
                document=Path(row["path"]),
                document_pages=row["pages"],
                job_id=failed.job_id,
                message_type=row["message_type"],
                sender_id=row["sender"],
                recipient_id=row["recipient"],
                sent_at=now_utc().astimezone(),
                renderer=renderer,
            )
        try:
            return target, assemble(package_first_page(failed, pages_note=note), pages, target)
        except (DocumentRenderError, OSError, ValueError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError) and archived is None:
                raise  # the folder cannot be written: storage trouble, try again later
            log.warning("followup.pages_unavailable", job_id=failed.job_id, error=type(exc).__name__)
            note = (
                f"Sidorna kunde inte tas fram ({type(exc).__name__}). Dokumentet finns i spoolens mapp "
                f"failed/ som {failed.document_id}.pdf."
            )
            return target, assemble(package_first_page(failed, pages_note=note), [], target)

    def _archive(self, job_id: str) -> Path | None:
        """The page archive of the job's latest attempt that began with page one, if kept."""
        row = (
            self.store._conn()
            .execute(
                "SELECT archive FROM attempts WHERE job_id = ? AND first_page = 0 AND archive IS NOT NULL"
                " ORDER BY id DESC LIMIT 1",
                (job_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        path = self.config.state / "archive" / row[0]
        return path if path.is_file() else None

    def _queue_notice(
        self, failed: FailedJob, sender: Unit, row: sqlite3.Row, directory: Directory, recorded: _Recorder
    ) -> str:
        _, job_id = queue_generated_fax(
            self.store,
            self.config.spool,
            notice_page(failed, package_written=recorded.package is not None),
            original_name="followup-notice.pdf",
            message_type=NOTICE_TYPE,
            sender=SENDER,
            reference=failed.job_id,
            directory_version=directory.version,
            job=NewJob(sender.id, sender.name, sender.fax, "sender", "follow-up notice", row["priority"]),
            then=lambda conn, at, document_id, job_id: recorded(conn, at, [job_id], None, notice_document=document_id),
        )
        return job_id

    def _notice_failed(self, row: sqlite3.Row) -> None:
        with self.store.transaction() as conn:
            self.store.chain.append(
                conn,
                iso(now_utc()),
                "followup.notice_failed",
                document_id=row["document_id"],
                job_id=row["job_id"],
                data={"about_job": row["reference"], "outcome": row["outcome"], "reason": row["reason"]},
            )
        # No notice about a notice: a person must phone the unit.
        log.error(
            "alarm.followup_notice_failed",
            job_id=row["job_id"],
            about_job=row["reference"],
            recipient=row["recipient"],
            outcome=row["outcome"],
            reason=f"the follow-up notice to {row['recipient']} failed: phone the unit about job {row['reference']}",
        )


class _Recorder:
    """Writes a failed job's follow-up entries inside the caller's transaction."""

    def __init__(self, store: Store, failed: FailedJob, package: Path | None, pages: int) -> None:
        self.store = store
        self.failed = failed
        self.package = package
        self.pages = pages

    def __call__(
        self,
        conn: sqlite3.Connection,
        at: str,
        notice_jobs: list[str],
        problem: str | None,
        *,
        notice_document: str | None = None,
    ) -> None:
        if self.package is not None:
            self._append(
                conn,
                at,
                "followup.package",
                {
                    "file": self.package.name,
                    "pages": self.pages,
                    "sha256": hashlib.sha256(self.package.read_bytes()).hexdigest(),
                    "outcome": self.failed.outcome,
                },
            )
        if notice_jobs:
            self._append(
                conn, at, "followup.notice_queued", {"notice_job": notice_jobs[0], "notice_document": notice_document}
            )
        if problem is not None:
            self._append(conn, at, "followup.notice_impossible", {"reason": problem})

    def _append(self, conn: sqlite3.Connection, at: str, event: str, data: dict[str, Any]) -> None:
        self.store.chain.append(
            conn, at, event, document_id=self.failed.document_id, job_id=self.failed.job_id, data=data
        )
