"""The figures of ``faxctl audit report``, computed from the verified log's view.

Everything here is derived from a :class:`~faxd.audit.view.LogView` replayed from the
signed entries after they verified (``faxd.audit.report_cli`` refuses a log that does
not), never from the queue's working tables, so what the report shows is what the
signatures cover.

Rules:

- The report is about the documents *received* in ``[since, until)`` (UTC instants;
  no bound means no limit), with everything that happened to them, also after
  ``until``: a document dropped at 23:59 and confirmed at 00:01 counts as confirmed.
  For one outage (``outage=``) they are the documents the reconciliation counts for it:
  received during it, or faxed during it (held before it was declared).
- A *message* is one job: one document to one recipient. Every message is exactly one
  of confirmed, failed (for good) or open (queued, held, active), so
  ``confirmed + failed + open == messages`` for the totals and for every row of the
  per-recipient and per-type tables, and the rows add up to the totals.
- Time from drop to confirmation: from the document's ``document.routed`` entry (the
  intake takes a dropped file at once) to the end of the call that confirmed the
  message's last page. The median is the usual one (the mean of the middle two for an
  even count); the 95th percentile is the nearest-rank one: the smallest time that at
  least 95 % of the confirmed messages were within.
- Messages per hour: messages queued and messages confirmed in each clock hour, from
  the first outage (or the first activity) to the last outage's end (or the last
  activity), so the chart covers the outage and whatever spilled over it.
- The gateway's own faxes (readiness drills, follow-up notices to a sending unit) are
  not documents a unit dropped: they are counted apart (``own``), not in the totals,
  tables or chart. What was done about a message that failed for good is counted from
  the ``followup.*`` entries (``followup``).
- No patient identity: documents are named by id, SHA-256 and the sender's reference;
  every free text (references, reasons, names) goes through ``faxd.redact``.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from faxd.audit.view import DocumentView, JobView, LogView
from faxd.drill import MESSAGE_TYPE as DRILL_TYPE
from faxd.followup.settle import NOTICE_TYPE
from faxd.outage import Outage
from faxd.reconcile import in_outage
from faxd.redact import redact_text

OPEN_STATES = frozenset({"queued", "held", "active"})
OWN_TYPES = {DRILL_TYPE: "readiness drills", NOTICE_TYPE: "follow-up notices to the sending unit"}
FOLLOWUP_EVENTS = {
    "followup.package": "follow-up packages written",
    "followup.notice_queued": "notices to the sending unit queued",
    "followup.notice_impossible": "notices that could not be faxed (sender not in the directory)",
}
NONE = "—"
# The outcome codes of the log (``drivers.modem.Outcome`` and the runner's own) in words,
# as the README's table of outcomes says them; "Failures by reason" groups by the code.
OUTCOME_WORDS = {
    "confirmed": "every page was confirmed",
    "busy": "the line was busy",
    "no_answer": "nobody answered",
    "no_dialtone": "no dial tone on the modem's phone line",
    "no_carrier": "something answered without fax tones",
    "not_a_fax": "answered, but not by a fax machine",
    "training_failed": "the line failed training at every rate",
    "station_mismatch": "the answering station's id was not the one the directory expects",
    "remote_disconnected": "the remote hung up or asked for an operator",
    "page_rejected": "the remote rejected a page or received it incomplete",
    "protocol_error": "the remote broke T.30 or stopped answering",
    "modem_error": "the modem refused a command or stopped answering",
    "interrupted": "the daemon stopped during the call",
    "recipient_removed": "the recipient left the fax directory",
    "document_error": "the document could not be rendered",
    "refused": "the gateway refused the document",
}


@dataclass(frozen=True, slots=True)
class Tally:
    """One row of the per-recipient or per-type table (or the totals)."""

    key: str
    name: str
    documents: int
    messages: int
    confirmed: int
    failed: int
    open: int
    attempts: int
    pages_confirmed: int


@dataclass(frozen=True, slots=True)
class Failure:
    """How often something went wrong one way: ``what`` is ``call attempt``,
    ``message failed for good`` or ``document refused``; ``outcome`` the code (``refused``
    for a document), ``meaning`` its words, ``reason`` one of the group's own reasons (the
    most frequent), since reasons differ within one outcome (the last try says it gave up)."""

    what: str
    outcome: str
    meaning: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class Latency:
    """Drop to confirmation over the confirmed messages, in seconds (None: none confirmed)."""

    count: int
    median: float | None
    p95: float | None
    longest: float | None


@dataclass(frozen=True, slots=True)
class Hour:
    start: datetime  # UTC, on the hour
    queued: int
    confirmed: int
    in_outage: bool


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """A message not confirmed, or a document refused: what an auditor follows up."""

    document_id: str
    sha256: str
    reference: str
    message_type: str
    recipient: str
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReportData:
    since: datetime | None
    until: datetime | None
    generated: datetime
    log_entries: int
    head_seq: int
    outages: tuple[Outage, ...]
    documents: int
    refused: int
    totals: Tally
    by_recipient: tuple[Tally, ...]
    by_type: tuple[Tally, ...]
    failures: tuple[Failure, ...]
    latency: Latency
    hours: tuple[Hour, ...]
    unconfirmed: tuple[Unconfirmed, ...]
    for_outage: str | None = None  # the outage the documents were chosen by
    own: tuple[Tally, ...] = ()  # the gateway's own faxes, by kind (drills, follow-up notices)
    followup: tuple[tuple[str, int], ...] = ()  # what was done about messages failed for good


def _at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: str | None) -> str:
    return redact_text(value) if value else NONE


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the values
    at or below it (``share`` in (0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def job_state(job: JobView) -> str:
    """``confirmed``, ``failed`` or ``open``."""
    if job.state == "confirmed":
        return "confirmed"
    return "failed" if job.state == "failed" else "open"


def confirmed_at(view: LogView, job: JobView) -> datetime | None:
    """When the call that confirmed the message's last page ended; None if not confirmed."""
    if job.state != "confirmed":
        return None
    ends = [
        _at(view.attempts[a].ended or "")
        for a in job.attempts
        if a in view.attempts and view.attempts[a].outcome == "confirmed" and view.attempts[a].ended
    ]
    return max(ends, default=None)


def in_window(document: DocumentView, since: datetime | None, until: datetime | None) -> bool:
    received = _at(document.received)
    return (since is None or received >= since) and (until is None or received < until)


def _tally(key: str, name: str, view: LogView, documents: set[str], jobs: Iterable[JobView]) -> Tally:
    jobs = list(jobs)
    states = Counter(job_state(j) for j in jobs)
    attempts = [view.attempts[a] for j in jobs for a in j.attempts if a in view.attempts]
    return Tally(
        key=key,
        name=name,
        documents=len(documents),
        messages=len(jobs),
        confirmed=states["confirmed"],
        failed=states["failed"],
        open=states["open"],
        attempts=len(attempts),
        pages_confirmed=sum(a.pages_confirmed for a in attempts),
    )


def _grouped(view: LogView, jobs: Sequence[JobView], key_of: str) -> tuple[Tally, ...]:
    groups: dict[str, list[JobView]] = {}
    names: dict[str, str] = {}
    for job in jobs:
        if key_of == "recipient":
            key, name = _text(job.recipient), _text(job.recipient_name)
        else:
            key, name = _text(view.documents[job.document_id or ""].message_type), ""
        groups.setdefault(key, []).append(job)
        names[key] = name
    return tuple(
        _tally(key, names[key], view, {j.document_id or "" for j in group}, group)
        for key, group in sorted(groups.items())
    )


def _failures(view: LogView, documents: Sequence[DocumentView], jobs: Sequence[JobView]) -> tuple[Failure, ...]:
    reasons: dict[tuple[str, str], Counter[str]] = {}
    for job in jobs:
        for a in job.attempts:
            attempt = view.attempts.get(a)
            if attempt is not None and attempt.outcome not in (None, "confirmed"):
                reasons.setdefault(("call attempt", _text(attempt.outcome)), Counter())[_text(attempt.reason)] += 1
        if job.state == "failed":
            reasons.setdefault(("message failed for good", _text(job.outcome)), Counter())[_text(job.reason)] += 1
    for document in documents:
        if document.state == "quarantined":
            reasons.setdefault(("document refused", "refused"), Counter())[_text(document.reason)] += 1
    order = {"message failed for good": 0, "document refused": 1, "call attempt": 2}
    rows = [
        Failure(
            what,
            outcome,
            OUTCOME_WORDS.get(outcome, outcome),
            min(texts.items(), key=lambda kv: (-kv[1], kv[0]))[0],
            texts.total(),
        )
        for (what, outcome), texts in reasons.items()
    ]
    return tuple(sorted(rows, key=lambda f: (order[f.what], -f.count, f.outcome)))


def _hours(view: LogView, jobs: Sequence[JobView], outages: Sequence[Outage], generated: datetime) -> tuple[Hour, ...]:
    queued = [_at(j.created) for j in jobs]
    confirmed = [c for j in jobs if (c := confirmed_at(view, j)) is not None]
    spans = [(_at(o.started), _at(o.ended) if o.ended else generated) for o in outages]
    moments = queued + confirmed + [m for span in spans for m in span]
    if not moments:
        return ()

    def hour_of(moment: datetime) -> datetime:
        return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    first, last = hour_of(min(moments)), hour_of(max(moments))
    queued_per, confirmed_per = Counter(map(hour_of, queued)), Counter(map(hour_of, confirmed))
    hours = []
    start = first
    while start <= last:
        end = start + timedelta(hours=1)
        in_outage = any(s < end and e >= start for s, e in spans)
        hours.append(Hour(start, queued_per[start], confirmed_per[start], in_outage))
        start = end
    return tuple(hours)


def _unconfirmed(view: LogView, documents: Sequence[DocumentView]) -> tuple[Unconfirmed, ...]:
    out = []
    for document in documents:
        base = dict(
            document_id=document.document_id,
            sha256=document.sha256,
            reference=_text(document.reference),
            message_type=_text(document.message_type),
        )
        if document.state == "quarantined":
            out.append(Unconfirmed(**base, recipient=NONE, state="refused", reason=_text(document.reason)))
        for job_id in document.jobs:
            job = view.jobs.get(job_id)
            if job is not None and job.state != "confirmed":
                out.append(
                    Unconfirmed(**base, recipient=_text(job.recipient), state=job.state, reason=_text(job.reason))
                )
    return tuple(out)


def report_data(
    view: LogView,
    outages: Sequence[Outage],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    generated: datetime | None = None,
    log_entries: int = 0,
    head_seq: int = 0,
    outage: Outage | None = None,
) -> ReportData:
    """The report's figures for the documents received in ``[since, until)`` and, if
    ``outage`` is given, counted for that outage (then the only outage shown).

    ``outages`` are those the log records; the ones that overlap the period are kept.
    ``log_entries``/``head_seq`` say which verified log the figures come from."""
    generated = generated or datetime.now(UTC)
    chosen = sorted(
        (
            d
            for d in view.documents.values()
            if in_window(d, since, until) and (outage is None or in_outage(d, view, outage))
        ),
        key=lambda d: d.received,
    )
    documents = [d for d in chosen if d.message_type not in OWN_TYPES]
    jobs = [view.jobs[j] for d in documents for j in d.jobs if j in view.jobs]
    own = tuple(
        _tally(OWN_TYPES[kind], "", view, {d.document_id for d in group}, own_jobs)
        for kind in OWN_TYPES
        if (group := [d for d in chosen if d.message_type == kind])
        and (own_jobs := [view.jobs[j] for d in group for j in d.jobs if j in view.jobs])
    )
    failed = {j.job_id for j in jobs if j.state == "failed"}
    done = Counter(e.event for e in view.events if e.event in FOLLOWUP_EVENTS and e.job_id in failed)
    kept = tuple(
        replace(o, reason=redact_text(o.reason))  # the coordinator's free text
        for o in ([outage] if outage else outages)
        if (until is None or _at(o.started) < until) and (since is None or o.ended is None or _at(o.ended) >= since)
    )
    waits = [
        (c - _at(view.documents[j.document_id or ""].received)).total_seconds()
        for j in jobs
        if (c := confirmed_at(view, j)) is not None
    ]
    routed = {d.document_id for d in documents if d.state != "quarantined"}
    return ReportData(
        since=since,
        until=until,
        generated=generated,
        log_entries=log_entries,
        head_seq=head_seq,
        outages=kept,
        documents=len(documents),
        refused=len(documents) - len(routed),
        totals=_tally("all", "", view, routed, jobs),
        by_recipient=_grouped(view, jobs, "recipient"),
        by_type=_grouped(view, jobs, "message_type"),
        failures=_failures(view, documents, jobs),
        latency=Latency(len(waits), median(waits), percentile(waits, 0.95), max(waits, default=None)),
        hours=_hours(view, jobs, kept, generated),
        unconfirmed=_unconfirmed(view, documents),
        for_outage=outage.id if outage else None,
        own=own,
        followup=tuple((words, done[event]) for event, words in FOLLOWUP_EVENTS.items()) if failed else (),
    )
