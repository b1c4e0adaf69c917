"""The readiness drill end to end: `faxctl drill` on the real daemon, the test page at the
simulated remote, the result in the confirmation log, `faxctl status`, and the alarm."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from faxd.drill import test_page as drill_page
from tests.e2e.harness import MUNICIPALITY, SAMPLE_DIRECTORY, Gateway

pytestmark = pytest.mark.e2e

DRILL = f'[drill]\nrecipient = "{MUNICIPALITY}"\ninterval_hours = 0\n'


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(root=tmp_path, device=str(tmp_path / "tty-sim"), extra_config=DRILL)
    try:
        yield gw
    finally:
        gw.stop_all()


def test_drill_on_demand_passes_and_is_shown(gateway: Gateway) -> None:
    """`faxctl drill`: one test page after the cover sheet reaches the test recipient; the
    confirmation log has it under type drill; status shows the drill passed."""
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    out = gateway.faxctl("drill").stdout
    job_id = re.search(r"job (FX-\d{8}-\d+)", out).group(1)  # type: ignore[union-attr]
    daemon.wait_for(r"event=drill\.passed", timeout=120)
    (call,) = gateway.calls()
    assert call["pages"] == 2 and call["outcome"] == "confirmed"
    (entry,) = gateway.log()
    assert (entry["job_id"], entry["message_type"], entry["outcome"]) == (job_id, "drill", "confirmed")
    service = gateway.status()["service"]
    assert service["drill"]["result"] == "passed" and service["state"] == "ready"
    # The drill is in the signed confirmation log, and the log verifies.
    with sqlite3.connect(gateway.state / "faxd.sqlite3") as conn:
        marks = conn.execute("SELECT event FROM audit WHERE job_id = ? AND event LIKE 'drill.%'", (job_id,)).fetchall()
    assert [m[0] for m in marks] == ["drill.started", "drill.passed"]
    assert gateway.faxctl("audit", "verify").returncode == 0
    text = gateway.faxctl("status").stdout
    assert "\nservice: ready\n" in text and "last drill: passed" in text


def test_failed_drill_raises_the_alarm_and_degrades(gateway: Gateway) -> None:
    """A drill the remote cannot take fails: alarm.drill_failed, status degraded with the reason."""
    unit = SAMPLE_DIRECTORY.get(MUNICIPALITY)
    assert unit is not None
    gateway.start_simulator(profiles={unit.fax: {"answer": "voice"}})
    daemon = gateway.start_daemon()
    gateway.faxctl("drill")
    daemon.wait_for(r"event=alarm\.drill_failed", timeout=120)
    service = gateway.status()["service"]
    assert service["state"] == "degraded" and service["drill"]["result"] == "failed"
    assert any("readiness drill failed" in r for r in service["reasons"])


def test_drill_without_table_is_one_clear_line(tmp_path: Path) -> None:
    """No [drill] table: faxctl drill says what to add, exit 2, no traceback."""
    gw = Gateway(root=tmp_path, device=str(tmp_path / "tty-sim"))
    gw.write_config()
    result = gw.faxctl("drill", check=False)
    assert result.returncode == 2 and "drill.recipient" in result.stderr and "Traceback" not in result.stderr


def test_the_test_page_says_it_is_a_test() -> None:
    """The page is a one-page PDF that says PROVFAX / TEST FAX and nothing about a patient."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(drill_page("Testgateway", datetime(2026, 12, 2, 3, 0, tzinfo=UTC))))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "PROVFAX / TEST FAX" in text and "inga patientuppgifter" in text and "no patient data" in text
