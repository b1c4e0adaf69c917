"""Whole pages: T.4 (MH, MR) and T.6 (MMR) coded data to and from bitmaps.

T.4 page layout (T.4 §4.1, §4.2)::

    [fill] EOL [tag] line 0 [fill] EOL [tag] line 1 ... line n-1 [fill] RTC

* EOL is ``000000000001``; in MR each EOL is followed by a tag bit, 1 when the next
  line is 1-D coded, 0 when 2-D (T.4 §4.2.2); a 1-D line comes every ``k`` lines
  (T.4 §4.2.1: k = 2 at normal, 4 at fine resolution) so one bad line spoils at most k.
* Fill is zeros before an EOL.  It pads each coded line to the minimum scan line time
  negotiated in DIS/DCS (T.4 §4.1.3); we count the line's bits from the end of one EOL
  (and tag bit) to the start of the next.  T.4 counts the EOL too, so ours is up to 13
  bits longer than needed, never shorter.  ``eol_align`` adds fill so every line's EOL
  ends on a byte boundary (the T.4 option TIFF calls T4Options bit 2).
* RTC is six EOLs, each with tag bit 1 in MR (T.4 §4.1.4, §4.2.4).

T.6 page layout (T.6 §2.2, §2.4): every line 2-D coded against the one above (an
imaginary white line above the first), no EOL, no fill, then EOFB (two EOLs), zero
padded to a byte.

Decoding accepts fill before any EOL, a page with or without its leading EOL, and takes
two consecutive EOLs as RTC (a receiver only needs that much to know the page ended);
anything after RTC/EOFB is ignored.
"""

from __future__ import annotations

import enum
import itertools

import numpy as np

from drivers.t4 import mh, twod
from drivers.t4.bits import BitReader, pack_bits
from drivers.t4.codes import EOL, RTC_EOLS
from drivers.t4.errors import T4DecodeError
from drivers.t4.runs import Bitmap, changing_elements, check_bitmap, find_changes, run_lengths

#: An EOL is eleven zeros then a one; with fill before it, at least eleven zeros.
_EOL_ZEROS = len(EOL) - 1


class Coding(enum.Enum):
    """The page coding schemes a fax call can negotiate (T.30 DIS/DCS bits)."""

    MH = "MH"  # T.4 one-dimensional (Modified Huffman)
    MR = "MR"  # T.4 two-dimensional (Modified READ)
    MMR = "MMR"  # T.6 (Modified Modified READ), only with ECM


def encode_page(
    pixels: Bitmap,
    coding: Coding,
    *,
    k: int = 4,
    min_bits_per_line: int = 0,
    eol_align: bool = False,
) -> bytes:
    """Return the coded page, first bit of the line in the least significant bit of a byte.

    ``pixels`` is a 2-D bool array, True = black.  ``k`` is the MR 1-D line interval;
    ``min_bits_per_line`` is bit rate x minimum scan time / 1000.  Raises ValueError on
    a bitmap that is not 2-D bool, on ``k < 1``, and on fill options for MMR (T.6 has
    no fill: it only runs under ECM, where scan time does not matter); TypeError if
    ``coding`` is not a Coding.
    """
    check_bitmap(pixels)
    _check_coding(coding)
    if k < 1:
        raise ValueError(f"k is a line count, at least 1, not {k}")
    if min_bits_per_line < 0:
        raise ValueError(f"min_bits_per_line cannot be negative: {min_bits_per_line}")
    width = int(pixels.shape[1])
    if coding is Coding.MMR:
        if min_bits_per_line or eol_align:
            raise ValueError("MMR (T.6) has no EOLs and no fill")
        return pack_bits(_t6_bits(changing_elements(find_changes(pixels)), width))
    found = find_changes(pixels)
    lines = mh.encode_lines(*run_lengths(found))
    tags: list[str] | None = None
    if coding is Coding.MR:
        changes = changing_elements(found)
        tags = ["1" if row % k == 0 else "0" for row in range(len(lines))]
        for row in range(len(lines)):
            if row % k:
                lines[row] = twod.encode_line(changes[row], changes[row - 1], width)
    return pack_bits(_t4_bits(lines, tags, min_bits_per_line, eol_align))


def _check_coding(coding: Coding) -> None:
    if not isinstance(coding, Coding):  # a str would silently take the MH path
        raise TypeError(f"coding must be a Coding, not {coding!r}")


def _t6_bits(changes: list[list[int]], width: int) -> str:
    parts = []
    reference: list[int] = []
    for coding_line in changes:
        parts.append(twod.encode_line(coding_line, reference, width))
        reference = coding_line
    parts.append(EOL * 2)  # EOFB, T.6 §2.4
    return "".join(parts)


def _t4_bits(lines: list[str], tags: list[str] | None, min_bits: int, eol_align: bool) -> str:
    parts: list[str] = []
    pos = 0
    previous = min_bits  # no fill before the first EOL, except to align it
    for row, line in enumerate(lines):
        fill = max(0, min_bits - previous)
        if eol_align:
            fill += -(pos + fill + len(EOL)) % 8
        tag = tags[row] if tags else ""
        parts += ("0" * fill, EOL, tag, line)
        pos += fill + len(EOL) + len(tag) + len(line)
        previous = len(line)
    fill = max(0, min_bits - previous)
    if eol_align:
        fill += -(pos + fill + len(EOL)) % 8
    parts.append("0" * fill)
    parts.append((EOL + ("1" if tags is not None else "")) * RTC_EOLS)
    return "".join(parts)


def decode_page(data: bytes, coding: Coding, width: int = 1728, *, strict: bool = True) -> Bitmap:
    """Return the page coded in ``data`` as a bool array (rows x ``width``), True = black.

    Raises T4DecodeError (a ValueError) on data that is not a valid page: a bad code, a
    line of the wrong length, or data that ends before RTC (T.4) or EOFB (T.6); with
    ``strict=False`` it instead returns the lines decoded before the fault.  Raises
    TypeError if ``coding`` is not a Coding.  T.4 lines end at an EOL, so a wrong
    ``width`` is caught; T.6 codes a line's end relative to the line above, and
    decoding at the wrong width can succeed with wrong pixels.
    """
    _check_coding(coding)
    if width < 1:
        raise ValueError(f"a line is at least one pixel wide, not {width}")
    reader = BitReader(data)
    rows: list[list[int]] = []
    try:
        if coding is Coding.MMR:
            _decode_t6(reader, width, rows)
        else:
            _decode_t4(reader, width, rows, two_d=coding is Coding.MR)
    except T4DecodeError:
        if strict:
            raise
    return _bitmap(rows, width)


def _decode_t4(reader: BitReader, width: int, rows: list[list[int]], *, two_d: bool) -> None:
    """Append each line's changing elements to ``rows`` until RTC."""
    windows = reader.windows
    pos = 0
    one_d = True
    first = reader.next_one(0)
    if first >= _EOL_ZEROS:  # the page's leading EOL (a page may also omit it)
        pos, one_d, end = _after_eol(reader, first + 1, two_d, 0)
        if end:
            return
    reference: list[int] = []
    while True:
        line = len(rows)
        if one_d:
            changes, pos = mh.decode_line(windows, pos, width, line)
        else:
            changes, pos = twod.decode_line(windows, pos, reference, width, line)
        if pos > reader.length:
            raise T4DecodeError("data ends inside the line", line=line, bit=reader.length)
        rows.append(changes)
        reference = changes
        one = reader.next_one(pos)
        if one < 0:
            raise T4DecodeError("data ends without RTC", line=line + 1, bit=reader.length)
        if one - pos < _EOL_ZEROS:
            raise T4DecodeError("no EOL after the line: line is long", line=line, bit=pos)
        pos, one_d, end = _after_eol(reader, one + 1, two_d, line + 1)
        if end:
            return


def _after_eol(reader: BitReader, pos: int, two_d: bool, line: int) -> tuple[int, bool, bool]:
    """Read the tag bit (MR) after an EOL ending at ``pos``.

    Returns (position of the next line, whether it is 1-D, whether this EOL starts RTC).
    """
    one_d = True
    if two_d:
        if pos >= reader.length:
            raise T4DecodeError("data ends before the tag bit", line=line, bit=pos)
        one_d = reader.bits[pos] == 1
        pos += 1
    following = reader.next_one(pos)
    if following < 0:
        raise T4DecodeError("data ends without RTC", line=line, bit=reader.length)
    # No code of either scheme starts with eleven zeros, so these can only be an EOL.
    return pos, one_d, following - pos >= _EOL_ZEROS


def _decode_t6(reader: BitReader, width: int, rows: list[list[int]]) -> None:
    """Append each line's changing elements to ``rows`` until EOFB."""
    windows = reader.windows
    pos = 0
    reference: list[int] = []
    leading = True
    while True:
        line = len(rows)
        if reader.next_one(pos) < 0:  # only zero padding left
            raise T4DecodeError("data ends without EOFB", line=line, bit=reader.length)
        if twod.MODE_DECODE[windows[pos]] >> 4 == twod.MODE_EOL:
            pos += len(EOL)
            if pos >= reader.length:
                raise T4DecodeError("data ends inside EOFB", line=line, bit=reader.length)
            if twod.MODE_DECODE[windows[pos]] >> 4 == twod.MODE_EOL:
                return  # EOFB, T.6 §2.4
            if not leading:
                raise T4DecodeError("EOL without a second EOL (EOFB)", line=line, bit=pos)
        leading = False  # an EOL before the first line is tolerated, not after
        changes, pos = twod.decode_line(windows, pos, reference, width, line)
        if pos > reader.length:
            raise T4DecodeError("data ends inside the line", line=line, bit=reader.length)
        rows.append(changes)
        reference = changes


def _bitmap(rows: list[list[int]], width: int) -> Bitmap:
    """Paint each row from its changing elements: every change flips the colour."""
    counts = [len(changes) for changes in rows]
    columns = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.intp, count=sum(counts))
    toggles = np.zeros((len(rows), width), dtype=np.bool_)
    toggles[np.repeat(np.arange(len(rows)), counts), columns] = True
    return np.logical_xor.accumulate(toggles, axis=1)
