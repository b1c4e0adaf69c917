"""The report's figures (faxd/audit/report_data.py) on views built by hand: counts add up,
median and 95th percentile on known data, the hours over the outage, the period."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from drivers.modem import Outcome
from faxd.audit.chain import Entry
from faxd.audit.report_data import OUTCOME_WORDS, median, percentile, report_data
from faxd.audit.view import AttemptView, DocumentView, JobView, LogView
from faxd.outage import Outage
from faxd.snmp_mib import OUTCOMES

T0 = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
RECIPIENTS = ("kommun-lund", "vc-lund-norra", "sus-malmo-akuten")
TYPES = ("inskrivningsinformation", "sip", "akutblad")
STATES = ("confirmed", "failed", "queued", "held", "active")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


class ViewBuilder:
    """A LogView with documents, jobs and attempts at chosen times."""

    def __init__(self) -> None:
        self.view = LogView()
        self.attempts = 0

    def document(self, n: int, received: datetime, message_type: str = "sip", **fields: str) -> DocumentView:
        doc = DocumentView(
            document_id=f"D{n:04d}",
            sha256=f"{n:064x}",
            received=iso(received),
            state=fields.pop("state", "routed"),
            message_type=message_type,
            sender="sus-lund-avd-12",
            reference=fields.pop("reference", f"REF-{n}"),
            reason=fields.pop("reason", None),
        )
        self.view.documents[doc.document_id] = doc
        return doc

    def job(self, doc: DocumentView, recipient: str, state: str, calls: list[tuple[datetime, str]]) -> JobView:
        """``calls``: (end of the call, outcome) per attempt; each call lasts 30 s."""
        job = JobView(
            job_id=f"FX-{len(self.view.jobs) + 1:05d}",
            document_id=doc.document_id,
            recipient=recipient,
            recipient_name=recipient.upper(),
            number="0406280416",
            roles="",
            rule="",
            directory_version="v1",
            created=doc.received,
            state=state,
        )
        for ended, outcome in calls:
            self.attempts += 1
            self.view.attempts[self.attempts] = AttemptView(
                attempt=self.attempts,
                job_id=job.job_id,
                document_id=doc.document_id,
                modem="fake0",
                number=job.number,
                started=iso(ended - timedelta(seconds=30)),
                pages_total=2,
                first_page=1,
                archive=None,
                ended=iso(ended),
                outcome=outcome,
                reason="all 2 pages confirmed" if outcome == "confirmed" else f"the line was {outcome}",
                pages_confirmed=2 if outcome == "confirmed" else 0,
            )
            job.attempts.append(self.attempts)
        if state == "failed":
            job.outcome, job.reason = "busy", "the line was busy"
        self.view.jobs[job.job_id] = job
        doc.jobs.append(job.job_id)
        return job


message = st.tuples(
    st.sampled_from(RECIPIENTS),
    st.sampled_from(STATES),
    st.integers(min_value=0, max_value=3),  # failed calls before the last one
    st.integers(min_value=1, max_value=6 * 3600),  # seconds from drop to the last call's end
)
document = st.tuples(
    st.sampled_from(TYPES),
    st.integers(min_value=0, max_value=10 * 3600),  # seconds after T0
    st.booleans(),  # refused
    st.lists(message, min_size=1, max_size=3),
)


def build(documents: list[tuple[str, int, bool, list[tuple[str, str, int, int]]]]) -> ViewBuilder:
    b = ViewBuilder()
    for n, (message_type, offset, refused, messages) in enumerate(documents):
        received = T0 + timedelta(seconds=offset)
        if refused:
            b.document(n, received, message_type, state="quarantined", reason="unknown sender")
            continue
        doc = b.document(n, received, message_type)
        for recipient, state, failures, wait in messages:
            end = received + timedelta(seconds=wait)
            calls = [(end - timedelta(minutes=5 * (k + 1)), "busy") for k in range(failures)]
            if state == "confirmed":
                calls.append((end, "confirmed"))
            elif state == "failed":
                calls.append((end, "busy"))
            b.job(doc, recipient, state, sorted(calls))
    return b


@given(st.lists(document, max_size=25))
def test_counts_add_up(documents: list[tuple[str, int, bool, list[tuple[str, str, int, int]]]]) -> None:
    """Every message is confirmed, failed or open; the per-recipient and per-type rows add up to
    the totals; refused + routed = received; the hours hold every queued and confirmed message."""
    b = build(documents)
    data = report_data(b.view, [], generated=T0 + timedelta(days=1))
    t = data.totals
    assert t.confirmed + t.failed + t.open == t.messages == len(b.view.jobs)
    assert data.documents == len(documents) and data.refused == sum(1 for d in documents if d[2])
    assert t.documents == data.documents - data.refused
    for rows in (data.by_recipient, data.by_type):
        for row in rows:
            assert row.confirmed + row.failed + row.open == row.messages
        for name in ("messages", "confirmed", "failed", "open", "attempts", "pages_confirmed"):
            assert sum(getattr(r, name) for r in rows) == getattr(t, name), name
    assert sum(r.documents for r in data.by_type) == t.documents
    assert t.attempts == len(b.view.attempts)
    assert sum(h.queued for h in data.hours) == t.messages
    assert sum(h.confirmed for h in data.hours) == t.confirmed == data.latency.count
    failed_attempts = sum(1 for a in b.view.attempts.values() if a.outcome != "confirmed")
    assert sum(f.count for f in data.failures if f.what == "call attempt") == failed_attempts
    assert sum(f.count for f in data.failures if f.what == "message failed for good") == t.failed
    assert sum(f.count for f in data.failures if f.what == "document refused") == data.refused
    not_confirmed = sum(1 for u in data.unconfirmed if u.state != "refused")
    assert not_confirmed == t.failed + t.open


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200))
def test_the_95th_percentile_is_the_nearest_rank(values: list[float]) -> None:
    """The value is one of the data, at least 95 % are at or below it, fewer than 95 % below it."""
    p95 = percentile(values, 0.95)
    assert p95 in values
    assert sum(v <= p95 for v in values) >= math.ceil(0.95 * len(values))
    assert sum(v < p95 for v in values) < math.ceil(0.95 * len(values))


def test_median_and_p95_on_known_data() -> None:
    """1..100 s: p95 95 s, median 50.5 s; 1..20: p95 19; a single value is both; none is None."""
    assert percentile(list(range(1, 101)), 0.95) == 95
    assert median(list(range(1, 101))) == 50.5
    assert percentile(list(range(20, 0, -1)), 0.95) == 19
    assert percentile([7.0], 0.95) == median([7.0]) == 7.0
    assert percentile([], 0.95) is None and median([]) is None


def test_drop_to_confirmation_of_a_known_log() -> None:
    """Twenty messages confirmed 10, 20, ... 200 s after the drop (one after a busy call) and one
    failed: median 105 s, p95 190 s, longest 200 s; the failed one is not measured."""
    b = ViewBuilder()
    for n in range(20):
        doc = b.document(n, T0 + timedelta(minutes=n))
        received = T0 + timedelta(minutes=n)
        calls = [(received + timedelta(seconds=5), "busy")] if n == 3 else []
        b.job(doc, RECIPIENTS[n % 3], "confirmed", [*calls, (received + timedelta(seconds=10 * (n + 1)), "confirmed")])
    b.job(b.document(99, T0), "kommun-lund", "failed", [(T0 + timedelta(seconds=3), "busy")])
    data = report_data(b.view, [])
    assert (data.latency.count, data.latency.median, data.latency.p95, data.latency.longest) == (20, 105, 190, 200)
    assert data.totals.attempts == 22 and data.totals.failed == 1
    assert [(f.what, f.outcome, f.count) for f in data.failures] == [
        ("message failed for good", "busy", 1),
        ("call attempt", "busy", 2),
    ]


def test_hours_cover_the_outage_and_what_spilled_over() -> None:
    """An outage 07:30-10:10 UTC, a document at 08:05 confirmed at 11:20: hours 07..11, the
    outage ones marked, one queued at 08 and one confirmed at 11; the period filter keeps
    only documents received inside it, and outages that overlap it."""
    b = ViewBuilder()
    doc = b.document(1, T0 + timedelta(hours=1, minutes=5))
    b.job(doc, "kommun-lund", "confirmed", [(T0 + timedelta(hours=4, minutes=20), "confirmed")])
    outage = Outage(
        "O-1",
        "Mina planer nere",
        iso(T0 + timedelta(minutes=30)),
        "coordinator",
        "x",
        ended=iso(T0 + timedelta(hours=3, minutes=10)),
    )
    later = Outage("O-2", "again", iso(T0 + timedelta(days=2)), "coordinator", "x")
    data = report_data(b.view, [outage, later], until=T0 + timedelta(days=1))
    assert [o.id for o in data.outages] == ["O-1"]
    assert [(h.start.hour, h.queued, h.confirmed, h.in_outage) for h in data.hours] == [
        (7, 0, 0, True),
        (8, 1, 0, True),
        (9, 0, 0, True),
        (10, 0, 0, True),
        (11, 0, 1, False),
    ]
    empty = report_data(b.view, [outage], since=T0 + timedelta(hours=2))
    assert empty.documents == 0 and empty.totals.messages == 0 and [o.id for o in empty.outages] == ["O-1"]
    assert report_data(b.view, [], since=T0 + timedelta(hours=2)).hours == ()


def test_identity_numbers_in_free_text_are_masked() -> None:
    """A personnummer in a reference or a reason never reaches the report's figures."""
    b = ViewBuilder()
    doc = b.document(1, T0, reference="REF 19121212-1212")
    job = b.job(doc, "kommun-lund", "failed", [(T0 + timedelta(seconds=60), "busy")])
    job.reason = "patient 121212-1212 not reached"
    data = report_data(b.view, [])
    texts = repr(data)
    assert "1212-1212" not in texts and "121212" not in texts
    assert data.unconfirmed[0].sha256 == doc.sha256


def test_one_outage_counts_what_was_faxed_during_it() -> None:
    """With outage=, a document held before the outage was declared and faxed during it is
    counted (as the reconciliation counts it); one received and faxed before it is not; the
    outage's reason is redacted like every free text."""
    b = ViewBuilder()
    held = b.document(1, T0)  # dropped at 07:00, held: faxed at 08:10
    b.job(held, "kommun-lund", "confirmed", [(T0 + timedelta(hours=1, minutes=10), "confirmed")])
    before = b.document(2, T0 - timedelta(hours=3))
    b.job(before, "kommun-lund", "confirmed", [(T0 - timedelta(hours=2), "confirmed")])
    outage = Outage("O-1", "nere, ring 121212-1212", iso(T0 + timedelta(hours=1)), "coordinator", "x")
    data = report_data(b.view, [outage], outage=outage)
    assert data.documents == 1 and data.for_outage == "O-1" and data.unconfirmed == ()
    assert data.outages[0].reason == "nere, ring [redacted]"
    assert report_data(b.view, [outage], since=T0 + timedelta(hours=1)).documents == 0


def test_the_gateways_own_faxes_and_the_follow_up_are_counted_apart() -> None:
    """A drill and a follow-up notice are not documents a unit dropped: not in the totals, the
    tables or the hours, but in ``own``; the failed message's package and notice entries are
    counted, a package for a job outside the period is not."""
    b = ViewBuilder()
    doc = b.document(1, T0)
    failed = b.job(doc, "kommun-lund", "failed", [(T0 + timedelta(minutes=2), "busy")])
    b.job(b.document(2, T0, "drill"), "vc-lund-norra", "confirmed", [(T0 + timedelta(minutes=1), "confirmed")])
    notice = b.document(3, T0 + timedelta(minutes=3), "followup-notice")
    b.job(notice, "sus-lund-avd-12", "confirmed", [(T0 + timedelta(minutes=4), "confirmed")])
    entries = [("followup.package", failed.job_id), ("followup.notice_queued", failed.job_id)]
    entries.append(("followup.package", "FX-elsewhere"))
    for seq, (event, job_id) in enumerate(entries, 1):
        b.view.events.append(Entry(seq, iso(T0), event, doc.document_id, job_id, "{}", "", ""))
    data = report_data(b.view, [])
    assert data.documents == 1 and data.totals.messages == 1 and data.totals.failed == 1
    assert [t.key for t in data.by_type] == ["sip"] and sum(h.queued for h in data.hours) == 1
    assert [(t.key, t.messages, t.confirmed) for t in data.own] == [
        ("readiness drills", 1, 1),
        ("follow-up notices to the sending unit", 1, 1),
    ]
    assert [n for _, n in data.followup] == [1, 1, 0]
    assert report_data(b.view, [], until=T0 - timedelta(hours=1)).followup == ()


def test_failures_are_grouped_by_outcome_with_its_words() -> None:
    """One busy line, two calls whose reasons differ as the runner writes them (the last one
    says it gave up): one row of call attempts, with the outcome in words and an example."""
    b = ViewBuilder()
    job = b.job(b.document(1, T0), "kommun-lund", "failed", [(T0 + timedelta(minutes=k), "busy") for k in (1, 2)])
    last = b.view.attempts[job.attempts[-1]]
    last.reason = job.reason = "the line was busy; gave up after 2 attempts"
    b.document(2, T0, state="quarantined", reason="Checklista beslutsstöd is never faxed")
    b.document(3, T0, state="quarantined", reason="the file is not a PDF")
    data = report_data(b.view, [])
    assert [(f.what, f.outcome, f.meaning, f.count) for f in data.failures] == [
        ("message failed for good", "busy", "the line was busy", 1),
        ("document refused", "refused", "the gateway refused the document", 2),
        ("call attempt", "busy", "the line was busy", 2),
    ]
    assert data.failures[0].reason == "the line was busy; gave up after 2 attempts"
    assert data.failures[1].reason in ("Checklista beslutsstöd is never faxed", "the file is not a PDF")


def test_every_outcome_code_has_words() -> None:
    assert {o.value for o in Outcome} | set(OUTCOMES) <= OUTCOME_WORDS.keys()
