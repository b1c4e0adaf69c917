"""The sans-IO AT/T.31 codec: fed whole, one byte at a time, and with trailing junk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.at_codec import (
    DataChunk,
    DataEnd,
    HdlcFrame,
    InfoText,
    ModemReader,
    ReaderEvent,
    Result,
    ResultCode,
    Unstuffer,
    modulation_code,
    parse_modulations,
    parse_result,
    rate_for_code,
    stuff,
)
from drivers.t30.frames import BitRate


def _chunks(data: bytes, how: str) -> Iterator[bytes]:
    if how == "whole":
        yield data
    else:
        yield from (data[i : i + 1] for i in range(len(data)))


def _unstuff(data: bytes, how: str) -> tuple[bytes, bytes]:
    """Returns (payload, bytes left after DLE ETX)."""
    unstuffer = Unstuffer()
    out = b""
    chunks = list(_chunks(data, how))
    for n, chunk in enumerate(chunks):
        payload, end = unstuffer.feed(chunk)
        out += payload
        if end is not None:
            return out, chunk[end:] + b"".join(chunks[n + 1 :])
    raise AssertionError("no DLE ETX")


@pytest.mark.parametrize("how", ["whole", "bytewise"])
@given(payload=st.binary(max_size=300), junk=st.binary(max_size=20))
def test_stuff_unstuff_round_trip(how: str, payload: bytes, junk: bytes) -> None:
    """Data with any DLEs comes back intact, and bytes after DLE ETX are left alone."""
    payload_out, rest = _unstuff(stuff(payload) + b"\x10\x03" + junk, how)
    assert payload_out == payload
    assert rest == junk


def test_stuff_doubles_dle() -> None:
    assert stuff(b"\x01\x10\x02") == b"\x01\x10\x10\x02"


def test_dle_sub_is_two_dles() -> None:
    assert _unstuff(b"a\x10\x1ab\x10\x03", "whole") == (b"a\x10\x10b", b"")


def _events(reader: ModemReader, data: bytes, how: str, *, hdlc_after_connect: bool = False) -> list[ReaderEvent]:
    events: list[ReaderEvent] = []
    for chunk in _chunks(data, how):
        reader.feed(chunk)
        while (event := reader.next_event()) is not None:
            events.append(event)
            if hdlc_after_connect and isinstance(event, Result) and event.code is ResultCode.CONNECT:
                reader.expect_hdlc()
    return events


@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_reader_result_codes_and_info_lines(how: str) -> None:
    data = (
        b"ATZ\r\r\nOK\r\n\r\n24,48,72,96\r\n\r\nOK\r\n\r\nNO CARRIER\r\n\r\nBUSY\r\n\r\nNO DIAL TONE\r\n+FCERROR\r\nRIN"
    )
    events = _events(ModemReader(), data, how)
    assert events == [
        InfoText("ATZ"),
        Result(ResultCode.OK, "OK"),
        InfoText("24,48,72,96"),
        Result(ResultCode.OK, "OK"),
        Result(ResultCode.NO_CARRIER, "NO CARRIER"),
        Result(ResultCode.BUSY, "BUSY"),
        Result(ResultCode.NO_DIALTONE, "NO DIAL TONE"),
        Result(ResultCode.FCERROR, "+FCERROR"),
    ]  # "RIN" is an incomplete line: no event yet


@pytest.mark.parametrize("how", ["whole", "bytewise"])
def test_reader_assembles_hdlc_frames(how: str) -> None:
    """After +FRH=3: frame with FCS, DLE ETX, then OK (good) or ERROR (bad FCS)."""
    frame = bytes([0xFF, 0x03, 0x40]) + b"99 40 826 040".rjust(20) + b"\x10"
    good = b"\r\nCONNECT\r\n" + stuff(frame + b"\xab\xcd") + b"\x10\x03\r\nOK\r\n"
    bad = b"\r\nCONNECT\r\n" + stuff(b"\xff\x13\x80\x00\x6e\x00" + b"\x10\x10") + b"\x10\x03\r\nERROR\r\n"
    events = _events(ModemReader(), good + bad + b"\r\nNO CARRIER\r\njunk", how, hdlc_after_connect=True)
    assert events == [
        Result(ResultCode.CONNECT, "CONNECT"),
        HdlcFrame(frame, ResultCode.OK),
        Result(ResultCode.CONNECT, "CONNECT"),
        HdlcFrame(b"\xff\x13\x80\x00\x6e\x00", ResultCode.ERROR),
        Result(ResultCode.NO_CARRIER, "NO CARRIER"),
    ]
    assert [event.fcs_ok for event in events if isinstance(event, HdlcFrame)] == [True, False]


def test_reader_reports_carrier_lost_after_a_frame() -> None:
    reader = ModemReader()
    reader.expect_hdlc()
    reader.feed(b"\xff\x03\x40\x01\x02\x10\x03\r\nNO CARRIER\r\n")
    event = reader.next_event()
    assert event == HdlcFrame(b"\xff\x03\x40", ResultCode.NO_CARRIER)
    assert isinstance(event, HdlcFrame) and not event.fcs_ok
    assert reader.next_event() is None


def test_reader_data_mode() -> None:
    reader = ModemReader()
    reader.feed(b"\r\nCONNECT\r\n\x00\x10\x10\x01\x10\x03\r\nOK\r\n")
    assert reader.next_event() == Result(ResultCode.CONNECT, "CONNECT")
    reader.expect_data()
    events = []
    while (event := reader.next_event()) is not None:
        events.append(event)
    assert events == [DataChunk(b"\x00\x10\x01"), DataEnd(), Result(ResultCode.OK, "OK")]


def test_reader_drops_overlong_noise() -> None:
    reader = ModemReader()
    reader.feed(b"x" * 2000 + b"\r\nOK\r\n")
    events = []
    while (event := reader.next_event()) is not None:
        events.append(event)
    assert events[-1] == Result(ResultCode.OK, "OK")


def test_parse_result() -> None:
    assert parse_result("CONNECT 9600") is ResultCode.CONNECT
    assert parse_result(" ok ") is ResultCode.OK
    assert parse_result("+FCLASS: 1") is None


def test_modulation_codes() -> None:
    assert modulation_code(BitRate.V17_14400, long_training=True) == 145
    assert modulation_code(BitRate.V17_14400, long_training=False) == 146
    assert modulation_code(BitRate.V29_9600, long_training=False) == 96
    assert rate_for_code(24) is BitRate.V27TER_2400
    assert rate_for_code(3) is None
    assert parse_modulations("24,48,72,96") == {
        BitRate.V27TER_2400,
        BitRate.V27TER_4800,
        BitRate.V29_7200,
        BitRate.V29_9600,
    }
