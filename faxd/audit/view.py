"""What the log says happened, replayed from its entries: documents, jobs, attempts, pages.

``faxctl log``, the exports, the reconciliation and the report are built from this
view, so what an auditor reads is exactly what the signatures cover. The queue's
working tables (``documents``, ``jobs``, ``attempts``) are for running the queue; the
verification compares them with this view and reports any row that differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from faxd.audit.chain import Entry


@dataclass(slots=True)
class PageView:
    attempt: int
    page: int  # 1-based position in the call, cover sheet included
    confirmed_at: str
    bit_rate: int | None = None  # as the page went on the line (None: logged before faxd recorded it)
    coding: str | None = None
    ecm: bool | None = None


@dataclass(slots=True)
class AttemptView:
    attempt: int
    job_id: str
    document_id: str | None
    modem: str
    number: str
    started: str
    pages_total: int
    first_page: int
    archive: str | None
    ended: str | None = None
    remote_id: str | None = None
    pages_sent: int = 0
    pages_confirmed: int = 0
    bit_rate: int | None = None
    coding: str | None = None
    ecm: bool | None = None
    outcome: str | None = None
    reason: str | None = None
    pages: list[PageView] = field(default_factory=list)


@dataclass(slots=True)
class JobView:
    job_id: str
    document_id: str | None
    recipient: str
    recipient_name: str
    number: str
    roles: str
    rule: str
    directory_version: str
    created: str
    state: str = "queued"
    outcome: str | None = None
    reason: str | None = None
    updated: str = ""
    attempts: list[int] = field(default_factory=list)


@dataclass(slots=True)
class DocumentView:
    document_id: str
    sha256: str
    received: str
    state: str  # routed, held, quarantined, done, follow_up
    message_type: str | None = None
    sender: str | None = None
    reference: str | None = None
    event_date: str | None = None
    pages: int | None = None
    directory_version: str | None = None
    reason: str | None = None
    finished: str | None = None
    jobs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LogView:
    documents: dict[str, DocumentView] = field(default_factory=dict)
    jobs: dict[str, JobView] = field(default_factory=dict)
    attempts: dict[int, AttemptView] = field(default_factory=dict)
    events: list[Entry] = field(default_factory=list)

    def confirmation_log(self) -> list[dict[str, Any]]:
        """Every attempt, oldest first, in the shape of ``faxctl log --json``."""
        rows = []
        for a in sorted(self.attempts.values(), key=lambda a: a.attempt):
            job = self.jobs.get(a.job_id)
            document = self.documents.get(job.document_id or "") if job else None
            rows.append(
                {
                    "attempt": a.attempt,
                    "job_id": a.job_id,
                    "document_id": job.document_id if job else a.document_id,
                    "document_sha256": document.sha256 if document else None,
                    "message_type": document.message_type if document else None,
                    "recipient": job.recipient if job else None,
                    "recipient_name": job.recipient_name if job else None,
                    "number": a.number,
                    "remote_id": a.remote_id,
                    "pages_total": a.pages_total,
                    "pages_sent": a.pages_sent,
                    "pages_confirmed": a.pages_confirmed,
                    "bit_rate": a.bit_rate,
                    "started": a.started,
                    "ended": a.ended,
                    "outcome": a.outcome,
                    "reason": a.reason,
                    "modem": a.modem,
                    "directory_version": job.directory_version if job else None,
                    "archive": a.archive,
                }
            )
        return rows


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) else default


def replay(entries: Iterable[Entry]) -> LogView:
    """Build the view from entries in order. Unknown events are kept in ``events`` only."""
    view = LogView()
    for entry in entries:
        view.events.append(entry)
        _apply(view, entry, entry.data)
    return view


def _apply(view: LogView, e: Entry, d: dict[str, Any]) -> None:
    ev = e.event
    if ev in ("document.routed", "document.quarantined") and e.document_id:
        state = "quarantined" if ev == "document.quarantined" else ("held" if d.get("held") else "routed")
        view.documents[e.document_id] = DocumentView(
            document_id=e.document_id,
            sha256=str(d.get("sha256", "")),
            received=e.at,
            state=state,
            message_type=d.get("message_type"),
            sender=d.get("sender"),
            reference=d.get("reference"),
            event_date=d.get("event_date"),
            pages=d.get("pages"),
            directory_version=d.get("directory_version"),
            reason=d.get("reason"),
        )
    elif ev == "document.released" and e.document_id in view.documents:
        view.documents[e.document_id].state = "routed"
        for job_id in view.documents[e.document_id].jobs:
            if job_id in view.jobs and view.jobs[job_id].state == "held":
                view.jobs[job_id].state, view.jobs[job_id].updated = "queued", e.at
    elif ev in ("document.done", "document.follow_up") and e.document_id in view.documents:
        doc = view.documents[e.document_id]
        doc.state, doc.finished = ev.split(".", 1)[1], e.at
    elif ev == "job.created" and e.job_id:
        view.jobs[e.job_id] = JobView(
            job_id=e.job_id,
            document_id=e.document_id,
            recipient=str(d.get("recipient", "")),
            recipient_name=str(d.get("recipient_name", "")),
            number=str(d.get("number", "")),
            roles=str(d.get("roles", "")),
            rule=str(d.get("rule", "")),
            directory_version=str(d.get("directory_version", "")),
            created=e.at,
            updated=e.at,
        )
        if e.document_id in view.documents:
            view.documents[e.document_id].jobs.append(e.job_id)
            if view.documents[e.document_id].state == "held":
                view.jobs[e.job_id].state = "held"
            if not view.jobs[e.job_id].directory_version:
                view.jobs[e.job_id].directory_version = view.documents[e.document_id].directory_version or ""
    elif ev == "job.number_changed" and e.job_id in view.jobs:
        job = view.jobs[e.job_id]
        job.number, job.directory_version, job.updated = str(d.get("number")), str(d.get("directory_version")), e.at
    elif ev == "attempt.started" and e.job_id:
        attempt = _int(d.get("attempt"))
        view.attempts[attempt] = AttemptView(
            attempt=attempt,
            job_id=e.job_id,
            document_id=e.document_id,
            modem=str(d.get("modem", "")),
            number=str(d.get("number", "")),
            started=e.at,
            pages_total=_int(d.get("pages_total")),
            first_page=_int(d.get("first_page")),
            archive=d.get("archive"),
        )
        if e.job_id in view.jobs:
            view.jobs[e.job_id].attempts.append(attempt)
            view.jobs[e.job_id].state = "active"
    elif ev == "page.confirmed" and _int(d.get("attempt"), -1) in view.attempts:
        a = view.attempts[_int(d.get("attempt"))]
        page = _int(d.get("page"))
        a.pages_confirmed = max(a.pages_confirmed, page)
        a.pages_sent = max(a.pages_sent, page)
        a.pages.append(PageView(a.attempt, page, e.at, d.get("bit_rate"), d.get("coding"), d.get("ecm")))
    elif ev == "attempt.ended" and _int(d.get("attempt"), -1) in view.attempts:
        a = view.attempts[_int(d.get("attempt"))]
        a.ended, a.remote_id, a.outcome, a.reason = e.at, d.get("remote_id"), d.get("outcome"), d.get("reason")
        a.pages_sent = max(a.pages_sent, _int(d.get("pages_sent")))
        a.pages_confirmed = max(a.pages_confirmed, _int(d.get("pages_confirmed")))
        a.bit_rate, a.coding, a.ecm = d.get("bit_rate"), d.get("coding"), d.get("ecm")
        if e.job_id in view.jobs:
            job = view.jobs[e.job_id]
            job.state, job.outcome, job.reason, job.updated = str(d.get("job_state")), a.outcome, a.reason, e.at
    elif ev in ("attempt.interrupted", "job.released"):
        ids = d.get("attempts") if ev == "job.released" else [d.get("attempt")]
        for attempt_id in ids if isinstance(ids, list) else []:
            if attempt_id in view.attempts and view.attempts[attempt_id].ended is None:
                a = view.attempts[attempt_id]
                a.ended, a.outcome, a.reason = e.at, "interrupted", d.get("reason")
        if e.job_id in view.jobs:
            view.jobs[e.job_id].state, view.jobs[e.job_id].updated = "queued", e.at
    elif ev == "job.failed" and e.job_id in view.jobs:
        job = view.jobs[e.job_id]
        job.state, job.outcome, job.reason, job.updated = "failed", d.get("outcome"), d.get("reason"), e.at


def as_dicts(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]
