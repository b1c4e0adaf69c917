"""The simulated modem inside a long-running daemon keeps its memory bounded: received
pages go to disk, and only the last few calls, without bitmaps, stay in memory."""

from __future__ import annotations

import json
from pathlib import Path

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, Outcome, Station
from drivers.page import FaxPage
from drivers.simulator import SimulatedModem
from drivers.simulator.pty_modem import RECENT_CALLS
from tests.drivers.pages import random_boxes


def test_received_pages_go_to_disk_not_to_a_list_that_lives_as_long_as_the_process(tmp_path: Path) -> None:
    """With keep_pages=False every call's pages are on disk, the calls kept in memory carry
    no bitmaps, and at most RECENT_CALLS of them are kept."""
    simulator = SimulatedModem(out_dir=tmp_path / "received", keep_pages=False)
    path = simulator.start()
    modem = Class1Modem(path, station=Station(tsi="+46 40 628 04 00", header_name="Test"), name="sim0")
    try:
        for seed in range(2):
            pages = [FaxPage(random_boxes(seed * 10 + n, 200)) for n in range(2)]
            result = modem.send(CallRequest(number="040-628 04 99", pages=pages))
            assert result.outcome is Outcome.CONFIRMED, result.reason
        calls = simulator.wait_for_calls(2, timeout=30)
    finally:
        modem.close()
        simulator.stop()
    assert [call.pages for call in calls] == [(), ()]
    summaries = sorted((tmp_path / "received").glob("call-*/summary.json"))
    assert [json.loads(p.read_text())["pages"] for p in summaries] == [2, 2]
    assert all((p.parent / "pages.tif").stat().st_size > 0 for p in summaries)
    assert simulator.calls_kept == RECENT_CALLS
