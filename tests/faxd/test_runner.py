"""The queue runner with a scripted modem: what the directory, outcomes and priorities do
to jobs between routing and dialling."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from drivers.modem import CallResult, ModemUnavailable, Outcome
from faxd.snmp_mib import notification
from tests.faxd.site import Site, admission


def test_a_number_changed_after_routing_is_dialled_and_logged(tmp_path: Path) -> None:
    """The job dials the directory's current number, and the change is in the job's log."""
    site = Site(tmp_path)
    admission(site)
    unit = site.directory.current().get("kommun-lund")
    assert unit is not None
    old_numbers = {j["recipient"]: j["number"] for j in site.store.jobs()}
    site.edit_directory(unit.fax_display, "040-628 04 88")
    site.run_all()
    dialled = {r.number for r in site.modem.requests}
    assert "0406280488" in dialled and old_numbers["kommun-lund"] not in dialled
    with site.store.transaction() as conn:
        events = [row[0] for row in conn.execute("SELECT event FROM audit")]
    assert "job.number_changed" in events
    assert {e["outcome"] for e in site.store.confirmation_log()} == {"confirmed"}


def test_a_unit_removed_from_the_directory_stops_its_job_without_a_call(tmp_path: Path) -> None:
    """A queued job whose recipient left the directory fails with a reason; nothing is dialled to it."""
    site = Site(tmp_path)
    admission(site)
    site.remove_unit("vc-lund-norra")
    site.run_all()
    jobs = {j["recipient"]: j for j in site.store.jobs()}
    assert jobs["vc-lund-norra"]["state"] == "failed"
    assert "no longer in the fax directory" in jobs["vc-lund-norra"]["reason"]
    assert jobs["kommun-lund"]["state"] == "confirmed"
    assert len(site.modem.requests) == 1
    assert len(list(site.folders.failed.glob("*.pdf"))) == 1


def test_an_emergency_sheet_goes_before_routine_messages(tmp_path: Path) -> None:
    """An akutblad dropped after an admission notice is sent first."""
    site = Site(tmp_path)
    admission(site)
    site.drop("akut.pdf", FaxdType="akutblad", FaxdSender="kommun-lund", FaxdWard="sus-malmo-akuten")
    site.run_all()
    assert site.modem.requests[0].number == site.directory.current().get("sus-malmo-akuten").fax  # type: ignore[union-attr]


def test_busy_is_retried_and_station_mismatch_is_not(tmp_path: Path) -> None:
    """Busy comes back to the queue and then succeeds; a station mismatch fails at once."""
    site = Site(
        tmp_path,
        script=[
            CallResult(Outcome.BUSY, "the line was busy"),
            CallResult(Outcome.STATION_MISMATCH, "the remote identifies as +46 8 465 004 99", "+46 8 465 004 99"),
        ],
    )
    admission(site)
    site.run_all()
    log = site.store.confirmation_log()
    assert [e["outcome"] for e in log] == ["busy", "station_mismatch", "confirmed"]
    jobs = {j["job_id"]: j for j in site.store.jobs()}
    assert jobs[log[0]["job_id"]]["state"] == "confirmed" and jobs[log[0]["job_id"]]["attempts"] == 2
    assert jobs[log[1]["job_id"]]["state"] == "failed"
    assert "not retried automatically" in jobs[log[1]["job_id"]]["reason"]


def test_tries_are_limited(tmp_path: Path) -> None:
    """A recipient that never answers fails after max_attempts, kept for follow-up."""
    site = Site(tmp_path, script=[CallResult(Outcome.NO_ANSWER, "no answer")] * 4)
    admission(site)
    site.run_all()
    jobs = site.store.jobs()
    assert [j["state"] for j in jobs] == ["failed", "failed"]
    assert all(j["attempts"] == 2 and "gave up after 2 attempts" in j["reason"] for j in jobs)
    assert len(list(site.folders.failed.glob("*.pdf"))) == 1


def test_a_modem_failing_mid_call_does_not_use_up_the_job(tmp_path: Path) -> None:
    """ModemUnavailable during a call marks the modem down and gives the job its try back."""
    site = Site(tmp_path, script=[ModemUnavailable("port vanished")])
    ids = admission(site)
    assert site.runner.run_once()
    assert site.store.modems()[0]["state"] == "down"
    assert not site.runner.run_once()  # no modem, no job taken
    assert {j["job_id"]: j["attempts"] for j in site.store.jobs()}[ids[0]] == 0
    assert site.runner.open()
    site.run_all()
    assert {j["state"] for j in site.store.jobs()} == {"confirmed"}


@pytest.mark.parametrize("pages", [1])
def test_every_call_starts_with_the_cover_sheet(tmp_path: Path, pages: int) -> None:
    """The modem is always handed cover sheet + document pages, and the archive holds the same pages."""
    site = Site(tmp_path)
    admission(site)
    site.run_all()
    request = site.modem.requests[0]
    assert len(request.pages) == pages + 1
    archives = sorted((site.config.state / "archive").glob("*.tif"))
    assert len(archives) == 2


def test_a_database_failure_mid_job_neither_kills_the_runner_nor_loses_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the store fails while a job is taken (a full disk), the job goes back to the queue
    once writes work again, and is then sent."""
    import sqlite3

    site = Site(tmp_path)
    admission(site)
    real_start = site.store.start_attempt

    def disk_full(*args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(site.store, "start_attempt", disk_full)
    monkeypatch.setattr(site.store, "finish_attempt", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        site.runner.run_once()
    assert {j["state"] for j in site.store.jobs()} == {"active", "queued"}
    monkeypatch.setattr(site.store, "start_attempt", real_start)
    monkeypatch.undo()
    site.runner.release_current_job()  # as run() does after the failure
    site.run_all()
    assert [j["state"] for j in site.store.jobs()] == ["confirmed", "confirmed"]
    assert site.store.verify_log().intact


def test_a_station_alarm_says_why_in_the_directory_s_words_and_only_for_station_trouble(tmp_path: Path) -> None:
    """alarm.station_mismatch carries a reason from the directory's facts (the trap's text);
    the id the remote gave stays in the attempt's record. A warning that is not about the
    station (a missed command) raises no station alarm."""
    remote = "+46 8 465 004 99"
    site = Site(
        tmp_path,
        script=[
            CallResult(Outcome.STATION_MISMATCH, f"the remote identifies as {remote}", remote),
            CallResult(Outcome.CONFIRMED, "ok", warnings=("the remote missed the command after page 1 (sent DIS)",)),
        ],
    )
    admission(site)
    with capture_logs() as logs:
        site.run_all()
    alarms = [e for e in logs if e["event"] == "alarm.station_mismatch"]
    assert len(alarms) == 1
    unit = site.directory.current().get(alarms[0]["recipient"])
    assert unit is not None
    reason = alarms[0]["reason"]
    assert reason.startswith(f"{unit.fax_display} ({unit.id}) answered with another station id")
    assert "nothing was sent" in reason and "465 004 99" not in reason
    trap = notification(alarms[0])
    assert trap is not None and trap.name == "faxdStationMismatch"
    assert bytes(trap.varbinds[-1][1]).decode() == reason

    (tmp_path / "warn").mkdir()
    warned = Site(
        tmp_path / "warn", script=[CallResult(Outcome.CONFIRMED, "ok", remote, warnings=("station check: x",))]
    )
    admission(warned)
    with capture_logs() as logs:
        warned.run_all()
    [alarm] = [e for e in logs if e["event"] == "alarm.station_mismatch"]
    assert "sent all the same (station_check = warn)" in alarm["reason"]
    assert len(alarm["reason"]) <= 255  # the trap's DisplayString holds it whole
