"""Resume only to the same machine (issue 13): a retry continues after the confirmed pages
only when it reaches the machine that confirmed them; a changed number or another station
gets the whole document again, with a cover sheet that says so, recorded in the log."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

import faxd.prepare
import imaging
from drivers.modem import CallResult, Outcome, StationCheck
from faxd.runner_resume import ResendReason
from imaging import CoverInfo
from tests.faxd.site import Site

WARD = "sus-malmo-akuten"  # the directory expects station +46 8 465 004 00 here
WARD_CSI = "+46 8 465 004 00"
OTHER_CSI = "+46 8 465 004 77"


def drop_three_pages(site: Site) -> str:
    """An akutblad of three pages from a municipality to one ward; returns its job id."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for page in range(1, 4):
        c.drawString(72, 760, f"Akutblad sida {page}")
        c.showPage()
    c.save()
    path = site.folders.incoming / "akut.pdf"
    path.write_bytes(buf.getvalue())
    meta = {"FaxdType": "akutblad", "FaxdSender": "kommun-lund", "FaxdWard": WARD}
    (site.folders.incoming / "akut.pdf.json").write_text(json.dumps(meta))
    result = site.intake.take(path)
    assert result is not None and result.quarantine_reason is None, result
    assert len(result.job_ids) == 1
    return result.job_ids[0]


def broke_off_after_page_one(csi: str | None) -> CallResult:
    """The remote confirmed the cover sheet and page 1, then hung up."""
    return CallResult(Outcome.REMOTE_DISCONNECTED, "the remote sent DCN after page 2", csi, 3, 2, 9600)


@pytest.fixture
def covers(monkeypatch: pytest.MonkeyPatch) -> list[CoverInfo]:
    """Every cover sheet the runner composes, in order."""
    seen: list[CoverInfo] = []
    real = imaging.cover_sheet

    def spy(info: CoverInfo, **kwargs: Any) -> Any:
        seen.append(info)
        return real(info, **kwargs)

    monkeypatch.setattr(faxd.prepare, "cover_sheet", spy)
    return seen


def audit_events(site: Site, event: str) -> list[dict[str, Any]]:
    with site.store.transaction() as conn:
        rows = conn.execute("SELECT data FROM audit WHERE event = ? ORDER BY seq", (event,)).fetchall()
    return [json.loads(row[0]) if row[0] else {} for row in rows]


def test_a_number_changed_after_confirmed_pages_gets_the_whole_document_again(
    tmp_path: Path, covers: list[CoverInfo]
) -> None:
    """Page 1 went to the old number; the directory then changed it: the retry sends cover
    + pages 1-3 to the new number with the notice, not pages 2-3."""
    site = Site(tmp_path, script=[broke_off_after_page_one(WARD_CSI)], max_attempts=3)
    job_id = drop_three_pages(site)
    assert site.runner.run_once()
    site.edit_directory("08 46500400", "08-465 004 55")
    site.run_all()

    first, retry = site.modem.requests
    assert len(first.pages) == 4
    assert retry.number == "0846500455"
    assert len(retry.pages) == 4, "the whole document: cover sheet + pages 1-3"
    assert covers[-1].continuation_of_pages is None
    assert covers[-1].sent_again_notice == ResendReason.NUMBER_CHANGED.notice
    assert "annat faxnummer" in (covers[-1].sent_again_notice or "")
    [restart] = audit_events(site, "job.resend_in_full")
    assert restart["reason"] == "number_changed"
    assert restart["earlier_number"] == "0846500400" and restart["number"] == "0846500455"
    assert restart["pages_confirmed_earlier"] == 1
    started = audit_events(site, "attempt.started")
    assert [s["first_page"] for s in started] == [0, 0]
    assert started[1]["sent_again_in_full"] == "number_changed"
    assert {j["job_id"]: j["state"] for j in site.store.jobs()} == {job_id: "confirmed"}


def test_another_station_on_the_retry_ends_the_continuation_and_sends_everything_again(
    tmp_path: Path, covers: list[CoverInfo]
) -> None:
    """The continuation must reach the CSI that confirmed page 1 (strict check, DCN before
    page one); another station answering means the whole document goes in the next call."""
    mismatch = CallResult(
        Outcome.STATION_MISMATCH, f"the remote identifies as {OTHER_CSI}; no page was sent", OTHER_CSI, 0, 0, None
    )
    site = Site(tmp_path, script=[broke_off_after_page_one(WARD_CSI), mismatch], max_attempts=2)
    job_id = drop_three_pages(site)
    site.run_all()

    first, guarded, full = site.modem.requests
    assert len(first.pages) == 4
    assert len(guarded.pages) == 3, "a continuation: cover + pages 2-3"
    assert guarded.expected_remote_id == WARD_CSI and guarded.policy.station_check is StationCheck.STRICT
    assert len(full.pages) == 4
    assert covers[1].continuation_of_pages == 1
    assert covers[2].sent_again_notice == ResendReason.STATION_CHANGED.notice
    [restart] = audit_events(site, "job.resend_in_full")
    assert restart["reason"] == "station_changed"
    assert restart["earlier_remote_id"] == WARD_CSI and restart["remote_id"] == OTHER_CSI
    log = site.store.confirmation_log()
    assert [e["outcome"] for e in log] == ["remote_disconnected", "station_mismatch", "confirmed"]
    assert "the whole document is sent again" in log[1]["reason"]
    # The refused continuation did not use up a try: two tries allowed, the job is confirmed.
    jobs = {j["job_id"]: j for j in site.store.jobs()}
    assert jobs[job_id]["state"] == "confirmed"


def test_the_same_station_at_the_same_number_gets_the_continuation(tmp_path: Path, covers: list[CoverInfo]) -> None:
    """Nothing changed: the retry sends cover + pages 2-3 and asks for the earlier station."""
    site = Site(tmp_path, script=[broke_off_after_page_one(WARD_CSI)])
    drop_three_pages(site)
    site.run_all()
    first, retry = site.modem.requests
    assert len(retry.pages) == 3
    assert retry.expected_remote_id == WARD_CSI and retry.policy.station_check is StationCheck.STRICT
    assert covers[1].continuation_of_pages == 1 and covers[1].sent_again_notice is None
    assert audit_events(site, "job.resend_in_full") == []


def test_without_the_earlier_station_id_only_the_number_is_compared(tmp_path: Path, covers: list[CoverInfo]) -> None:
    """No CSI known from the earlier call: the continuation goes to the same number under the
    configured check against the directory's station id."""
    site = Site(tmp_path, script=[broke_off_after_page_one(None)])
    drop_three_pages(site)
    site.run_all()
    _, retry = site.modem.requests
    assert len(retry.pages) == 3
    assert retry.expected_remote_id == "+46 8 465 004 00"
    assert retry.policy.station_check is site.config.station.check
