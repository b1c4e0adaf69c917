"""Outage periods through faxctl, the policy for documents dropped without one, and the
reconciliation of a real log from the queue runner."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
import structlog

from faxd.cli import main as faxctl
from tests.faxd.site import WARD, Site, admission


def ctl(site: Site, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what the runner logged before is not the command's output
    code = faxctl(["--config", str(site.config.source), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_held_without_an_outage_then_sent_once_one_is_declared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Policy hold: the document is kept, nothing is dialled, status shows it and an alarm is
    logged; declaring the outage releases it and it is sent; the log stays intact."""
    site = Site(tmp_path, when_not_declared="hold")
    with structlog.testing.capture_logs() as logs:
        admission(site)
    assert any(e["event"] == "alarm.no_outage_declared" for e in logs)
    site.run_all()
    assert site.modem.requests == []
    code, out, _ = ctl(site, capsys, "status", "--json")
    status = json.loads(out)
    assert len(status["held_jobs"]) == 2 and status["outage_in_force"] is False
    code, out, _ = ctl(site, capsys, "outage", "start", "--reason", "Mina planer nere")
    assert code == 0 and "O-1" in out and "2 held documents" not in out and "1 held documents released" in out
    site.run_all()
    assert {e["outcome"] for e in site.store.confirmation_log()} == {"confirmed"}
    code, out, _ = ctl(site, capsys, "audit", "verify")
    assert code == 0, out


def test_refuse_quarantines_with_the_reason(tmp_path: Path) -> None:
    """Policy refuse: without an outage the document is quarantined, saying why."""
    site = Site(tmp_path, when_not_declared="refuse")
    with pytest.raises(AssertionError):
        admission(site)
    (row,) = site.store.quarantined()
    assert "no outage is declared" in row["reason"]


def test_outage_commands_record_who_and_when_and_refuse_nonsense(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """start/end/status/list: one line for each refusal, the user and both times recorded."""
    site = Site(tmp_path)
    code, _, err = ctl(site, capsys, "outage", "end")
    assert code == 1 and "no outage is in force" in err and len(err.strip().splitlines()) == 1
    code, _, err = ctl(site, capsys, "outage", "start", "--reason", "x", "--at", "2999-01-01T00:00")
    assert code == 1 and "future" in err
    code, _, err = ctl(site, capsys, "outage", "start", "--reason", "x", "--at", "yesterday")
    assert code == 1 and "ISO time" in err
    assert ctl(site, capsys, "outage", "start", "--reason", "Mina planer nere", "--at", "2026-03-09T08:00")[0] == 0
    code, _, err = ctl(site, capsys, "outage", "start", "--reason", "again")
    assert code == 1 and "already in force" in err
    code, _, err = ctl(site, capsys, "outage", "end", "--at", "2026-03-08T08:00")
    assert code == 1 and "before outage O-1 started" in err
    assert ctl(site, capsys, "outage", "end", "--at", "2026-03-10T00:00")[0] == 0
    code, out, _ = ctl(site, capsys, "outage", "list", "--json")
    (period,) = json.loads(out)
    assert period["id"] == "O-1" and period["open"] is False and period["started_by"]
    # --at without an offset is Swedish local time: 00:00 on 10 March is 23:00 UTC on the 9th.
    assert period["started"].startswith("2026-03-09T07:00") and period["ended"].startswith("2026-03-09T23:00")
    code, out, _ = ctl(site, capsys, "outage", "status")
    assert code == 0 and "O-1" in out and "ended 2026-03-10 00:00" in out


def test_reconcile_a_real_log_in_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A log made by the runner: JSON has the fields the coordinator needs, CSV and HTML parse,
    the table names the units, and a failed recipient is in the second list."""
    from drivers.modem import CallResult, Outcome

    site = Site(tmp_path, script=[CallResult(Outcome.NOT_A_FAX, "a voice answered")], max_attempts=1)
    assert ctl(site, capsys, "outage", "start", "--reason", "Mina planer nere", "--at", "2026-01-01T08:00")[0] == 0
    admission(site, "a.pdf")
    site.drop(
        "b.pdf",
        FaxdType="andrad-utskrivning",
        FaxdSender=WARD,
        FaxdMunicipality="kommun-lund",
        FaxdOutpatient="vc-lund-norra",
        FaxdEventDate="2999-12-31",
        FaxdReference="UTSK-7",
    )
    site.run_all()
    code, out, err = ctl(site, capsys, "reconcile")
    assert code == 1 and "still in force" in err
    assert ctl(site, capsys, "outage", "end")[0] == 0
    code, out, _ = ctl(site, capsys, "reconcile", "--format", "json")
    result = json.loads(out)
    by_reference = {i["reference"]: i for i in result["items"]}
    assert by_reference["UTSK-7"]["action"] == "register" and by_reference["UTSK-7"]["unit"] == WARD
    assert by_reference["UTSK-7"]["reason"].startswith("Meddelande om förändrad")
    (failed,) = result["not_arrived"]
    assert failed["state"] == "failed" and failed["outcome"] == "not_a_fax" and failed["todo"]
    code, out, _ = ctl(site, capsys, "reconcile", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["list"] for r in rows} == {"register", "not_arrived"} and len(rows) == 3
    code, out, _ = ctl(site, capsys, "reconcile", "--format", "html")
    parser = HTMLParser()
    parser.feed(out)
    assert out.startswith("<!DOCTYPE html>") and out.count("<tr>") == 5
    code, out, _ = ctl(site, capsys, "reconcile", "--unit", WARD)
    assert code == 0 and WARD in out and "register" in out


def reconciled_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Site:
    """An outage, a changed discharge date after it (UTSK-7: the ward registers), ended."""
    site = Site(tmp_path)
    assert ctl(site, capsys, "outage", "start", "--reason", "Mina planer nere", "--at", "2026-01-01T08:00")[0] == 0
    site.drop(
        "b.pdf",
        FaxdType="andrad-utskrivning",
        FaxdSender=WARD,
        FaxdMunicipality="kommun-lund",
        FaxdOutpatient="vc-lund-norra",
        FaxdEventDate="2999-12-31",
        FaxdReference="UTSK-7",
    )
    site.run_all()
    assert ctl(site, capsys, "outage", "end")[0] == 0
    return site


TAMPERING = {
    # The discharge date moved before the outage's end: the ward would be told it need not register.
    "edited": "UPDATE audit SET data = replace(data, '2999-12-31', '2000-01-01') WHERE event = 'document.routed'",
    # The end of the outage dropped: the newest entry is gone (the head file still names it).
    "truncated": "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_reconcile_refuses_a_log_that_does_not_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """A tampered log: no work list, one line naming the first broken entry and how, exit 3
    (as `faxctl audit verify`); with --unverified the list and one warning line on stderr."""
    site = reconciled_site(tmp_path, capsys)
    code, out, err = ctl(site, capsys, "reconcile", "--format", "json")
    assert code == 0 and json.loads(out)["items"][0]["action"] == "register"
    with sqlite3.connect(site.config.database) as conn:
        (routed,) = conn.execute("SELECT seq FROM audit WHERE event = 'document.routed'").fetchone()
        (last,) = conn.execute("SELECT MAX(seq) FROM audit").fetchone()
        assert conn.execute(TAMPERING[kind]).rowcount == 1
    broken = routed if kind == "edited" else last
    code, out, err = ctl(site, capsys, "reconcile")
    assert (code, out) == (3, "")
    assert err.count("\n") == 1 and "no work list" in err, err
    assert f"NOT intact, first break at entry {broken}: {kind}:" in err and "--unverified" in err
    verify_code, verify_out, _ = ctl(site, capsys, "audit", "verify")
    assert verify_code == code and f"first break at entry {broken}: {kind}:" in verify_out
    code, out, err = ctl(site, capsys, "reconcile", "--unverified", "--format", "json")
    warning, *rest = err.splitlines()
    assert warning.startswith("faxctl: WARNING: the confirmation log is NOT intact, first break at entry"), err
    if kind == "edited":  # the list as the altered log has it: what the warning is for
        assert code == 0 and rest == [] and json.loads(out)["items"][0]["action"] == "completed_by_fax"
    else:  # without its end the outage is in force again: nothing to reconcile yet
        assert code == 1 and out == "" and "still in force" in rest[0]
