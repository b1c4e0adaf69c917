"""Follow-up with a scripted modem: what gets a package and a notice, what never does
(a failed notice, a drill, an old failure), and the [followup] table."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from structlog.testing import capture_logs

from drivers.modem import CallResult, Outcome
from faxd.config import ConfigError, load_config
from faxd.followup import NOTICE_TYPE, FollowUp
from tests.faxd.site import WARD, Site, admission


def _follow_up(site: Site) -> FollowUp:
    followup = FollowUp(site.config, site.store, site.directory.current, lambda: None)
    site.runner.followup = followup
    return followup


def _events(site: Site, prefix: str) -> list[tuple[str, str | None]]:
    with site.store.transaction() as conn:
        return conn.execute(
            "SELECT event, job_id FROM audit WHERE event LIKE ? ORDER BY seq", (prefix + "%",)
        ).fetchall()


def test_a_failed_notice_is_recorded_and_alarmed_once_never_followed_up(tmp_path: Path) -> None:
    """Nobody answers anywhere: both jobs fail, each gets a package and a notice to the ward,
    the notices fail too, and that ends it: one alarm each, no notice about a notice."""
    site = Site(tmp_path, script=[CallResult(Outcome.NO_ANSWER, "no answer")] * 20, max_attempts=2)
    _follow_up(site)
    admission(site)
    with capture_logs() as logs:
        site.run_all()
    jobs = site.store.jobs()
    notices = [j for j in jobs if j["message_type"] == NOTICE_TYPE]
    assert [(j["recipient"], j["state"]) for j in notices] == [(WARD, "failed"), (WARD, "failed")]
    assert len(jobs) == 4 and all(j["state"] == "failed" for j in jobs)
    events = [e for e, _ in _events(site, "followup.")]
    assert events.count("followup.package") == 2
    assert events.count("followup.notice_queued") == 2
    assert events.count("followup.notice_failed") == 2
    alarms = [e for e in logs if e["event"] == "alarm.followup_notice_failed"]
    assert len(alarms) == 2 and all("phone the unit" in a["reason"] for a in alarms)
    # Settling again finds nothing left to do.
    assert site.runner.followup is not None and site.runner.followup.settle() == []
    assert len(list((site.config.state / "followup").glob("*.pdf"))) == 2


def test_a_job_that_failed_without_a_call_gets_its_pages_rendered(tmp_path: Path) -> None:
    """The recipient left the directory before any call: no archive, so the package's
    cover sheet and page are rendered now; the notice still goes to the ward."""
    site = Site(tmp_path)
    _follow_up(site)
    admission(site)
    site.remove_unit("vc-lund-norra")
    site.run_all()
    (package,) = (site.config.state / "followup").glob("*.pdf")
    reader = PdfReader(package)
    assert len(reader.pages) == 3
    text = reader.pages[0].extract_text()
    assert "recipient_removed" in text and "renderade nu" in text
    states = {(j["recipient"], j["message_type"]): j["state"] for j in site.store.jobs()}
    assert states[(WARD, NOTICE_TYPE)] == "confirmed"
    assert site.store.verify_log().intact


def test_drills_and_old_failures_are_left_alone(tmp_path: Path) -> None:
    """A failure older than within_hours (a database from before follow-up) gets nothing."""
    site = Site(tmp_path, script=[CallResult(Outcome.NO_ANSWER, "no answer")] * 4, max_attempts=1)
    admission(site)
    site.run_all()  # no follow-up wired yet: two failed jobs
    with sqlite3.connect(site.config.database) as conn:
        conn.execute("UPDATE jobs SET updated = '2020-01-01T00:00:00.000+00:00'")
    assert _follow_up(site).settle() == []
    assert _events(site, "followup.") == []


def test_switched_off_nothing_happens(tmp_path: Path) -> None:
    site = Site(tmp_path, script=[CallResult(Outcome.NO_ANSWER, "no answer")] * 4, max_attempts=1)
    text = site.config.source.read_text() + "[followup]\nenabled = false\nnotify_sender = false\n"
    site.config.source.write_text(text)
    followup = _follow_up(site)
    followup.config = load_config(site.config.source)
    admission(site)
    site.run_all()
    assert _events(site, "followup.") == []
    assert not (site.config.state / "followup").exists()


def test_the_followup_table_is_read_and_typos_are_refused(tmp_path: Path) -> None:
    site = Site(tmp_path)
    base = site.config.source.read_text()
    site.config.source.write_text(base + '[followup]\nfolder = "elsewhere"\nwithin_hours = 12\n')
    config = load_config(site.config.source)
    assert config.followup_folder == tmp_path / "elsewhere" and config.followup.within_hours == 12
    assert config.followup.enabled and config.followup.notify_sender
    site.config.source.write_text(base + "[followup]\nenabeld = false\n")
    with pytest.raises(ConfigError, match="enabeld"):
        load_config(site.config.source)


def test_the_first_page_and_the_notice_give_the_time_in_the_sites_zone_and_name_it(tmp_path: Path) -> None:
    """Times on paper are in the zone the reconciliation uses ([outage] timezone), named,
    not in the server's own zone."""
    site = Site(tmp_path, script=[CallResult(Outcome.NO_ANSWER, "no answer")] * 2, max_attempts=1)
    admission(site)
    site.run_all()  # two jobs fail; follow them up by hand so the notices stay in work/
    _follow_up(site).settle()
    with sqlite3.connect(site.config.database) as conn:
        (updated,) = conn.execute("SELECT updated FROM jobs WHERE state = 'failed' ORDER BY seq LIMIT 1").fetchone()
    zone = site.config.outage.timezone
    assert zone == "Europe/Stockholm"
    expected = f"{datetime.fromisoformat(updated).astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"
    first_pages = [PdfReader(p).pages[0].extract_text() for p in (site.config.state / "followup").glob("*.pdf")]
    notices = [PdfReader(p).pages[0].extract_text() for p in site.folders.work.glob("*.pdf")]
    assert len(first_pages) == 2 and len(notices) == 2
    assert any(expected in text for text in first_pages), first_pages
    assert any(expected in text for text in notices), notices
