"""T.30 frame codec: known bytes, round trips and garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.t30.errors import RemoteProtocolError
from drivers.t30.frames import (
    FCF,
    FIXED_LOW_BIT,
    IDENTITY_FCFS,
    NON_STANDARD_FCFS,
    BitRate,
    DCSFrame,
    DISFrame,
    Frame,
    IdentityFrame,
    LengthCapability,
    PageCoding,
    PageLength,
    PageWidth,
    RateCapability,
    RawFrame,
    ScanTime,
    WidthCapability,
    decode,
)


def test_fcf_values_are_unique() -> None:
    """No two FCF names share a byte (an IntEnum would silently alias them)."""
    assert len({int(fcf) for fcf in FCF}) == len(FCF.__members__)


def test_dis_bytes_match_t30_table_2() -> None:
    """DIS for V.27ter/V.29/V.17, fine, 20 ms: bits 10, 11, 12, 14, 15 set, as a modem sends it."""
    dis = DISFrame(
        rates=RateCapability.V27TER_V29_V17, fine=True, lengths=LengthCapability.A4, scan_time=ScanTime.MS_20
    )
    # Octet 2 = bits 9-16: 10 -> 0x02, 11 -> 0x04, 12 -> 0x08, 14 -> 0x20, 15 -> 0x40.
    assert dis.encode() == bytes([0xFF, 0x13, 0x80, 0x00, 0x6E, 0x00])


def test_dcs_bytes_for_v29_9600_normal() -> None:
    """DCS 9600 V.29, MH, 10 ms: bits 10 and 11, scan bits (21, 22, 23) = (0, 1, 0), X bit set."""
    dcs = DCSFrame(x_bit=True, bit_rate=BitRate.V29_9600, fine=False, min_scan_ms=10)
    assert dcs.encode() == bytes([0xFF, 0x13, 0x83, 0x00, 0x06, 0x20])


def test_identity_is_reversed_and_padded() -> None:
    """TSI '040 628 04 00' goes out last character first, padded to 20 with spaces."""
    tsi = IdentityFrame(fcf=FCF.TSI, final=False, x_bit=True, identity="040 628 04 00")
    raw = tsi.encode()
    assert raw[:3] == bytes([0xFF, 0x03, 0x43])
    assert raw[3:] == b"00 40 826 040".rjust(20)
    assert decode(raw) == tsi


def test_decode_separates_x_bit_from_code() -> None:
    """0x2F is EOP from the caller; 0x81 is DTC, not DIS with an X bit."""
    assert decode(bytes([0xFF, 0x13, 0x2F])) == Frame(fcf=FCF.EOP, x_bit=True)
    assert decode(bytes([0xFF, 0x13, 0x81, 0x00, 0x02, 0x00])).fcf is FCF.DTC


def test_dis_rates_fastest_first() -> None:
    assert RateCapability.V27TER_V29_V17.bit_rates[0] is BitRate.V17_14400
    assert RateCapability.V27TER.bit_rates == (BitRate.V27TER_4800, BitRate.V27TER_2400)
    assert RateCapability.V27TER_FALLBACK.bit_rates == (BitRate.V27TER_2400,)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "at least 3"),
        (bytes([0xFE, 0x13, 0x80]), "not an HDLC frame"),
        (bytes([0xFF, 0x07, 0x80]), "not an HDLC frame"),
        (bytes([0xFF, 0x13, 0x00]), "unknown T.30 FCF"),
        (bytes([0xFF, 0x13, 0x83, 0x00, 0x12, 0x00]), "does not define"),
    ],
)
def test_decode_rejects_non_frames(data: bytes, words: str) -> None:
    with pytest.raises(RemoteProtocolError, match=words):
        decode(data)


_PLAIN = [f for f in FCF if f not in IDENTITY_FCFS | NON_STANDARD_FCFS | {FCF.DIS, FCF.DTC, FCF.DCS}]
_identity_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20).map(str.strip)


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    kind = draw(st.sampled_from(["plain", "raw", "identity", "dis", "dcs"]))
    final = draw(st.booleans())
    if kind == "plain":
        fcf = draw(st.sampled_from(_PLAIN))
        x_bit = draw(st.booleans()) and fcf not in FIXED_LOW_BIT
        return Frame(fcf=fcf, final=final, x_bit=x_bit)
    if kind == "raw":
        fcf = draw(st.sampled_from(sorted(NON_STANDARD_FCFS)))
        x_bit = draw(st.booleans()) and fcf not in FIXED_LOW_BIT
        return RawFrame(fcf=fcf, final=final, x_bit=x_bit, info=draw(st.binary(max_size=40)))
    if kind == "identity":
        fcf = draw(st.sampled_from(sorted(IDENTITY_FCFS)))
        x_bit = draw(st.booleans()) and fcf not in FIXED_LOW_BIT
        return IdentityFrame(fcf=fcf, final=final, x_bit=x_bit, identity=draw(_identity_text))
    if kind == "dis":
        return DISFrame(
            fcf=draw(st.sampled_from([FCF.DIS, FCF.DTC])),
            final=final,
            can_transmit=draw(st.booleans()),
            can_receive=draw(st.booleans()),
            rates=draw(st.sampled_from(RateCapability)),
            fine=draw(st.booleans()),
            mr=draw(st.booleans()),
            widths=draw(st.sampled_from(WidthCapability)),
            lengths=draw(st.sampled_from(LengthCapability)),
            scan_time=draw(st.sampled_from(ScanTime)),
            ecm=draw(st.booleans()),
            mmr=draw(st.booleans()),
        )
    return DCSFrame(
        final=final,
        x_bit=draw(st.booleans()),
        receive=draw(st.booleans()),
        bit_rate=draw(st.sampled_from(BitRate)),
        fine=draw(st.booleans()),
        coding=draw(st.sampled_from(PageCoding)),
        width=draw(st.sampled_from(PageWidth)),
        length=draw(st.sampled_from(PageLength)),
        min_scan_ms=draw(st.sampled_from([0, 5, 10, 20, 40])),
        ecm=draw(st.booleans()),
        ecm_frame_64=draw(st.booleans()),
    )


@given(frames())
def test_round_trip(frame: Frame) -> None:
    """decode(encode(f)) == f for every frame built from valid fields."""
    assert decode(frame.encode()) == frame


@given(st.binary(max_size=40))
def test_random_bytes_parse_or_raise_remote_error(data: bytes) -> None:
    """Any bytes either decode to a frame that re-encodes, or raise RemoteProtocolError."""
    try:
        frame = decode(data)
    except RemoteProtocolError:
        return
    assert decode(frame.encode()).fcf is frame.fcf
