"""Resume only to the same machine (issue 13), with the real daemon and the simulator.

A call breaks off after page 1. If the retry would reach another machine (the directory
changed the unit's number meanwhile, or another station answers the number), that machine
must get the whole document from page 1, behind a cover sheet that says it is sent again
in full, and the confirmation log must say why. Before issue 13 the retry sent pages 2-3
to the new machine and the job ended confirmed, though it never got page 1.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivers.page import Resolution
from faxd.config import load_config
from faxd.prepare import transmission_pages
from faxd.runner_resume import ResendReason
from imaging import header_rows, render_pdf
from routing.directory import Directory
from tests.e2e.harness import DIRECTORY, MUNICIPALITY, SAMPLE_DIRECTORY, WARD, Gateway, make_pdf, tiff_pages

pytestmark = pytest.mark.e2e

EARLIER_CSI = "+46 8 465 004 10"
OTHER_CSI = "+46 8 465 004 20"


def akutblad() -> dict[str, str]:
    """An emergency sheet from a municipality to one ward (WARD has no station id in the directory)."""
    return {"FaxdType": "akutblad", "FaxdSender": MUNICIPALITY, "FaxdWard": WARD, "FaxdReference": "E2E-RESUME"}


def akutblad_pdf(path: Path, pages: int) -> Path:
    """An emergency sheet of ``pages`` pages (the title on page one names the form)."""
    return make_pdf(path, pages, metadata=akutblad(), title="Akutblad för manuell hantering")


def ward_number() -> str:
    unit = SAMPLE_DIRECTORY.get(WARD)
    assert unit is not None and unit.station_id is None
    return unit.fax


def resend_events(gateway: Gateway) -> list[dict[str, Any]]:
    """The ``job.resend_in_full`` entries of the signed confirmation log."""
    conn = sqlite3.connect(f"file:{gateway.state / 'faxd.sqlite3'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT data FROM audit WHERE event = 'job.resend_in_full' ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [json.loads(row[0]) for row in rows]


def assert_whole_document_with_notice(
    gateway: Gateway, pdf: Path, received: Path, attempt: dict[str, Any], reason: ResendReason
) -> None:
    """``received`` (the new machine's pages.tif) is cover + every page from page 1, and the
    cover is exactly the one with the "sent again in full" line (the same one without it differs)."""
    pages = tiff_pages(received)
    document = [p.pixels for p in render_pdf(pdf, resolution=Resolution.FINE)]
    strip = header_rows(Resolution.FINE)
    assert len(pages) == 1 + len(document)
    for got, expected in zip(pages[1:], document, strict=True):
        assert np.array_equal(got[strip:], expected[strip:])
    # The cover as the daemon composed it for that attempt: its time is in the archive's name.
    stamp = attempt["archive"].rsplit("-", 1)[1].removesuffix(".tif")
    sent_at = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC).astimezone()
    common = {
        "config": load_config(gateway.config),
        "directory": Directory.load(gateway.directory),
        "document": pdf,
        "document_pages": len(document),
        "job_id": attempt["job_id"],
        "message_type": attempt["message_type"],
        "sender_id": MUNICIPALITY,
        "recipient_id": WARD,
        "sent_at": sent_at,
    }
    with_notice = next(transmission_pages(**common, sent_again_notice=reason.notice)).pixels
    without = next(transmission_pages(**common)).pixels
    assert with_notice.shape == pages[0].shape
    assert np.array_equal(pages[0][strip:], with_notice[strip:])
    assert not np.array_equal(with_notice[strip:], without[strip:])


def test_a_number_changed_between_attempts_gets_the_whole_document_again(gateway: Gateway, tmp_path: Path) -> None:
    """The old number confirmed page 1 and hung up; the directory was reloaded with a new
    number for the ward; the retry sends cover + pages 1-3 to the new number, with the notice."""
    old = ward_number()
    new = "0846500455"
    directory = tmp_path / "directory.csv"
    shutil.copy(DIRECTORY, directory)
    gateway.directory = directory
    gateway.start_simulator(profiles={old: {"dcn_after_page": 2, "csi": EARLIER_CSI}, new: {"csi": OTHER_CSI}})
    daemon = gateway.start_daemon()
    pdf = akutblad_pdf(tmp_path / "akut.pdf", 3)
    gateway.send(pdf)
    # The first call is under way: change the number now, so the retry (not this call) sees it.
    daemon.wait_for(r"event=job\.dialing", timeout=60)
    text = directory.read_text(encoding="utf-8")
    written = "08-465 004 01"
    assert text.count(f",{written},") == 1
    directory.write_text(text.replace(f",{written},", ",08-465 004 55,"), encoding="utf-8")
    daemon.wait_for(r"event=job\.resend_in_full", timeout=120)
    daemon.wait_for(r"event=job\.sent", timeout=120)

    attempts = gateway.log()
    assert [(a["number"], a["outcome"], a["pages_total"]) for a in attempts] == [
        (old, "remote_disconnected", 4),
        (new, "confirmed", 4),
    ]
    assert attempts[0]["pages_confirmed"] == 2  # cover + page 1 reached the old machine
    calls = gateway.calls()
    assert [c["number"][-len(old) :] for c in calls] == [old, new]
    assert_whole_document_with_notice(
        gateway, pdf, Path(calls[1]["dir"]) / "pages.tif", attempts[1], ResendReason.NUMBER_CHANGED
    )
    [event] = resend_events(gateway)
    assert event["reason"] == "number_changed"
    assert (event["earlier_number"], event["number"]) == (old, new)
    assert "intact" in gateway.faxctl("log", "--verify").stdout


def test_another_station_on_the_retry_gets_the_whole_document_again(gateway: Gateway, tmp_path: Path) -> None:
    """Station 04 10 confirmed page 1 and hung up; by the retry another machine (04 20)
    answers the same number. The continuation is refused before page one (DCN on its CSI)
    and the next call sends cover + pages 1-3 to it, with the notice."""
    number = ward_number()
    gateway.retry_delay_seconds = 5.0  # time to swap the machine before the retry
    first_out, second_out = tmp_path / "received-1", tmp_path / "received-2"
    first = gateway.start_simulator(profiles={number: {"dcn_after_page": 2, "csi": EARLIER_CSI}}, out=first_out)
    daemon = gateway.start_daemon()
    pdf = akutblad_pdf(tmp_path / "akut.pdf", 3)
    gateway.send(pdf)
    daemon.wait_for(r"event=job\.retry_scheduled", timeout=120)
    first.stop(signal.SIGKILL)
    gateway.start_simulator(profiles={number: {"csi": OTHER_CSI}}, out=second_out)
    daemon.wait_for(r"event=job\.resend_in_full", timeout=120)
    daemon.wait_for(r"event=job\.sent", timeout=120)

    attempts = gateway.log()
    assert attempts[0]["outcome"] == "remote_disconnected" and attempts[0]["pages_confirmed"] == 2
    assert attempts[0]["remote_id"] == EARLIER_CSI
    guard, full = attempts[-2:]
    assert guard["outcome"] == "station_mismatch" and guard["pages_confirmed"] == 0
    assert guard["pages_total"] == 3  # it would have been a continuation: cover + pages 2-3
    assert "the whole document is sent again" in guard["reason"]
    assert (full["outcome"], full["pages_total"], full["remote_id"]) == ("confirmed", 4, OTHER_CSI)
    # In between there may be the retry that found the first simulator gone (modem_error, try kept).
    assert {a["outcome"] for a in attempts[1:-2]} <= {"modem_error"}

    assert len(gateway.calls(first_out)) == 1
    refused, delivered = gateway.calls(second_out)
    assert refused["pages"] == 0
    assert_whole_document_with_notice(
        gateway, pdf, Path(delivered["dir"]) / "pages.tif", full, ResendReason.STATION_CHANGED
    )
    [event] = resend_events(gateway)
    assert event["reason"] == "station_changed"
    assert (event["earlier_remote_id"], event["remote_id"]) == (EARLIER_CSI, OTHER_CSI)
    assert re.search(r"intact", gateway.faxctl("log", "--verify").stdout)
