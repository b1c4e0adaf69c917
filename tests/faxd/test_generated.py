"""The gateway's own faxes (drill, follow-up notice) enter the durable queue whole or not at all."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from faxd.audit import chain as audit
from faxd.drill import PRIORITY
from faxd.drill import test_page as drill_page
from faxd.generated import queue_generated_fax
from faxd.store import NewJob, now_utc
from tests.faxd.site import Site


def _queue(site: Site, then: Callable[[sqlite3.Connection, str, str, str], None]) -> tuple[str, str]:
    directory = site.directory.current()
    unit = directory.get("kommun-lund")
    assert unit is not None
    return queue_generated_fax(
        site.store,
        site.config.spool,
        drill_page("Test", now_utc()),
        original_name="drill.pdf",
        message_type="drill",
        sender="faxd-drill",
        reference="DRILL",
        directory_version=directory.version,
        job=NewJob(unit.id, unit.name, unit.fax, "drill", "readiness drill", PRIORITY),
        then=then,
    )


def test_a_queued_fax_is_in_work_recorded_with_its_job_and_the_callers_entry(tmp_path: Path) -> None:
    site = Site(tmp_path)

    def started(conn: sqlite3.Connection, at: str, document_id: str, job_id: str) -> None:
        site.store.chain.append(conn, at, "drill.started", document_id=document_id, job_id=job_id, data={})

    document_id, job_id = _queue(site, started)
    assert [p.name for p in site.folders.work.iterdir()] == [f"{document_id}.pdf"]
    (job,) = site.store.jobs()
    assert (job["job_id"], job["document_id"], job["state"]) == (job_id, document_id, "queued")
    with sqlite3.connect(site.config.database) as conn:
        entries = [(e.event, e.document_id, e.job_id) for e in audit.entries(conn)]
    assert ("drill.started", document_id, job_id) in entries


def test_a_record_that_fails_leaves_no_file_in_work_and_no_job(tmp_path: Path) -> None:
    """Recovery would take an unrecorded PDF in work/ for a dropped document."""
    site = Site(tmp_path)

    def disk_full(conn: sqlite3.Connection, at: str, document_id: str, job_id: str) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(sqlite3.OperationalError):
        _queue(site, disk_full)
    assert list(site.folders.work.iterdir()) == []
    assert site.store.jobs() == []
