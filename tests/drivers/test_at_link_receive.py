"""``T31Link.receive_frames`` on the answers real modems give (issue 15): +FCERROR,
NO CARRIER or ERROR before the remote's frames do not end the wait; the link asks
again, as HylaFAX does, until the T.30 timer the engine gave runs out. Scripted modem,
one byte at a time, fake clock."""

from __future__ import annotations

from collections import deque

import pytest

from drivers.at_link import RECEIVE_RETRY_PAUSE, T31Link
from tests.drivers.scripted_port import ScriptedPort, Step, hdlc, install

FRH = b"AT+FRH=3\r"
CSI = bytes((0xFF, 0x03, 0x40)) + b" 99 40 826 040".ljust(20)
DIS = bytes((0xFF, 0x13, 0x80, 0x00, 0xEE, 0xF8))


def _link(monkeypatch: pytest.MonkeyPatch, *steps: Step) -> tuple[T31Link, ScriptedPort]:
    port = ScriptedPort(deque(steps))
    install(monkeypatch, port)
    return T31Link(port, command_timeout=2.0), port  # type: ignore[arg-type]


def _connect_with(*frames: bytes) -> list[Step]:
    """+FRH=3 answered by CONNECT and the frames, each further frame after its own +FRH=3."""
    steps = [Step(FRH, b"\r\nCONNECT\r\n" + hdlc(frames[0]))]
    steps += [Step(FRH, b"\r\nCONNECT\r\n" + hdlc(frame)) for frame in frames[1:]]
    return steps


@pytest.mark.parametrize("refusal", ["+FCERROR", "NO CARRIER", "ERROR"])
def test_a_refused_frh_is_asked_again_until_the_frames_come(monkeypatch: pytest.MonkeyPatch, refusal: str) -> None:
    """Old link: the first refusal returned no frames, and the engine called the number
    not a fax (waiting for DIS) or repeated MPS/EOP at once (phase D)."""
    refused = [Step(FRH, f"\r\n{refusal}\r\n".encode(), delay=0.05) for _ in range(3)]
    link, port = _link(monkeypatch, *refused, *_connect_with(CSI, DIS))
    start = port.clock.now
    frames = link.receive_frames(35.0)
    assert [frame.data for frame in frames] == [CSI, DIS]
    assert port.clock.now - start >= 3 * RECEIVE_RETRY_PAUSE
    assert not port.unexpected and not port.script


def test_no_carrier_after_connect_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Old link: NO CARRIER after CONNECT was read as frame data until the 5 s frame
    timeout, then CAN."""
    link, port = _link(monkeypatch, Step(FRH, b"\r\nCONNECT\r\n\r\nNO CARRIER\r\n"), *_connect_with(DIS))
    start = port.clock.now
    frames = link.receive_frames(3.0)
    assert [frame.data for frame in frames] == [DIS]
    assert port.clock.now - start < 1.0  # no 5 s wait for a frame that never was
    assert b"\x18" not in b"".join(port.written)  # and no CAN


def test_flags_before_the_address_do_not_spoil_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    link, _ = _link(monkeypatch, Step(FRH, b"\r\nCONNECT\r\n\x7e\x7e" + hdlc(DIS)))
    frames = link.receive_frames(3.0)
    assert [(frame.data, frame.fcs_ok) for frame in frames] == [(DIS, True)]


def test_the_retries_end_with_the_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    link, port = _link(monkeypatch, *(Step(FRH, b"\r\n+FCERROR\r\n", delay=0.02) for _ in range(100)))
    start = port.clock.now
    assert link.receive_frames(3.0) == []
    elapsed = port.clock.now - start
    assert 3.0 - RECEIVE_RETRY_PAUSE <= elapsed <= 3.0
    tries = port.commands().count("AT+FRH=3")
    assert 10 <= tries <= 3.0 / RECEIVE_RETRY_PAUSE + 1


def test_a_refusal_after_a_frame_ends_the_transmission(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once frames came, NO CARRIER means the remote's transmission is over."""
    link, port = _link(monkeypatch, *_connect_with(CSI), Step(FRH, b"\r\nNO CARRIER\r\n"))
    assert [frame.data for frame in link.receive_frames(3.0)] == [CSI]
    assert not port.script
