"""The queue runner with a scripted modem: what the directory, outcomes and priorities do
to jobs between routing and dialling."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from drivers.fake import FakeModem
from drivers.modem import CallResult, ModemUnavailable, Outcome
from faxd.config import load_config
from faxd.daemon import DirectoryHolder
from faxd.intake import Intake
from faxd.runner import ModemRunner, WorkSignal
from faxd.store import Store
from spool.folders import SpoolFolders

ROOT = Path(__file__).resolve().parents[2]
WARD = "sus-lund-avd-12"


class Site:
    """Config, directory copy, spool, store, intake and one runner on a FakeModem."""

    def __init__(self, tmp_path: Path, script: Iterable[CallResult | Exception] = ()) -> None:
        self.directory_file = tmp_path / "directory.csv"
        shutil.copy(ROOT / "examples" / "directory.csv", self.directory_file)
        config_file = tmp_path / "faxd.toml"
        config_file.write_text(
            '[paths]\nspool = "spool"\nstate = "state"\ndirectory = "directory.csv"\n'
            '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "Test"\ncallback = "040-628 04 00"\n'
            "[retry]\nmax_attempts = 2\ndelay_seconds = 0\nbusy_delay_seconds = 0\nno_answer_delay_seconds = 0\n"
            '[[modem]]\nname = "fake0"\ndevice = "/dev/null"\n'
        )
        self.config = load_config(config_file)
        self.folders = SpoolFolders(self.config.spool)
        self.folders.create()
        self.store = Store(self.config.database, self.config.state)
        self.directory = DirectoryHolder(self.directory_file)
        self.intake = Intake(self.config, self.store, self.folders, self.directory.current)
        self.modem = FakeModem(script=script)
        self.runner = ModemRunner(
            modem_config=self.config.modems[0], open_modem=lambda: self.modem, config=self.config,
            store=self.store, folders=self.folders, directory=self.directory.current, work=WorkSignal(),
            stopping=threading.Event(),
        )
        assert self.runner.open()

    def drop(self, name: str, **fields: str) -> list[str]:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4)
        c.drawString(72, 760, "Testformulär")
        c.showPage()
        c.setAuthor("test")
        c.save()
        path = self.folders.incoming / name
        path.write_bytes(buf.getvalue())
        (self.folders.incoming / f"{name}.json").write_text(
            "{" + ",".join(f'"{k}": "{v}"' for k, v in fields.items()) + "}"
        )
        result = self.intake.take(path)
        assert result is not None and result.quarantine_reason is None, result
        return list(result.job_ids)

    def run_all(self) -> None:
        while self.runner.run_once():
            pass

    def edit_directory(self, old: str, new: str) -> None:
        text = self.directory_file.read_text(encoding="utf-8")
        assert old in text
        self.directory_file.write_text(text.replace(old, new), encoding="utf-8")
        self.directory.reload()


def admission(site: Site, name: str = "a.pdf") -> list[str]:
    return site.drop(name, FaxdType="inskrivningsinformation", FaxdSender=WARD,
                     FaxdMunicipality="kommun-lund", FaxdOutpatient="vc-lund-norra")


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
    events = [row[0] for row in site.store._conn().execute("SELECT event FROM audit")]
    assert "job.number_changed" in events
    assert {e["outcome"] for e in site.store.confirmation_log()} == {"confirmed"}


def test_a_unit_removed_from_the_directory_stops_its_job_without_a_call(tmp_path: Path) -> None:
    """A queued job whose recipient left the directory fails with a reason; nothing is dialled to it."""
    site = Site(tmp_path)
    admission(site)
    lines = site.directory_file.read_text(encoding="utf-8").splitlines(keepends=True)
    site.directory_file.write_text("".join(l for l in lines if not l.startswith("vc-lund-norra,")), encoding="utf-8")
    site.directory.reload()
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
    site = Site(tmp_path, script=[
        CallResult(Outcome.BUSY, "the line was busy"),
        CallResult(Outcome.STATION_MISMATCH, "the remote identifies as +46 8 465 004 99", "+46 8 465 004 99"),
    ])
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
