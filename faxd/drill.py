"""The readiness drill: a one-page test fax to the region's own test recipient.

A gateway used only during outages can be broken for months without anyone noticing.
``[drill]`` names a unit of the fax directory (the region's test fax) and an interval;
the daemon starts a drill when the last one is older than that, and ``faxctl drill``
starts one at once. A drill is an ordinary job in the queue (message type ``drill``,
lowest priority, so it never delays a real fax), sent by whichever modem is free, with
a cover sheet and one page that says in Swedish and English that it is a test and
carries no patient data. Its attempts are in the confirmation log like any other, under
type ``drill``; ``drill.started`` and ``drill.passed``/``drill.failed`` entries mark it.

The result is read back from the job's state (``settle``), so a restart in the middle
loses nothing. A failed drill raises ``alarm.drill_failed``.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime, timedelta

import structlog
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from faxd.config import Config
from faxd.generated import queue_generated_fax
from faxd.store import JobState, NewJob, Store, iso, now_utc
from faxerrors import FaxError
from routing.directory import Directory

log = structlog.get_logger("faxd.drill")

MESSAGE_TYPE = "drill"
PRIORITY = 10_000  # after every real message type
SENDER = "faxd-drill"


class DrillError(FaxError):
    """A drill cannot be started (no [drill] table, or its recipient is not in the directory)."""


def test_page(station: str, at: datetime) -> bytes:
    """The drill's only page: it says it is a test, and nothing else."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    page.setFont("Helvetica-Bold", 40)
    page.drawCentredString(width / 2, height - 200, "PROVFAX / TEST FAX")
    page.setFont("Helvetica", 16)
    lines = [
        "Detta är ett provfax från faxgatewayen (beredskapsövning).",
        "Det innehåller inga patientuppgifter. Ingen åtgärd behövs.",
        "",
        "This is a readiness test from the fax gateway.",
        "It contains no patient data. No action is needed.",
        "",
        f"{station} — {at:%Y-%m-%d %H:%M} UTC",
    ]
    for i, text in enumerate(lines):
        page.drawCentredString(width / 2, height - 280 - i * 26, text)
    page.showPage()
    page.save()
    return out.getvalue()


def start_drill(config: Config, store: Store, directory: Directory, *, reason: str) -> str:
    """Queue a drill; returns its job id. Raises DrillError naming what is missing."""
    drill = config.ops.drill
    if drill is None:
        raise DrillError(f"{config.source}: no [drill] table: name the test recipient (drill.recipient)")
    unit = directory.get(drill.recipient)
    if unit is None:
        raise DrillError(
            f"{config.source}: [drill.recipient] {drill.recipient!r} is not in the fax directory "
            f"(version {directory.version})"
        )

    def started(conn: sqlite3.Connection, at: str, document_id: str, job_id: str) -> None:
        # In the job's own transaction: a drill queued is a drill started, so a crash here
        # cannot leave a drill job that the schedule does not know about (and repeats).
        store.chain.append(
            conn,
            at,
            "drill.started",
            document_id=document_id,
            job_id=job_id,
            data={"recipient": unit.id, "reason": reason},
        )

    document_id, job_id = queue_generated_fax(
        store,
        config.spool,
        test_page(config.station.header_name, now_utc()),
        original_name="drill.pdf",
        message_type=MESSAGE_TYPE,
        sender=SENDER,
        reference="DRILL",
        directory_version=directory.version,
        job=NewJob(unit.id, unit.name, unit.fax, "drill", "readiness drill", PRIORITY),
        then=started,
    )
    log.info("drill.started", job_id=job_id, document_id=document_id, recipient=unit.id, reason=reason)
    return job_id


def last_drill_started(store: Store) -> datetime | None:
    row = store._conn().execute("SELECT MAX(at) FROM audit WHERE event = 'drill.started'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def due(config: Config, store: Store, now: datetime) -> bool:
    """Whether the schedule calls for a drill now."""
    drill = config.ops.drill
    if drill is None or drill.interval_hours <= 0:
        return False
    last = last_drill_started(store)
    return last is None or now - last >= timedelta(hours=drill.interval_hours)


def settle(store: Store) -> list[tuple[str, bool, str]]:
    """Record the result of every drill whose job has ended and has no result yet.
    Returns (job id, passed, reason) for each, and logs alarm.drill_failed for failures."""
    conn = store._conn()
    rows = conn.execute(
        "SELECT a.job_id, a.document_id, j.state, COALESCE(j.outcome, ''), COALESCE(j.reason, '')"
        " FROM audit a JOIN jobs j ON j.id = a.job_id WHERE a.event = 'drill.started'"
        " AND j.state IN (?, ?) AND NOT EXISTS (SELECT 1 FROM audit r WHERE r.job_id = a.job_id"
        " AND r.event IN ('drill.passed', 'drill.failed'))",
        (JobState.CONFIRMED, JobState.FAILED),
    ).fetchall()
    settled = []
    for job_id, document_id, state, outcome, reason in rows:
        passed = state == JobState.CONFIRMED
        event = "drill.passed" if passed else "drill.failed"
        text = "the test fax was confirmed" if passed else f"{outcome}: {reason}".strip(": ")
        with store.transaction() as write:
            store._audit(
                write,
                iso(now_utc()),
                event,
                document_id=document_id,
                job_id=job_id,
                data={"outcome": outcome, "reason": text},
            )
        if passed:
            log.info("drill.passed", job_id=job_id)
        else:
            log.error("alarm.drill_failed", job_id=job_id, outcome=outcome, reason=text)
        settled.append((str(job_id), passed, text))
    return settled
