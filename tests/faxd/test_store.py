"""The queue in SQLite and its confirmation log chain."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from faxd.store import AttemptEnd, DocumentState, JobState, NewJob, Store, now_utc
from tests.faxd.keys import signing_chain


def add_document(store: Store, recipients: tuple[str, ...] = ("kommun-malmo", "vc-lund")) -> list[str]:
    return store.add_routed_document(
        document_id="D1",
        sha256="ab" * 32,
        original_name="form.pdf",
        path=Path("/x/D1.pdf"),
        message_type="inskrivningsinformation",
        sender="sus-lund-avd-12",
        reference="R1",
        event_date=None,
        pages=2,
        directory_version="v1",
        jobs=[NewJob(r, r.title(), f"040628041{i}", "municipality", "rule", 50) for i, r in enumerate(recipients)],
    )


def test_jobs_survive_reopening_and_are_claimed_once(tmp_path: Path) -> None:
    """A queued job is still there after reopening, and two claims never get the same job."""
    ids = add_document(Store(tmp_path / "db.sqlite3", signing_chain(tmp_path)))
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    first = store.claim_next_job("m1", now_utc())
    second = store.claim_next_job("m2", now_utc())
    assert first is not None and second is not None
    assert {first.id, second.id} == set(ids)
    assert store.claim_next_job("m1", now_utc()) is None


def test_interrupted_attempt_is_closed_and_job_queued_again(tmp_path: Path) -> None:
    """After a crash mid-call the attempt is recorded as interrupted and the job is claimable again."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store, ("kommun-malmo",))
    job = store.claim_next_job("m1", now_utc())
    assert job is not None
    attempt = store.start_attempt(job, "m1", job.number, 3, now_utc())
    store.page_confirmed(attempt, job.id, 0)
    assert store.recover_interrupted(now_utc()) == 1
    log = store.confirmation_log()
    assert log[0]["outcome"] == "interrupted" and log[0]["pages_confirmed"] == 1
    assert store.claim_next_job("m1", now_utc()) is not None


def test_document_is_done_only_when_every_job_is_confirmed(tmp_path: Path) -> None:
    """A document with one confirmed and one failed job needs follow-up."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store)
    for state in (JobState.CONFIRMED, JobState.FAILED):
        job = store.claim_next_job("m1", now_utc())
        assert job is not None
        attempt = store.start_attempt(job, "m1", job.number, 3, now_utc())
        store.finish_attempt(
            attempt, job, AttemptEnd(state.value, "r", "+46", 3, 3, 14400), job_state=state, next_attempt=None
        )
    assert store.document_finished("D1") is DocumentState.FOLLOW_UP


def test_retry_waits_until_its_time(tmp_path: Path) -> None:
    """A job sent back to the queue with a later time is not due before then."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store, ("kommun-malmo",))
    job = store.claim_next_job("m1", now_utc())
    assert job is not None
    attempt = store.start_attempt(job, "m1", job.number, 3, now_utc())
    later = now_utc() + timedelta(minutes=2)
    store.finish_attempt(
        attempt, job, AttemptEnd("busy", "busy", None, 0, 0, None), job_state=JobState.QUEUED, next_attempt=later
    )
    assert store.claim_next_job("m1", now_utc()) is None
    assert store.claim_next_job("m1", later + timedelta(seconds=1)) is not None


def test_log_chain_detects_an_edited_entry(tmp_path: Path) -> None:
    """Changing any recorded field afterwards is reported by verification."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store)
    assert store.verify_log().intact
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute("UPDATE audit SET data = replace(data, 'kommun-malmo', 'kommun-lund') WHERE seq = 1")
    result = store.verify_log()
    assert not result.intact
    assert "entry 1" in result.problems[0]


def test_log_chain_detects_a_deleted_entry(tmp_path: Path) -> None:
    """Removing an entry from the middle breaks the chain."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store)
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute("DELETE FROM audit WHERE seq = 2")
    assert any("missing" in p for p in store.verify_log().problems)


def test_claimed_job_carries_each_column_in_its_field(tmp_path: Path) -> None:
    """The claimed Job is read by column name: every field holds what was stored for it."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    (job_id,) = add_document(store, ("vc-lund",))
    job = store.claim_next_job("m1", now_utc())
    assert job is not None
    assert (job.id, job.document_id, job.document_path, job.document_sha256) == (
        job_id,
        "D1",
        Path("/x/D1.pdf"),
        "ab" * 32,
    )
    assert (job.message_type, job.sender, job.recipient, job.recipient_name) == (
        "inskrivningsinformation",
        "sus-lund-avd-12",
        "vc-lund",
        "Vc-Lund",
    )
    assert (job.number, job.priority, job.attempts, job.directory_version) == ("0406280410", 50, 0, "v1")
    assert (job.document_pages, job.pages_done) == (2, 0)


def test_one_call_per_number_across_modems(tmp_path: Path) -> None:
    """Two jobs to one number are never active at once: the second modem gets nothing
    until the first call ends, and then the other job."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    for document_id in ("D1", "D2"):
        store.add_routed_document(
            document_id=document_id,
            sha256=document_id * 32,
            original_name="f.pdf",
            path=Path(f"/x/{document_id}"),
            message_type="akutblad",
            sender="s",
            reference=None,
            event_date=None,
            pages=1,
            directory_version="v1",
            jobs=[NewJob("avd-1", "Avd 1", "0406280420", "ward", "rule", 10)],
        )
    first = store.claim_next_job("sim0", now_utc())
    assert first is not None
    assert store.claim_next_job("sim1", now_utc()) is None
    attempt = store.start_attempt(first, "sim0", first.number, 1, now_utc())
    store.finish_attempt(
        attempt,
        first,
        AttemptEnd("confirmed", "ok", None, 1, 1, 14400),
        job_state=JobState.CONFIRMED,
        next_attempt=None,
    )
    second = store.claim_next_job("sim1", now_utc())
    assert second is not None and second.id != first.id


def test_a_released_job_keeps_its_try(tmp_path: Path) -> None:
    """A job whose runner failed mid-attempt goes back to the queue with the try given back."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store, ("vc-lund",))
    job = store.claim_next_job("m1", now_utc())
    assert job is not None
    store.start_attempt(job, "m1", job.number, 1, now_utc())
    store.release_job(job)
    again = store.claim_next_job("m1", now_utc())
    assert again is not None and again.attempts == 0
    assert store.confirmation_log()[0]["outcome"] == "interrupted"


def test_releasing_a_job_that_already_ended_changes_nothing_and_logs_nothing(tmp_path: Path) -> None:
    """A runner whose job was confirmed and then failed to file the document (a full or
    read-only spool) releases it: the job stays confirmed, and the log says nothing else."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store, ("vc-lund",))
    job = store.claim_next_job("m1", now_utc())
    assert job is not None
    attempt = store.start_attempt(job, "m1", job.number, 1, now_utc())
    store.finish_attempt(
        attempt,
        job,
        AttemptEnd("confirmed", "ok", None, 1, 1, 14400),
        job_state=JobState.CONFIRMED,
        next_attempt=None,
    )
    entries = len(store.verify_log().view.events)
    store.release_job(job)
    verification = store.verify_log()
    assert verification.intact, verification.problems
    assert len(verification.view.events) == entries
    assert [e["outcome"] for e in store.confirmation_log()] == ["confirmed"]
