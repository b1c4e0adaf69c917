"""ECM frames (PPS, PPR, CTC, EOR, FCD, RCP, RR, RNR, CTR, ERR) and the HDLC framing of
ECM blocks: known bytes, round trips and garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.t30.errors import RemoteProtocolError
from drivers.t30.frames import (
    FCF,
    POST_MESSAGE_FCFS,
    BitRate,
    CTCFrame,
    EORFrame,
    FCDFrame,
    Frame,
    PPRFrame,
    PPSFrame,
    decode,
)
from drivers.t30.hdlc import fcs, frame_block, unframe

_POST = st.sampled_from([None, *sorted(POST_MESSAGE_FCFS)])


@st.composite
def ecm_frames(draw: st.DrawFn) -> Frame:
    kind = draw(st.sampled_from(["pps", "ppr", "ctc", "eor", "fcd", "plain"]))
    x_bit = draw(st.booleans())
    if kind == "pps":
        return PPSFrame(
            x_bit=x_bit,
            post_message=draw(_POST),
            page=draw(st.integers(0, 255)),
            block=draw(st.integers(0, 255)),
            frame_count=draw(st.integers(1, 256)),
        )
    if kind == "ppr":
        return PPRFrame(x_bit=x_bit, missing=frozenset(draw(st.sets(st.integers(0, 255), min_size=1))))
    if kind == "ctc":
        return CTCFrame(x_bit=x_bit, bit_rate=draw(st.sampled_from(BitRate)))
    if kind == "eor":
        return EORFrame(x_bit=x_bit, post_message=draw(_POST))
    if kind == "fcd":
        return FCDFrame(number=draw(st.integers(0, 255)), data=draw(st.binary(min_size=1, max_size=256)))
    fcf = draw(st.sampled_from([FCF.RR, FCF.RNR, FCF.CTR, FCF.ERR, FCF.RCP, FCF.MCF]))
    return Frame(fcf=fcf, x_bit=x_bit, final=fcf is not FCF.RCP)


@given(ecm_frames())
def test_round_trip(frame: Frame) -> None:
    """decode(encode(f)) == f for every ECM frame built from valid fields."""
    assert decode(frame.encode()) == frame


def test_pps_bytes_as_spandsp_reads_them() -> None:
    """PPS-MPS, page 1, block 0, 3 frames: FCF2 carries the X bit, the count is frames - 1."""
    pps = PPSFrame(x_bit=True, post_message=FCF.MPS, page=0, block=0, frame_count=3)
    assert pps.encode() == bytes([0xFF, 0x13, 0xBF, 0x4F, 0x00, 0x00, 0x02])
    null = PPSFrame(x_bit=True, post_message=None, page=4, block=2, frame_count=256)
    assert null.encode() == bytes([0xFF, 0x13, 0xBF, 0x00, 0x04, 0x02, 0xFF])


def test_ppr_bitmap_is_lsb_first() -> None:
    """Frame n is bit n % 8 of octet n // 8 (T.30 5.3.6.2.11)."""
    fif = PPRFrame(missing=frozenset({0, 9, 255})).fif()
    assert len(fif) == 32
    assert (fif[0], fif[1], fif[31]) == (0x01, 0x02, 0x80)
    assert decode(bytes([0xFF, 0x13, 0xBC]) + fif) == PPRFrame(missing=frozenset({0, 9, 255}))


def test_ctc_names_the_rate_in_dcs_bits() -> None:
    assert CTCFrame(x_bit=True, bit_rate=BitRate.V29_9600).encode() == bytes([0xFF, 0x13, 0x13, 0x00, 0x04])


def test_fcd_and_rcp_codes() -> None:
    """T.4 A.3.6: FCD 0x06 and RCP 0x86, non-final control field."""
    assert FCDFrame(number=7, data=b"\x01").encode() == bytes([0xFF, 0x03, 0x06, 0x07, 0x01])
    assert Frame(fcf=FCF.RCP, final=False).encode() == bytes([0xFF, 0x03, 0x86])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bytes([0xFF, 0x13, 0xBE, 0x4F, 0x00]), "4-octet"),
        (bytes([0xFF, 0x13, 0xBE, 0x8C, 0x00, 0x00, 0x00]), "cannot carry MCF"),
        (bytes([0xFF, 0x13, 0xBE, 0x02, 0x00, 0x00, 0x00]), "unknown post-message"),
        (bytes([0xFF, 0x13, 0xBC, 0x00]), "32-octet"),
        (bytes([0xFF, 0x13, 0x12, 0x00, 0x3C]), "does not define"),
    ],
)
def test_bad_ecm_fields_are_remote_errors(data: bytes, words: str) -> None:
    with pytest.raises(RemoteProtocolError, match=words):
        decode(data)


def test_fcs_matches_the_crc_ccitt_check_value() -> None:
    """CRC-16/X.25 of "123456789" is 0x906E, sent low octet first."""
    assert fcs(b"123456789") == bytes([0x6E, 0x90])


@given(st.lists(st.binary(min_size=3, max_size=300), min_size=1, max_size=5), st.integers(1, 40))
def test_hdlc_block_round_trip(frames: list[bytes], opening: int) -> None:
    """unframe(frame_block(fs)) == fs, and no six ones in a row survive outside flags."""
    stream = frame_block(frames, opening_flags=opening)
    assert unframe(stream) == frames


def test_zero_insertion_after_five_ones() -> None:
    """0xFF 0xFF ... must not look like a flag or abort on the line."""
    stream = frame_block([b"\xff" * 8], opening_flags=1, closing_flags=1)
    bits = "".join(format(octet, "08b")[::-1] for octet in stream)
    inner = bits[8:].split("01111110")[0]
    assert "111111" not in inner
    assert unframe(stream) == [b"\xff" * 8]
