"""Class1Modem against SimulatedModem on a real pty: the whole normal call, end to end."""

from __future__ import annotations

import json
import os
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import structlog
from PIL import Image
from structlog.testing import capture_logs

from drivers.at_link import ModemError, T31Link
from drivers.class1 import Class1Modem, checked_atd_operand
from drivers.class1_runner import CallRunner
from drivers.modem import CallRequest, ModemUnavailable, Outcome, PageConfirmation, Station
from drivers.page import FaxPage, Resolution
from drivers.port import PortError, SerialPort
from drivers.quirks import Class1Quirks, FlowControl
from drivers.simulator import Answer, RemoteProfile, SimulatedModem
from drivers.t30.engine import T30Sender
from drivers.t30.events import CallAnswered, CallOutcome, FramesReceived
from drivers.t30.frames import FCF, DISFrame, IdentityFrame
from tests.drivers.pages import random_boxes

STATION = Station(tsi="+46 40 628 04 00", header_name="Region Skane test")
REMOTE_CSI = "040 628 04 99"
# The shared ``simulator`` fixture (tests/conftest.py) starts the simulated modem with these.
SIMULATOR_OPTIONS = {
    "csi": REMOTE_CSI,
    "profiles": {
        "0313900611": RemoteProfile(csi="031 390 06 11", answer=Answer.BUSY),
        "0406280477": RemoteProfile(csi="040 628 04 77", min_scan_ms=20, modulations=frozenset({"V.27ter", "V.29"})),
    },
}


def _text_like_page(seed: int, rows: int) -> npt.NDArray[np.bool_]:
    return random_boxes(seed, rows)


@pytest.fixture
def class1(simulator: SimulatedModem) -> Iterator[Class1Modem]:
    assert simulator.path is not None
    modem = Class1Modem(simulator.path, station=STATION, name="sim0", command_timeout=3.0)
    yield modem
    modem.close()


def test_normal_call_three_pages(simulator: SimulatedModem, class1: Class1Modem, tmp_path: Path) -> None:
    """Three fine pages reach the remote pixel for pixel; every page is confirmed."""
    pages = [FaxPage(_text_like_page(seed, rows)) for seed, rows in ((1, 400), (2, 250), (3, 320))]
    confirmed: list[PageConfirmation] = []
    request = CallRequest(number="040-628 04 99", pages=pages, expected_remote_id="+46 40 628 04 99")

    result = class1.send(request, on_page_confirmed=confirmed.append)

    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.pages_sent, result.pages_confirmed) == (3, 3)
    # Each page with how it went on the line: what the confirmation log records per page.
    assert confirmed == [PageConfirmation(i, result.bit_rate, result.coding, result.ecm) for i in range(3)]
    assert result.remote_id == REMOTE_CSI
    assert result.bit_rate == 14400

    (call,) = simulator.wait_for_calls(1, timeout=10)
    assert call.outcome is Outcome.CONFIRMED
    assert call.number == "0406280499"
    assert call.remote_tsi == STATION.tsi
    assert (call.bit_rate, call.resolution, call.coding) == (14400, Resolution.FINE, "MH")
    assert len(call.pages) == 3
    for sent, received in zip(pages, call.pages, strict=True):
        assert np.array_equal(sent.pixels, received)

    directory = tmp_path / "received" / "call-0001"
    summary = json.loads((directory / "summary.json").read_text())
    assert summary["pages"] == 3 and summary["outcome"] == "confirmed"
    assert summary["remote_tsi"] == STATION.tsi and summary["resolution"] == "204x196"
    with Image.open(directory / "pages.tif") as tiff:
        assert getattr(tiff, "n_frames", 1) == 3
        tiff.seek(1)
        assert np.array_equal(~np.array(tiff.convert("1")), pages[1].pixels)


def test_slower_remote_with_min_scan_time(simulator: SimulatedModem, class1: Class1Modem) -> None:
    """A V.29 remote asking for 20 ms lines: 9600 bit/s, normal page arrives intact."""
    page = FaxPage(_text_like_page(7, 200), Resolution.NORMAL)
    with capture_logs() as logs:
        result = class1.send(CallRequest(number="040 628 04 77", pages=[page]))
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.bit_rate == 9600
    # 20 ms at 9600 bit/s: every coded line is filled to at least 192 bits (T.4 4.1.3).
    (sent,) = [log for log in logs if log["event"] == "modem.page_sent"]
    assert sent["octets"] >= 200 * 192 // 8
    (call,) = simulator.wait_for_calls(1, timeout=10)
    assert call.resolution is Resolution.NORMAL
    assert np.array_equal(call.pages[0], page.pixels)


def test_station_mismatch_sends_no_page(simulator: SimulatedModem, class1: Class1Modem) -> None:
    page = FaxPage(_text_like_page(4, 100))
    confirmed: list[PageConfirmation] = []
    request = CallRequest(number="040-628 04 99", pages=[page], expected_remote_id="08-465 004 12")
    result = class1.send(request, on_page_confirmed=confirmed.append)
    assert result.outcome is Outcome.STATION_MISMATCH
    assert result.pages_sent == 0 and confirmed == []
    (call,) = simulator.wait_for_calls(1, timeout=10)
    assert call.pages == () and call.outcome is not Outcome.CONFIRMED


def test_busy_then_next_call_works(simulator: SimulatedModem, class1: Class1Modem) -> None:
    """BUSY is an outcome, and the same modem places the next call fine."""
    page = FaxPage(_text_like_page(5, 60))
    assert class1.send(CallRequest(number="031-390 06 11", pages=[page])).outcome is Outcome.BUSY
    assert class1.send(CallRequest(number="031-390 06 12", pages=[page])).outcome is Outcome.CONFIRMED
    assert [call.outcome for call in simulator.wait_for_calls(2, timeout=10)] == [Outcome.BUSY, Outcome.CONFIRMED]


def test_missing_port_is_modem_unavailable(tmp_path: Path) -> None:
    modem = Class1Modem(str(tmp_path / "ttyNOPE"), station=STATION)
    with pytest.raises(ModemUnavailable, match="ttyNOPE"):
        modem.send(CallRequest(number="040-628 04 99", pages=[FaxPage(_text_like_page(6, 20))]))


def test_dial_string_refuses_commands() -> None:
    assert checked_atd_operand("040-628 04 99") == "0406280499"
    with pytest.raises(ValueError, match="modem can dial"):
        checked_atd_operand("0406280499;H")


def test_host_aborting_a_call_leaves_the_simulator_ready(simulator: SimulatedModem, class1: Class1Modem) -> None:
    """A host that dials and then drops the port mid-call: the call is recorded, the next works."""
    assert simulator.path is not None
    port = SerialPort(simulator.path, flow_control=FlowControl.NONE)
    port.write(b"ATE0\rATDT0406280499\r")
    _read_until(port, b"CONNECT")
    port.close()

    page = FaxPage(_text_like_page(8, 80))
    result = class1.send(CallRequest(number="040-628 04 98", pages=[page]))
    assert result.outcome is Outcome.CONFIRMED, result.reason
    first, second = simulator.wait_for_calls(2, timeout=10)
    assert first.outcome is Outcome.REMOTE_DISCONNECTED and first.pages == ()
    assert "ATZ" in first.reason
    assert (second.call_id, second.outcome) == (2, Outcome.CONFIRMED)


def test_host_killed_mid_page_leaves_the_simulator_ready(simulator: SimulatedModem, class1: Class1Modem) -> None:
    """A host killed while sending page data leaves the modem in data mode; the next call
    ends that mode (DLE ETX) and goes through."""
    assert simulator.path is not None
    port = SerialPort(simulator.path, flow_control=FlowControl.NONE)
    port.write(b"ATE0\rATDT0406280499\r")
    _read_until(port, b"CONNECT")
    port.write(b"AT+FTM=96\r")
    _read_until(port, b"CONNECT")
    port.write(b"\x00\x80" * 500)  # half a page, no DLE ETX
    port.close()

    result = class1.send(CallRequest(number="040-628 04 98", pages=[FaxPage(_text_like_page(12, 50))]))
    assert result.outcome is Outcome.CONFIRMED, result.reason
    first, second = simulator.wait_for_calls(2, timeout=10)
    assert first.outcome is not Outcome.CONFIRMED and second.outcome is Outcome.CONFIRMED


def _read_until(port: SerialPort, wanted: bytes) -> bytes:
    received = b""
    while wanted not in received:  # each read waits at most 5 s
        chunk = port.read(timeout=5)
        assert chunk, f"no {wanted!r} from the simulator"
        received += chunk
    return received


def test_modem_vanishing_mid_call_is_modem_error(simulator: SimulatedModem, class1: Class1Modem) -> None:
    """The port dies after page 1 was confirmed: MODEM_ERROR with 1 confirmed page, no hang."""
    pages = [FaxPage(_text_like_page(seed, 60)) for seed in (9, 10)]

    def pull_the_plug(page: PageConfirmation) -> None:
        simulator.stop()

    result = class1.send(CallRequest(number="040-628 04 99", pages=pages), on_page_confirmed=pull_the_plug)
    assert result.outcome is Outcome.MODEM_ERROR
    assert (result.pages_sent, result.pages_confirmed) == (1, 1)


def test_silent_modem_is_unavailable() -> None:
    """A port where nothing answers AT gives ModemUnavailable within the command timeout."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        modem = Class1Modem(os.ttyname(slave), station=STATION, command_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(ModemUnavailable, match="did not answer"):
            modem.send(CallRequest(number="040-628 04 99", pages=[FaxPage(_text_like_page(11, 20))]))
        assert time.monotonic() - started < 5
    finally:
        os.close(master)
        os.close(slave)


class _DeadLink:
    """A T31Link stand-in whose HDLC transmit fails (silence still works)."""

    quirks = Class1Quirks()

    def send_frames(self, frames: object) -> None:
        raise ModemError("ERROR to AT+FTH=3")

    def silence(self, ms: int, *, after_receive: bool) -> None:
        pass


def test_failed_dcn_keeps_the_outcome() -> None:
    """When the DCN itself cannot be sent, the call still ends with the engine's outcome."""
    engine = T30Sender(local_id=STATION.tsi, page_count=1, expected_remote_id="031-390 06 12")
    engine.handle(CallAnswered())
    dis = FramesReceived((IdentityFrame(fcf=FCF.CSI, final=False, identity=REMOTE_CSI), DISFrame()))
    runner = CallRunner(_DeadLink(), [], None, structlog.get_logger())  # type: ignore[arg-type]
    assert runner.run(engine, first=dis).outcome is CallOutcome.STATION_MISMATCH


def test_probe_fails_when_the_port_fails_on_hang_up(class1: Class1Modem, monkeypatch: pytest.MonkeyPatch) -> None:
    """A modem that answers AT but whose port fails on ATH (unplugged during the check)
    fails the probe: a check that passed would let the next one reopen the device path,
    which may by then lead to another pseudo-terminal."""

    def unplugged(link: T31Link) -> None:
        raise PortError("reading modem port failed: device disconnected")

    monkeypatch.setattr(T31Link, "hang_up", unplugged)
    with pytest.raises(ModemUnavailable, match="went away during the check"):
        class1.probe()
