"""Bad coded data: truncation and garbage raise T4DecodeError, never wrong pixels."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from t4_pages import patterns, text_form_page

from drivers.t4 import Coding, T4DecodeError, decode_page, encode_page
from drivers.t4.bits import pack_bits

EOL = "000000000001"
EOL_END = re.compile("0{11,}1")
PAGE = patterns()["block shifting 3"] | patterns()["single pixels at edges"]


def stream_bits(data: bytes) -> str:
    return "".join(f"{byte:08b}"[::-1] for byte in data)


@pytest.mark.parametrize("coding", list(Coding))
def test_every_truncation_raises_until_the_page_end_is_in(coding: Coding) -> None:
    """Cut anywhere before RTC's second EOL (T.6: EOFB's end), decoding raises; strict=False
    then returns exactly the whole lines before the cut."""
    data = encode_page(PAGE, coding)
    ends = [m.end() for m in EOL_END.finditer(stream_bits(data))]
    complete = ends[-1] if coding is Coding.MMR else ends[PAGE.shape[0] + 1]
    for size in range(len(data)):
        cut = data[:size]
        if size * 8 >= complete:
            assert np.array_equal(decode_page(cut, coding), PAGE)
            continue
        with pytest.raises(T4DecodeError):
            decode_page(cut, coding)
        partial = decode_page(cut, coding, strict=False)
        assert partial.shape[0] <= PAGE.shape[0]
        assert np.array_equal(partial, PAGE[: partial.shape[0]])


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=400), coding=st.sampled_from(Coding), width=st.sampled_from([8, 1728]))
def test_random_bytes_decode_or_raise_t4_decode_error(data: bytes, coding: Coding, width: int) -> None:
    """Random bytes either decode to a page of the right width or raise T4DecodeError."""
    try:
        page = decode_page(data, coding, width)
    except T4DecodeError as error:
        where = (error.line, error.bit)
    else:
        assert page.dtype == np.bool_
        assert page.shape[1] == width
        return
    assert min(where) >= 0


@settings(max_examples=200, deadline=None)
@given(flip=st.integers(0, 10**9), coding=st.sampled_from(Coding))
def test_a_flipped_bit_raises_or_still_decodes_full_width(flip: int, coding: Coding) -> None:
    """A line hit by a bit error raises, or decodes to a full-width line (T.4 codes cannot
    always tell); no other exception escapes."""
    data = bytearray(encode_page(PAGE, coding))
    data[flip // 8 % len(data)] ^= 1 << flip % 8
    try:
        page = decode_page(bytes(data), coding, PAGE.shape[1])
    except T4DecodeError:
        return
    assert page.shape[1] == PAGE.shape[1]


@pytest.mark.parametrize("coding", list(Coding))
@pytest.mark.parametrize("data", [b"", b"\x00" * 50, b"\xff" * 50, b"\x55\xaa" * 25])
def test_garbage_raises_and_says_where(coding: Coding, data: bytes) -> None:
    """Nothing, zeros, ones and noise are not a page, and the error says where.

    (To T.6 a run of ones is valid: each "1" is a white line coded V0, so those fail only
    at the end, for want of EOFB.)
    """
    with pytest.raises(T4DecodeError, match=r"^line \d+, bit \d+: ") as error:
        decode_page(data, coding)
    if coding is not Coding.MMR:
        assert error.value.line == 0


def test_mh_line_too_long_and_too_short_name_the_line() -> None:
    """A line whose runs pass the width, or stop short of it at an EOL, is an error there."""
    white_10, black_5 = "00111", "0011"
    good = EOL + white_10 + black_5 + "1100"  # 10 + 5 + 5 = width 20
    long_line = EOL + white_10 + black_5 + "10100"  # 10 + 5 + 9
    short_line = EOL + white_10 + black_5
    rtc = EOL * 6
    with pytest.raises(T4DecodeError, match="past the 20-pixel line") as error:
        decode_page(pack_bits(good + long_line + rtc), Coding.MH, 20)
    assert error.value.line == 1
    with pytest.raises(T4DecodeError, match="short") as error:
        decode_page(pack_bits(good + good + short_line + rtc), Coding.MH, 20)
    assert error.value.line == 2
    assert decode_page(pack_bits(good + good + rtc), Coding.MH, 20).shape == (2, 20)


@pytest.mark.parametrize("coding", [Coding.MH, Coding.MR])
def test_wrong_width_raises(coding: Coding) -> None:
    """T.4 data coded for 1728 pixels does not decode as narrower or wider lines.

    (T.6 cannot tell: with no EOL, a line's end is coded relative to the line above, and
    those codes decode at any width.  The width comes from DCS, not from the data.)
    """
    data = encode_page(text_form_page(64), coding)
    for width in (1700, 2048):
        with pytest.raises(T4DecodeError):
            decode_page(data, coding, width)


@pytest.mark.parametrize("coding", [Coding.MH, Coding.MR])
def test_t4_tolerates_fill_and_a_missing_leading_eol(coding: Coding) -> None:
    """Extra zero fill before any EOL is fine, and so is a page without its first EOL."""
    bits = stream_bits(encode_page(PAGE, coding))
    padded = re.sub("(0{11,}1)", lambda m: "0" * 29 + m.group(1), bits)
    assert np.array_equal(decode_page(pack_bits(padded), coding, PAGE.shape[1]), PAGE)
    if coding is Coding.MH:
        assert bits.startswith(EOL)
        headless = bits[len(EOL) :]
        assert np.array_equal(decode_page(pack_bits(headless), coding, PAGE.shape[1]), PAGE)


def test_mmr_tolerates_a_leading_eol_but_not_a_lone_eol_later() -> None:
    """T.6 data may start with an EOL; any later EOL must be the start of EOFB."""
    bits = stream_bits(encode_page(PAGE, Coding.MMR))
    decoded = decode_page(pack_bits(EOL + bits), Coding.MMR, PAGE.shape[1])
    assert np.array_equal(decoded, PAGE)
    first_line = len(stream_bits(encode_page(PAGE[:1], Coding.MMR)).rstrip("0")) - 2 * len(EOL)
    broken = bits[:first_line] + EOL + bits[first_line:]
    with pytest.raises(T4DecodeError, match="EOFB") as error:
        decode_page(pack_bits(broken), Coding.MMR, PAGE.shape[1])
    assert error.value.line == 1


def test_t4_decode_error_is_a_value_error() -> None:
    """Callers that catch ValueError for bad input catch ours too."""
    assert issubclass(T4DecodeError, ValueError)


@pytest.mark.parametrize("coding", list(Coding))
def test_trailing_junk_after_page_end_is_ignored(coding: Coding) -> None:
    """Whatever follows RTC (T.6: EOFB), such as modem padding or noise, is not decoded."""
    data = encode_page(PAGE, coding)
    for junk in (b"\x00" * 9, b"\xff" * 9, bytes(range(256))):
        assert np.array_equal(decode_page(data + junk, coding, PAGE.shape[1]), PAGE)
