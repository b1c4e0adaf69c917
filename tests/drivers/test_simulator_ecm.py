"""ECM (T.30 Annex A) on the simulated remote: a scripted host sends FCD/RCP frames framed
in software over +FTM, asks with PPS, and gets PPR for what is missing, then MCF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.modem import Outcome
from drivers.simulator import RemoteProfile, SimulatedModem, hdlc, wire
from drivers.simulator.host import Received, ScriptedHost
from drivers.t4 import Coding, encode_page
from tests.drivers.pages import random_boxes

#: 14400 bit/s V.17, fine, extended: ECM (bit 27) and T.6 (bit 31); bit 28 = 64-octet frames.
DCS_ECM = wire.with_bits([10, 14, 15, 24, 27, 31], 4)
DCS_ECM_64 = wire.with_bits([10, 14, 15, 24, 27, 28, 31], 4)
CTC_9600 = wire.with_bits([11, 14], 2)  # bits 11-14 = 1001: 9600 bit/s V.17

ECM_REMOTE = RemoteProfile(csi="031 390 06 20", ecm=True, t6=True, two_d=True)
PROFILES = {
    "0313900620": ECM_REMOTE,
    "0313900621": RemoteProfile(csi="031 390 06 21", ecm=True, t6=True, ecm_lost_frames=frozenset({1, 3})),
    "0313900622": RemoteProfile(csi="031 390 06 22", ecm=True, t6=True, bit_errors=2),
    "0313900623": RemoteProfile(csi="031 390 06 23", ecm=True, t6=True, rnr_count=2),
}
# The shared ``simulator`` fixture (tests/conftest.py) starts the simulated modem with these.
SIMULATOR_OPTIONS = {"profiles": PROFILES, "receive_timeout": 0.3}


def _page(seed: int, rows: int = 300) -> npt.NDArray[np.bool_]:
    return random_boxes(seed, rows, boxes=120, height=(1, 10), width=(2, 300))


def _fcd_frames(data: bytes, size: int = 256) -> dict[int, bytes]:
    """Returns FCD frames by number: address, control, FCD, frame number, data (T.30 A.3.1)."""
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return {n: wire.frame(wire.FCD, bytes([n]) + chunk, final=False) for n, chunk in enumerate(chunks)}


def _burst(frames: list[bytes]) -> bytes:
    """Returns FCD frames and three RCP as one synchronous bit stream (T.4 Annex A)."""
    return hdlc.encode([*frames, *[wire.frame(wire.RCP)] * 3])


def _pps(post_page: int, page: int, block: int, frames: int) -> bytes:
    return wire.frame(wire.PPS | 1, bytes([post_page, page, block, frames - 1]))


def _name(received: Received) -> str:
    return wire.NAMES[received.body[2] & 0xFE]


@pytest.fixture
def host(simulator: SimulatedModem) -> Iterator[ScriptedHost]:
    assert simulator.path is not None
    with ScriptedHost(simulator.path) as scripted:
        assert scripted.command("E0")[1] == "OK"
        yield scripted


def _start_ecm_call(host: ScriptedHost, number: str, dcs: bytes = DCS_ECM) -> list[Received]:
    """Dials, checks the DIS offers ECM and T.6, trains at 14400; returns the DIS frames."""
    first = host.dial(number)
    assert isinstance(first, Received)
    frames = [first, *host.receive_transmission()]
    dis = frames[-1].body[3:]
    assert (wire.bit(dis, 27), wire.bit(dis, 31)) == (1, 1)
    tsi = wire.frame(wire.TSI | 1, wire.identity_fif("+46 40 628 04 00"), final=False)
    assert host.send_frames([tsi, wire.frame(wire.DCS | 1, dcs)]) == "OK"
    assert host.send_data(145, bytes(2700)) == "OK"
    assert [_name(f) for f in host.receive_transmission()] == ["CFR"]
    return frames


def _ask(host: ScriptedHost, frame: bytes) -> Received:
    assert host.send_frames([frame]) == "OK"
    (response,) = host.receive_transmission()
    return response


def test_missing_frame_gets_ppr_then_mcf_and_the_page_decodes(
    simulator: SimulatedModem, host: ScriptedHost, tmp_path: Path
) -> None:
    """Frame 2 left out: PPR names frame 2 alone; resent, MCF; the MMR page is exact."""
    pixels = _page(1)
    frames = _fcd_frames(encode_page(pixels, Coding.MMR))
    assert len(frames) >= 4
    _start_ecm_call(host, "0313900620")

    assert host.send_data(146, _burst([f for n, f in frames.items() if n != 2])) == "OK"
    ppr = _ask(host, _pps(wire.EOP, 0, 0, len(frames)))
    assert _name(ppr) == "PPR" and ppr.body[3:] == wire.ppr_fif({2})

    assert host.send_data(146, _burst([frames[2]])) == "OK"
    assert _name(_ask(host, _pps(wire.EOP, 0, 0, len(frames)))) == "MCF"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"

    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED, call.reason
    assert (call.ecm, call.coding, call.frames_resent) == (True, "MMR", 1)
    assert np.array_equal(call.pages[0], pixels)
    summary = json.loads((tmp_path / "received" / "call-0001" / "summary.json").read_text())
    assert (summary["ecm"], summary["coding"], summary["frames_resent"]) == (True, "MMR", 1)
    assert summary["page_outcomes"] == {"mcf": 1} and summary["faults"] == []


def test_two_blocks_of_64_octet_frames_and_two_pages(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """PPS-NULL closes a partial page inside a page; PPS-MPS and PPS-EOP end the pages."""
    first, second = _page(2), _page(3, rows=120)
    data = encode_page(first, Coding.MMR)
    frames = _fcd_frames(data, 64)
    half = len(frames) // 2
    block0 = _fcd_frames(data[: half * 64], 64)
    block1 = _fcd_frames(data[half * 64 :], 64)
    _start_ecm_call(host, "0313900620", DCS_ECM_64)
    assert host.send_data(146, _burst(list(block0.values()))) == "OK"
    assert _name(_ask(host, _pps(wire.NULL, 0, 0, len(block0)))) == "MCF"
    assert host.send_data(146, _burst(list(block1.values()))) == "OK"
    assert _name(_ask(host, _pps(wire.MPS, 0, 1, len(block1)))) == "MCF"
    page2 = _fcd_frames(encode_page(second, Coding.MMR), 64)
    assert host.send_data(146, _burst(list(page2.values()))) == "OK"
    assert _name(_ask(host, _pps(wire.EOP, 1, 0, len(page2)))) == "MCF"
    assert _name(_ask(host, _pps(wire.EOP, 1, 0, len(page2)))) == "MCF"  # MCF lost: asked again
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED and call.frames_resent == 0
    assert np.array_equal(call.pages[0], first) and np.array_equal(call.pages[1], second)


@pytest.mark.parametrize(
    ("number", "lost", "fault"), [("0313900621", 2, "ecm_lost_frames"), ("0313900622", 2, "bit_errors")]
)
def test_scripted_frame_loss_is_repaired(
    simulator: SimulatedModem, host: ScriptedHost, number: str, lost: int, fault: str
) -> None:
    """Frames lost on the line (scripted or by flipped bits) are named in PPR; resent, MCF."""
    pixels = _page(4)
    frames = _fcd_frames(encode_page(pixels, Coding.MMR))
    _start_ecm_call(host, number)
    assert host.send_data(146, _burst(list(frames.values()))) == "OK"
    ppr = _ask(host, _pps(wire.EOP, 0, 0, len(frames)))
    assert _name(ppr) == "PPR"
    missing = {n for n in range(256) if wire.bit(ppr.body[3:], n + 1)}
    assert len(missing) == lost
    if fault == "ecm_lost_frames":
        assert missing == {1, 3}
    assert host.send_data(146, _burst([frames[n] for n in sorted(missing)])) == "OK"
    assert _name(_ask(host, _pps(wire.EOP, 0, 0, len(frames)))) == "MCF"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED and call.frames_resent == lost and call.faults == (fault,)
    assert np.array_equal(call.pages[0], pixels)


def test_receive_not_ready_then_rr(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """RNR twice (the remote is busy); the host polls with RR until MCF (T.30 A.5.4)."""
    frames = _fcd_frames(encode_page(_page(5), Coding.MMR))
    _start_ecm_call(host, "0313900623")
    assert host.send_data(146, _burst(list(frames.values()))) == "OK"
    assert _name(_ask(host, _pps(wire.EOP, 0, 0, len(frames)))) == "RNR"
    assert _name(_ask(host, wire.frame(wire.RR | 1))) == "RNR"
    assert _name(_ask(host, wire.frame(wire.RR | 1))) == "MCF"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.CONFIRMED and call.faults == ("rnr_count",)


def test_ctc_then_eor_gives_up_on_the_block(simulator: SimulatedModem, host: ScriptedHost) -> None:
    """CTC gets CTR and a new rate; EOR gets ERR and the page is recorded as incomplete."""
    frames = _fcd_frames(encode_page(_page(6), Coding.MMR))
    _start_ecm_call(host, "0313900620")
    assert host.send_data(146, _burst([f for n, f in frames.items() if n != 0])) == "OK"
    assert _name(_ask(host, _pps(wire.EOP, 0, 0, len(frames)))) == "PPR"
    assert _name(_ask(host, wire.frame(wire.CTC | 1, CTC_9600))) == "CTR"
    assert host.send_data(98, _burst([])) == "OK"  # at 9600 now; frame 0 lost again
    eor = wire.frame(wire.EOR | 1, bytes([wire.EOP, 0, 0, len(frames) - 1]))
    assert _name(_ask(host, eor)) == "ERR"
    assert host.send_frames([wire.frame(wire.DCN | 1)]) == "OK"
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert call.outcome is Outcome.PAGE_REJECTED and call.page_results == ("eor",)
    assert call.bit_rate == 9600


# --- the software HDLC codec --------------------------------------------------------------


def test_hdlc_inserts_zeros_and_finds_frames_in_junk() -> None:
    """Six 1s never occur outside flags; frames are found after junk, bad FCS flagged."""
    frames = [b"\xff\x03\x06\x00" + b"\xff" * 40, b"\xff\x13\x86"]
    stream = hdlc.encode(frames)
    bits = hdlc.bits_of(stream)
    assert "1111111" not in bits  # no abort sequence
    assert stream[0] == 0x7E  # a flag is its own reverse
    assert [f.data for f in hdlc.decode(b"\x12\x34" + stream)] == frames
    damaged = bytearray(stream)
    damaged[8] ^= 0x10
    assert [f.fcs_ok for f in hdlc.decode(bytes(damaged))] == [False, True]


@given(st.lists(st.binary(min_size=3, max_size=300), min_size=1, max_size=5))
def test_hdlc_round_trip(frames: list[bytes]) -> None:
    decoded = hdlc.decode(hdlc.encode(frames))
    assert [(f.data, f.fcs_ok) for f in decoded] == [(frame, True) for frame in frames]
