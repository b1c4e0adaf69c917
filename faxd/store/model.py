"""The queue's values: job and document states, a job as a runner sees it, an attempt's end."""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class JobState(enum.StrEnum):
    QUEUED = "queued"
    HELD = "held"  # no outage declared (outage.when_not_declared = "hold"): queued when one is
    ACTIVE = "active"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class DocumentState(enum.StrEnum):
    ROUTED = "routed"
    HELD = "held"
    QUARANTINED = "quarantined"
    DONE = "done"
    FOLLOW_UP = "follow_up"


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
    resend_reason: str | None = None  # set when the whole document goes again to another machine

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        """Build from a row of ``JOB_COLUMNS`` by column name, so a reordered SELECT cannot
        silently swap two fields."""
        return cls(
            id=row["id"],
            document_id=row["document_id"],
            document_path=Path(row["document_path"]),
            document_sha256=row["document_sha256"],
            message_type=row["message_type"],
            sender=row["sender"],
            recipient=row["recipient"],
            recipient_name=row["recipient_name"],
            number=row["number"],
            priority=row["priority"],
            attempts=row["attempts"],
            directory_version=row["directory_version"],
            document_pages=row["document_pages"],
            created=datetime.fromisoformat(row["created"]),
            pages_done=row["pages_done"],
            resend_reason=row["resend_reason"],
        )


# The SELECT list that ``Job.from_row`` reads; ``j`` is jobs, ``d`` documents.
JOB_COLUMNS = (
    "j.id AS id, j.document_id AS document_id, d.path AS document_path, d.sha256 AS document_sha256,"
    " d.message_type AS message_type, d.sender AS sender, j.recipient AS recipient,"
    " j.recipient_name AS recipient_name, j.number AS number, j.priority AS priority, j.attempts AS attempts,"
    " j.directory_version AS directory_version, d.pages AS document_pages, j.created AS created,"
    " (SELECT COALESCE(MAX(a.first_page + MAX(a.pages_confirmed - 1, 0)), 0)"
    " FROM attempts a WHERE a.job_id = j.id AND a.id > j.restart_after) AS pages_done,"
    " j.resend_reason AS resend_reason"
)


@dataclass(frozen=True, slots=True)
class EarlierDelivery:
    """The latest attempt (since the last restart) whose remote confirmed document pages:
    the machine a continuation must reach again."""

    attempt: int
    number: str  # the dial string that call used
    remote_id: str | None  # the CSI it reported; None if unknown (e.g. the daemon died mid-call)


@dataclass(frozen=True, slots=True)
class AttemptEnd:
    outcome: str
    reason: str
    remote_id: str | None
    pages_sent: int
    pages_confirmed: int
    bit_rate: int | None
    coding: str | None = None  # "MH", "MR", "MMR" as negotiated (DCS)
    ecm: bool | None = None
