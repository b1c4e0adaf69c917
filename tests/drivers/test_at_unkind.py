"""The AT reader on what real DCEs send after ``CONNECT`` to ``+FRH=3`` (issue 15):
result codes instead of a frame, flags and noise before the address octet, a DCE that
strips the FCS or does not double DLE. Fed whole and one byte at a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.at_codec import HdlcFrame, ModemReader, ReaderEvent, Result, ResultCode, Unstuffer, stuff

DCN = bytes((0xFF, 0x13, 0xFB))
FCS = b"\x12\x34"


def _events(reader: ModemReader, data: bytes, how: str) -> list[ReaderEvent]:
    events: list[ReaderEvent] = []
    pieces = [data] if how == "whole" else [data[i : i + 1] for i in range(len(data))]
    for piece in pieces:
        reader.feed(piece)
        while (event := reader.next_event()) is not None:
            events.append(event)
    return events


def _hdlc_reader(**kwargs: object) -> ModemReader:
    reader = ModemReader(**kwargs)  # type: ignore[arg-type]
    reader.expect_hdlc()
    return reader


@pytest.mark.parametrize("how", ["whole", "bytewise"])
@pytest.mark.parametrize("text", ["NO CARRIER", "+FCERROR", "ERROR"])
def test_result_after_connect_is_a_result_not_frame_data(how: str, text: str) -> None:
    """Old reader: the result line became frame data and the driver waited 5 s for DLE ETX."""
    events = _events(_hdlc_reader(), f"\r\n{text}\r\n".encode(), how)
    assert events == [Result(ResultCode(text), text)]


@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_flags_and_noise_before_the_address_are_skipped(how: str) -> None:
    """Old reader: the 0x7E flags became part of the frame, which then failed to decode."""
    data = b"\x7e\x7e\x00\x7e" + stuff(DCN + FCS) + b"\x10\x03\r\nOK\r\n"
    assert _events(_hdlc_reader(), data, how) == [HdlcFrame(DCN, ResultCode.OK)]


@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_blank_lines_before_the_frame_are_skipped(how: str) -> None:
    data = b"\r\n" + stuff(DCN + FCS) + b"\x10\x03\r\nOK\r\n"
    assert _events(_hdlc_reader(), data, how) == [HdlcFrame(DCN, ResultCode.OK)]


@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_a_dce_that_strips_the_fcs(how: str) -> None:
    data = stuff(DCN) + b"\x10\x03\r\nOK\r\n"
    assert _events(_hdlc_reader(fcs_octets=0), data, how) == [HdlcFrame(DCN, ResultCode.OK)]


@given(payload=st.binary(min_size=1, max_size=64).filter(lambda b: b"\x10" not in b))
def test_undoubled_dle_keeps_the_data(payload: bytes) -> None:
    """A DCE with the DLE bug sends a data DLE once: with the quirk it is kept."""
    data = b"\x10" + payload  # a bare DLE, then data that is not ETX/DLE/SUB at its start
    if payload[0] in (0x03, 0x1A):
        return
    out, end = Unstuffer(undoubled=True).feed(data + b"\x10\x03")
    assert out == data and end is not None
    plain, _ = Unstuffer().feed(data + b"\x10\x03")
    assert plain == payload[1:]  # without the quirk the pair is dropped as a control code
