"""Every scripted fault, as a host sees it on the pty: a scripted Class 1 host first, then
the current ``Class1Modem`` where it already copes with the fault."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, ModemUnavailable, Outcome, Station
from drivers.page import FaxPage
from drivers.port import PortError
from drivers.simulator import Answer, RemoteProfile, SimulatedModem, wire
from drivers.simulator.host import Received, ScriptedHost
from drivers.t4 import Coding, encode_page
from tests.drivers.pages import random_boxes

STATION = Station(tsi="+46 40 628 04 00", header_name="Region Skane test")
#: 14400 bit/s V.17, fine, MH (T.30 Table 2 bits 11-14 = 0001).
DCS_14400 = wire.with_bits([10, 14, 15], 3)
DCS_9600 = wire.with_bits([10, 11, 14, 15], 3)  # 9600 bit/s V.17

PROFILES = {
    "0406280401": RemoteProfile(answer=Answer.BUSY),
    "0406280402": RemoteProfile(answer=Answer.NO_ANSWER),
    "0406280403": RemoteProfile(answer=Answer.NO_DIALTONE),
    "0406280404": RemoteProfile(answer=Answer.NO_CARRIER),
    "0406280405": RemoteProfile(answer=Answer.VOICE),
    "0406280406": RemoteProfile(answer=Answer.SILENT),
    "0406280407": RemoteProfile(csi="040 628 04 07", ftt_above=9600),
    "0406280408": RemoteProfile(csi="040 628 04 08", rtn_pages=frozenset({2})),
    "0406280409": RemoteProfile(csi="040 628 04 09", rtp_pages=frozenset({1})),
    "0406280410": RemoteProfile(csi="040 628 04 10", dcn_after_page=1),
    "0406280411": RemoteProfile(csi="031 390 06 99"),  # not who the directory says
    "0406280412": RemoteProfile(csi=""),
    "0406280413": RemoteProfile(send_csi=False),
    "0406280414": RemoteProfile(csi="040 628 04 14", bad_fcs=frozenset({"DIS", "MCF"})),
    "0406280415": RemoteProfile(csi="040 628 04 15", bit_errors=40),
    "0406280416": RemoteProfile(wedge_after_page=0, wedge_seconds=0.3),
    "0406280417": RemoteProfile(wedge_after_page=1),
    "0406280418": RemoteProfile(close_after_page=1),
}
# The shared ``simulator`` fixture (tests/conftest.py) starts the simulated modem with these.
SIMULATOR_OPTIONS = {"profiles": PROFILES, "receive_timeout": 0.3}


def _page(seed: int, rows: int = 80) -> npt.NDArray[np.bool_]:
    return random_boxes(seed, rows, boxes=25, height=(5, 6), width=(3, 200))


@pytest.fixture
def host(simulator: SimulatedModem) -> Iterator[ScriptedHost]:
    assert simulator.path is not None
    with ScriptedHost(simulator.path) as scripted:
        assert scripted.command("E0")[1] == "OK"
        assert scripted.command("+FCLASS=1")[1] == "OK"
        yield scripted


def _fcf(received: Received) -> str:
    return wire.NAMES.get(received.body[2] & 0xFE, hex(received.body[2]))


def _identify(host: ScriptedHost, number: str) -> list[Received]:
    """Dials; returns the remote's first transmission (CSI, DIS)."""
    first = host.dial(number)
    assert isinstance(first, Received), first
    return [first] if first.body[1] == wire.CONTROL_FINAL else [first, *host.receive_transmission()]


def _train(host: ScriptedHost, dcs: bytes = DCS_14400, code: int = 145) -> str:
    """Sends TSI + DCS and 1.5 s of TCF; returns the response's name."""
    tsi = wire.frame(wire.TSI | 1, wire.identity_fif(STATION.tsi), final=False)
    assert host.send_frames([tsi, wire.frame(wire.DCS | 1, dcs)]) == "OK"
    assert host.command("+FTS=8")[1] == "OK"
    assert host.send_data(code, bytes(wire.MODULATION_CODES[code][0] * 3 // 16)) == "OK"
    (response,) = host.receive_transmission()
    return _fcf(response)


def _send_page(host: ScriptedHost, pixels: npt.NDArray[np.bool_], command: int, code: int = 146) -> str:
    """Sends one MH page and its post-page command; returns the response's name."""
    assert host.send_data(code, encode_page(pixels, Coding.MH)) == "OK"
    assert host.send_frames([wire.frame(command | 1)]) == "OK"
    (response,) = host.receive_transmission()
    return _fcf(response)


# --- dialling -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "result", "outcome"),
    [
        ("0406280401", "BUSY", Outcome.BUSY),
        ("0406280402", "NO ANSWER", Outcome.NO_ANSWER),
        ("0406280403", "NO DIALTONE", Outcome.NO_DIALTONE),
        ("0406280404", "NO CARRIER", Outcome.NO_CARRIER),
        ("0406280405", "+FCERROR", Outcome.NOT_A_FAX),
    ],
)
def test_dial_results(
    simulator: SimulatedModem, host: ScriptedHost, number: str, result: str, outcome: Outcome
) -> None:
    """Each unanswered kind of call gives its result code to ATD, and a recorded call."""
    assert host.dial(number) == result
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is outcome and call.faults == (PROFILES[number].answer.value,)


def test_silent_remote_connects_then_loses_carrier(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """Silence until T1: CONNECT (flags), no frame, then DLE ETX and NO CARRIER."""
    received = host.dial("0406280406")
    assert isinstance(received, Received)
    assert received == Received(b"", "NO CARRIER")
    assert host.receive_frame() == "NO CARRIER"  # nothing later either, after the DCE's wait
    assert host.command("H0")[1] == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.faults == ("silent",) and call.pages == ()


# --- phase B ------------------------------------------------------------------------------


def test_ftt_above_a_rate_then_fallback(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """TCF at 14400 gets FTT; the same TCF at 9600 gets CFR."""
    _identify(host, "0406280407")
    assert _train(host) == "FTT"
    assert _train(host, DCS_9600, 97) == "CFR"
    assert _send_page(host, _page(1), wire.EOP, code=98) == "MCF"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert (call.outcome, call.bit_rate, call.faults) == (Outcome.CONFIRMED, 9600, ("ftt_above",))


@pytest.mark.parametrize(
    ("number", "csi_frames"),
    [("0406280411", [b"031 390 06 99"]), ("0406280412", [b""]), ("0406280413", [])],
)
def test_identities(host: ScriptedHost, number: str, csi_frames: list[bytes]) -> None:
    """A wrong CSI, a blank CSI (20 spaces), no CSI at all: then DIS."""
    frames = _identify(host, number)
    assert [_fcf(f) for f in frames] == ["CSI"] * len(csi_frames) + ["DIS"]
    assert [wire.read_identity(f.body[3:]).encode() for f in frames[:-1]] == csi_frames


def test_bad_fcs_is_error_after_the_frame_and_repeated(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """A corrupted DIS reaches the host with ERROR; listening on gets CSI + DIS again. A
    corrupted MCF is repeated when the host repeats EOP (T.30 5.3.2)."""
    frames = _identify(host, "0406280414")  # reads on after ERROR, as a DTE would
    assert [(_fcf(f), f.result) for f in frames] == [("CSI", "OK"), ("DIS", "ERROR"), ("CSI", "OK"), ("DIS", "OK")]
    assert frames[1].frame[-2:] != wire.fcs(frames[1].body)
    assert frames[3].frame[-2:] == wire.fcs(frames[3].body)
    assert _train(host) == "CFR"
    assert host.send_data(146, encode_page(_page(2), Coding.MH)) == "OK"
    assert host.send_frames([wire.frame(wire.EOP | 1)]) == "OK"
    (bad,) = host.receive_transmission()[:1]
    assert (_fcf(bad), bad.result) == ("MCF", "ERROR")
    assert host.send_frames([wire.frame(wire.EOP | 1)]) == "OK"  # T4 passed: EOP again
    (good,) = host.receive_transmission()
    assert (_fcf(good), good.result) == ("MCF", "OK")
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED and call.faults == ("bad_fcs",)


# --- phase C and D ------------------------------------------------------------------------


def test_rtn_on_page_2_then_resent(simulator: SimulatedModem, host: ScriptedHost, tmp_path: Path) -> None:
    """Page 2 gets RTN once; after DCS + TCF again the same page gets MCF."""
    _identify(host, "0406280408")
    assert _train(host) == "CFR"
    assert _send_page(host, _page(3), wire.MPS) == "MCF"
    assert _send_page(host, _page(4), wire.EOP) == "RTN"
    assert _train(host) == "CFR"
    assert _send_page(host, _page(4), wire.EOP) == "MCF"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED and len(call.pages) == 2
    assert np.array_equal(call.pages[1], _page(4))
    summary = json.loads((tmp_path / "received" / "call-0001" / "summary.json").read_text())
    assert summary["faults"] == ["rtn_pages"]
    assert summary["page_results"] == ["mcf", "rtn", "mcf"]
    assert summary["page_outcomes"] == {"mcf": 2, "rtn": 1}


def test_rtp_on_page_1_asks_for_retraining(simulator: SimulatedModem, host: ScriptedHost) -> None:
    _identify(host, "0406280409")
    assert _train(host) == "CFR"
    assert _send_page(host, _page(5), wire.MPS) == "RTP"
    assert _train(host) == "CFR"
    assert _send_page(host, _page(6), wire.EOP) == "MCF"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED and call.page_results == ("rtp", "mcf")


def test_eom_goes_back_to_phase_b(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """After MCF to EOM the remote identifies itself again; a new DCS starts document 2."""
    _identify(host, "0406280499")
    assert _train(host) == "CFR"
    assert _send_page(host, _page(20), wire.EOM) == "MCF"
    assert [_fcf(f) for f in host.receive_transmission()] == ["CSI", "DIS"]
    assert _train(host, DCS_9600, 97) == "CFR"
    assert _send_page(host, _page(21), wire.EOP, code=98) == "MCF"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED and len(call.pages) == 2


def test_dcn_after_page_1(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """Page 1 is confirmed; page 2's MPS is answered with DCN and the call is over."""
    _identify(host, "0406280410")
    assert _train(host) == "CFR"
    assert _send_page(host, _page(7), wire.MPS) == "MCF"
    assert _send_page(host, _page(8), wire.EOP) == "DCN"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.REMOTE_DISCONNECTED and len(call.pages) == 1
    assert host.command("+FTH=3")[1] == "ERROR"  # on hook again


def test_bit_errors_spoil_the_page(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """40 flipped bits in an MH page: it does not decode, RTN."""
    _identify(host, "0406280415")
    assert _train(host) == "CFR"
    assert _send_page(host, _page(9), wire.EOP) == "RTN"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.PAGE_REJECTED and call.faults == ("bit_errors",)


# --- the modem itself ---------------------------------------------------------------------


def test_wedged_modem_says_nothing_until_the_wedge_ends(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """ATD is swallowed and so is AT; after wedge_seconds the modem answers again."""
    host.write(b"ATDT0406280416\r")
    with pytest.raises(TimeoutError):
        host.result(timeout=0.1)
    deadline = time.monotonic() + 5
    while True:
        host.write(b"AT\r")
        try:
            if host.result(timeout=0.2)[1] == "OK":
                break
        except TimeoutError:
            assert time.monotonic() < deadline, "the wedge never ended"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.faults == ("wedge_after_page",)


def test_pty_closes_after_page_1(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """The host's port fails (EIO); a new pty serves the next call."""
    old_path = simulator.path
    _identify(host, "0406280418")
    assert _train(host) == "CFR"
    host.write(b"AT+FTM=146\r")
    assert host.result()[1] == "CONNECT"
    host.write(encode_page(_page(10), Coding.MH) + b"\x10\x03")
    with pytest.raises((PortError, TimeoutError)):
        host.result(timeout=2)
        host.result(timeout=2)
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.faults == ("close_after_page",)
    assert old_path is not None
    new_path = simulator.wait_for_new_pty(old_path, timeout=5)
    assert os.path.exists(new_path)
    with ScriptedHost(new_path) as fresh:
        assert fresh.command("E0")[1] == "OK"


# --- the current driver -------------------------------------------------------------------


@pytest.fixture
def class1(simulator: SimulatedModem) -> Iterator[Class1Modem]:
    assert simulator.path is not None
    modem = Class1Modem(simulator.path, station=STATION, name="sim0", command_timeout=1.0)
    yield modem
    modem.close()


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("040-628 04 01", Outcome.BUSY),
        ("040-628 04 02", Outcome.NO_ANSWER),
        ("040-628 04 03", Outcome.NO_DIALTONE),
        ("040-628 04 04", Outcome.NO_CARRIER),
        ("040-628 04 05", Outcome.NOT_A_FAX),
    ],
)
def test_class1_dial_outcomes(class1: Class1Modem, number: str, outcome: Outcome) -> None:
    result = class1.send(CallRequest(number=number, pages=[FaxPage(_page(11))]))
    assert result.outcome is outcome


def test_class1_dcn_after_page_1(simulator: SimulatedModem, class1: Class1Modem) -> None:
    pages = [FaxPage(_page(seed)) for seed in (12, 13)]
    result = class1.send(CallRequest(number="040-628 04 10", pages=pages))
    assert result.outcome is Outcome.REMOTE_DISCONNECTED
    assert result.pages_confirmed == 1


def test_class1_wrong_csi_is_station_mismatch(class1: Class1Modem) -> None:
    request = CallRequest(number="040-628 04 11", pages=[FaxPage(_page(14))], expected_remote_id="040 628 04 11")
    result = class1.send(request)
    assert result.outcome is Outcome.STATION_MISMATCH and result.pages_sent == 0


def test_class1_gets_through_a_corrupted_dis_and_mcf(simulator: SimulatedModem, class1: Class1Modem) -> None:
    """Bad FCS on DIS and MCF: the remote repeats them and the call is confirmed."""
    result = class1.send(CallRequest(number="040-628 04 14", pages=[FaxPage(_page(15))]))
    assert result.outcome is Outcome.CONFIRMED, result.reason
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert np.array_equal(call.pages[0], _page(15))


def test_class1_wedged_modem(simulator: SimulatedModem) -> None:
    """A modem that wedges after page 1: MODEM_ERROR for the call, then ModemUnavailable."""
    assert simulator.path is not None
    impatient = Class1Modem(simulator.path, station=STATION, name="sim0", command_timeout=0.3)
    pages = [FaxPage(_page(seed)) for seed in (16, 17)]
    try:
        result = impatient.send(CallRequest(number="040-628 04 17", pages=pages))
        assert result.outcome is Outcome.MODEM_ERROR
        with pytest.raises(ModemUnavailable):
            impatient.send(CallRequest(number="040-628 04 99", pages=pages))
    finally:
        impatient.close()


def test_class1_pty_closed_mid_call(simulator: SimulatedModem, class1: Class1Modem) -> None:
    pages = [FaxPage(_page(seed)) for seed in (18, 19)]
    result = class1.send(CallRequest(number="040-628 04 18", pages=pages))
    assert result.outcome is Outcome.MODEM_ERROR


def test_class1_silent_remote_sends_nothing(class1: Class1Modem) -> None:
    """Silence until T1: no page goes out; the driver gives up at once, not after T1."""
    started = time.monotonic()
    result = class1.send(CallRequest(number="040-628 04 06", pages=[FaxPage(_page(22))]))
    assert result.outcome in (Outcome.NOT_A_FAX, Outcome.PROTOCOL_ERROR) and result.pages_sent == 0
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("number", ["040-628 04 12", "040-628 04 13"])
def test_class1_blank_or_missing_csi_is_station_mismatch(class1: Class1Modem, number: str) -> None:
    request = CallRequest(number=number, pages=[FaxPage(_page(23))], expected_remote_id="040 628 04 12")
    assert class1.send(request).outcome is Outcome.STATION_MISMATCH
