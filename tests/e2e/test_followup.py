"""Follow-up of what never arrived, end to end: the real daemon, the simulator, a recipient
that is busy for good. The package is in the follow-up folder and the sending unit's
number received the notice, as an ordinary fax of the queue; both are log entries."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.e2e.harness import DIRECTORY, MUNICIPALITY, OUTPATIENT, WARD, Gateway, admission_meta, make_pdf
from tests.e2e.test_faults import digits

pytestmark = pytest.mark.e2e


def events(gateway: Gateway, *names: str) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(gateway.state / "faxd.sqlite3") as conn:
        marks = ",".join("?" * len(names))
        return conn.execute(
            f"SELECT event, job_id, data FROM audit WHERE event IN ({marks}) ORDER BY seq", names
        ).fetchall()


def failed_job(gateway: Gateway, recipient: str) -> str:
    with sqlite3.connect(gateway.state / "faxd.sqlite3") as conn:
        (job_id,) = conn.execute(
            "SELECT id FROM jobs WHERE recipient = ? AND state = 'failed'", (recipient,)
        ).fetchone()
    return str(job_id)


def test_a_recipient_busy_for_good_gives_a_package_and_a_notice_to_the_sending_unit(
    gateway: Gateway, tmp_path: Path
) -> None:
    """Busy three times: the package (first page, cover sheet, the two pages) is a valid PDF
    in the follow-up folder, and the ward that sent it gets a one-page notice by fax."""
    gateway.followup = True  # on by default in faxd; the harness leaves it off for other tests
    gateway.start_simulator(profiles={digits(MUNICIPALITY): {"answer": "busy"}})
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "two.pdf", 2, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.failed", timeout=120)
    daemon.wait_for(r"event=followup\.notice_queued", timeout=60)
    # The outpatient unit's copy and the notice to the ward: two confirmed jobs.
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)

    job_id = failed_job(gateway, MUNICIPALITY)
    package = gateway.state / "followup" / f"{job_id}.pdf"
    assert package.is_file()
    # Made by the daemon for its user and the auditors' group only (faxd.access).
    for path, mode in ((gateway.state, 0o750), (package.parent, 0o750), (package, 0o640)):
        assert path.stat().st_mode & 0o777 == mode, path
    assert (gateway.state / "faxd.sqlite3").stat().st_mode & 0o777 == 0o640
    assert len(PdfReader(package).pages) == 1 + 1 + 2  # why it failed, cover sheet, the pages
    info = subprocess.run(["pdfinfo", str(package)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+4$", info, re.MULTILINE)  # poppler reads it too
    first = PdfReader(package).pages[0].extract_text()
    assert "KOM INTE FRAM" in first and job_id in first and "busy" in first and "E2E-1" in first

    notices = [c for c in gateway.calls() if c["number"].endswith(digits(WARD))]
    assert len(notices) == 1  # received by the simulated sending unit's number
    assert notices[0]["pages"] == 2  # its cover sheet and the notice
    log = gateway.log()
    notice_attempts = [e for e in log if e["recipient"] == WARD]
    assert [(e["message_type"], e["outcome"], e["pages_confirmed"]) for e in notice_attempts] == [
        ("followup-notice", "confirmed", 2)
    ]
    assert {e["recipient"] for e in log if e["outcome"] == "confirmed"} == {OUTPATIENT, WARD}

    entries = events(gateway, "followup.package", "followup.notice_queued")
    assert [(e[0], e[1]) for e in entries] == [("followup.package", job_id), ("followup.notice_queued", job_id)]
    assert f'"file":"{job_id}.pdf"' in entries[0][2] and '"pages":4' in entries[0][2]
    assert gateway.faxctl("audit", "verify").returncode == 0
    # Nothing was followed up twice, and the notice is not followed up at all.
    assert daemon.count(r"event=followup\.package_written") == 1


class _SlowRetries(Gateway):
    """Two tries five seconds apart, on a copy of the directory the test may edit."""

    def write_config(self) -> None:
        super().write_config()
        text = self.config.read_text()
        text = text.replace("max_attempts = 3", "max_attempts = 2").replace(
            "busy_delay_seconds = 0.2", "busy_delay_seconds = 5"
        )
        self.config.write_text(text.replace(str(DIRECTORY), str(self.root / "directory.csv")))


def test_a_sender_no_longer_in_the_directory_gives_an_alarm_not_a_crash(tmp_path: Path) -> None:
    """The ward leaves the directory between the tries: the package is still written, the
    journal says in one line why no notice could be faxed, and the daemon keeps going."""
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    gateway = _SlowRetries(root=tmp_path, device=str(tmp_path / "tty-sim"), followup=True)
    try:
        gateway.start_simulator(profiles={digits(MUNICIPALITY): {"answer": "busy"}})
        daemon = gateway.start_daemon()
        gateway.send(make_pdf(tmp_path / "one.pdf", 1, metadata=admission_meta()))
        daemon.wait_for(r"event=job\.retry_scheduled", timeout=120)
        edited = tmp_path / "directory.new"
        lines = directory.read_text(encoding="utf-8").splitlines(keepends=True)
        edited.write_text("".join(line for line in lines if not line.startswith(f"{WARD},")), encoding="utf-8")
        edited.replace(directory)  # the daemon reads the directory afresh when its file changes
        alarm = daemon.wait_for(r"event=alarm\.followup_notice_impossible", timeout=120)[0]
        assert f"sender={WARD}" in alarm and "not in the fax directory" in alarm
        assert "Traceback" not in "\n".join(daemon.lines)
        job_id = failed_job(gateway, MUNICIPALITY)
        assert len(PdfReader(gateway.state / "followup" / f"{job_id}.pdf").pages) == 3
        assert [e[0] for e in events(gateway, "followup.package", "followup.notice_impossible")] == [
            "followup.package",
            "followup.notice_impossible",
        ]
        assert daemon.proc.poll() is None
        assert gateway.faxctl("status").returncode == 0
    finally:
        gateway.stop_all()


def test_sighup_records_the_directory_in_force_in_the_log(tmp_path: Path) -> None:
    """The running daemon, HUP after the directory file changed: a directory.reloaded entry
    with the new version and the one it replaced (the first was recorded at start)."""
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    gateway = Gateway(root=tmp_path, device=str(tmp_path / "tty-sim"), directory=directory)
    try:
        gateway.start_simulator()
        daemon = gateway.start_daemon()
        edited = tmp_path / "directory.new"
        edited.write_text(directory.read_text(encoding="utf-8").replace("040-628 04 16", "040-628 04 88"), "utf-8")
        edited.replace(directory)
        gateway.daemon.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        daemon.wait_for(r"event=directory\.reloaded", timeout=60)
        daemon.wait_for(r"event=config\.reloaded", timeout=60)
        with sqlite3.connect(gateway.state / "faxd.sqlite3") as conn:
            rows = [json.loads(r[0]) for r in conn.execute("SELECT data FROM audit WHERE event = 'directory.reloaded'")]
        assert [r["previous"] for r in rows] == [None, rows[0]["version"]]
        assert rows[1]["version"] != rows[0]["version"]
        assert gateway.faxctl("audit", "verify").returncode == 0
    finally:
        gateway.stop_all()
