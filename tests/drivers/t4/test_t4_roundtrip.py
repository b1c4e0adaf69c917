"""Round trips through our encoder and decoder, and the shape of the coded stream."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from t4_pages import Bitmap, bitmaps, patterns, text_form_page

from drivers.t4 import Coding, decode_page, encode_page, reverse_bits

# An EOL ends at a 1 after eleven or more zeros; no sequence of codes has eleven zeros.
EOL_END = re.compile("0{11,}1")


def stream_bits(data: bytes) -> str:
    """The coded data as a string of bits in transmission order (LSB of each byte first)."""
    return "".join(f"{byte:08b}"[::-1] for byte in data)


def assert_round_trip(page: Bitmap, coding: Coding, **options: int | bool) -> bytes:
    data = encode_page(page, coding, **options)  # type: ignore[arg-type]
    decoded = decode_page(data, coding, page.shape[1])
    assert decoded.shape == page.shape
    assert decoded.dtype == np.bool_
    assert np.array_equal(decoded, page)
    return data


@pytest.mark.parametrize("coding", list(Coding))
@pytest.mark.parametrize("name", list(patterns()))
def test_patterns_round_trip(name: str, coding: Coding) -> None:
    """Every hand-made pattern decodes to the pixels it was encoded from."""
    page = patterns()[name]
    assert_round_trip(page, coding)
    if coding is not Coding.MMR:
        assert_round_trip(page, coding, k=2, min_bits_per_line=1200, eol_align=True)


@pytest.mark.parametrize("width", [1, 2, 3, 63, 64, 65, 2560, 2561, 2623, 2624, 5200])
@pytest.mark.parametrize("coding", list(Coding))
def test_widths_round_trip(width: int, coding: Coding) -> None:
    """Lines of any width, including runs that need extended and chained make-up codes."""
    for page in patterns(width).values():
        assert_round_trip(page, coding)


@settings(max_examples=300, deadline=None)
@given(page=bitmaps(), coding=st.sampled_from(Coding), k=st.integers(1, 5))
def test_random_pages_round_trip(page: Bitmap, coding: Coding, k: int) -> None:
    """Any bitmap survives encode then decode, for every coding."""
    assert_round_trip(page, coding, k=k)


@settings(max_examples=200, deadline=None)
@given(
    page=bitmaps(),
    coding=st.sampled_from([Coding.MH, Coding.MR]),
    min_bits=st.sampled_from([0, 1, 96, 144, 576, 1152, 5000]),
    eol_align=st.booleans(),
)
def test_fill_round_trips_and_pads_each_line(page: Bitmap, coding: Coding, min_bits: int, eol_align: bool) -> None:
    """With fill, every coded line has at least min_bits bits, fill is only zeros, and
    the page still decodes; eol_align makes every line's EOL end on a byte boundary."""
    plain = stream_bits(encode_page(page, coding, k=2))
    filled = stream_bits(assert_round_trip(page, coding, k=2, min_bits_per_line=min_bits,
                                           eol_align=eol_align))  # fmt: skip
    tag = 1 if coding is Coding.MR else 0
    plain_ends = [m.end() for m in EOL_END.finditer(plain)]
    ends = [m.end() for m in EOL_END.finditer(filled)]
    assert len(ends) == len(plain_ends) == page.shape[0] + 6  # one EOL per line, then RTC
    for row in range(page.shape[0]):
        # From the end of the EOL (and tag bit) before the line to the start of the next.
        coded = ends[row + 1] - 12 - (ends[row] + tag)
        data = plain_ends[row + 1] - 12 - (plain_ends[row] + tag)
        assert coded >= max(min_bits, data)
        assert (
            filled[ends[row] + tag : ends[row] + tag + data]
            == plain[plain_ends[row] + tag : plain_ends[row] + tag + data]
        )
        if not eol_align:
            assert coded == max(min_bits, data), "fill only as much as needed"
    if eol_align:
        assert all(end % 8 == 0 for end in ends[: page.shape[0] + 1])


def test_mh_known_answer_bit_order() -> None:
    """An all-white MH line is EOL, make-up 1728, terminating 0, sent LSB first."""
    data = encode_page(np.zeros((1, 1728), dtype=bool), Coding.MH)
    bits = "000000000001" + "010011011" + "00110101" + "000000000001" * 6
    assert stream_bits(data) == bits + "0" * (-len(bits) % 8)
    # Bits 8..15 on the line are 0001 (end of EOL) 0100 (start of make-up 1728);
    # the first of them goes in bit 0 of the byte.
    assert data[:2] == bytes([0, 0b00101000])
    assert reverse_bits(data)[:2] == bytes([0, 0b00010100])


def test_mr_tags_one_dimensional_line_every_k() -> None:
    """MR codes lines 0, k, 2k, ... in 1-D (tag 1) and the rest in 2-D (tag 0), RTC tags 1."""
    page = patterns()["block shifting 1"]
    bits = stream_bits(encode_page(page, Coding.MR, k=4))
    tags = [bits[m.end()] for m in EOL_END.finditer(bits)]
    assert tags == ["1" if row % 4 == 0 else "0" for row in range(page.shape[0])] + ["1"] * 6


def test_mmr_ends_with_eofb_and_has_no_other_eol() -> None:
    """T.6 data is the lines, EOFB, then zero padding to a byte, with no EOL elsewhere."""
    bits = stream_bits(encode_page(patterns()["pass mode"], Coding.MMR))
    assert [m.end() for m in EOL_END.finditer(bits)] == [
        len(bits.rstrip("0")) - 12,
        len(bits.rstrip("0")),
    ]


def test_text_page_round_trips_and_compresses() -> None:
    """A text form page round-trips in every coding, and 2-D coding beats 1-D."""
    page = text_form_page()
    sizes = {coding: len(assert_round_trip(page, coding)) for coding in Coding}
    assert sizes[Coding.MMR] < sizes[Coding.MR] < sizes[Coding.MH] < page.size // 8 // 3


@pytest.mark.parametrize(
    ("pixels", "options"),
    [
        (np.zeros((2, 8), dtype=np.uint8), {}),
        (np.zeros(8, dtype=bool), {}),
        (np.zeros((2, 0), dtype=bool), {}),
        (np.zeros((2, 8), dtype=bool), {"k": 0}),
        (np.zeros((2, 8), dtype=bool), {"min_bits_per_line": -1}),
    ],
)
def test_encode_rejects_bad_arguments(pixels: Bitmap, options: dict[str, int]) -> None:
    """A bitmap that is not 2-D bool, or nonsense options, is a ValueError."""
    with pytest.raises(ValueError, match=r"2-D bool|wide|k is|negative"):
        encode_page(pixels, Coding.MR, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("options", [{"min_bits_per_line": 96}, {"eol_align": True}])
def test_mmr_rejects_fill_options(options: dict[str, int | bool]) -> None:
    """T.6 has no EOL and no fill, so asking for them is a mistake, not a no-op."""
    with pytest.raises(ValueError, match="MMR"):
        encode_page(np.zeros((2, 8), dtype=bool), Coding.MMR, **options)  # type: ignore[arg-type]
