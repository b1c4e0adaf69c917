"""Modified Huffman: one-dimensional run-length coding of a scan line (T.4 §4.1).

A line is alternating white and black runs, starting with white (a zero-length white
run if the line starts black).  A run of 64 or more is a make-up code for the largest
multiple of 64 it holds, then a terminating code for the rest; past 2560 the 2560
make-up code repeats (T.4 §4.1.2).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final

import numpy as np
import numpy.typing as npt

from drivers.t4.bits import END_OF_DATA
from drivers.t4.codes import (
    BLACK_MAKEUP,
    BLACK_TERMINATING,
    EXTENDED_MAKEUP,
    MAX_CODE_BITS,
    MAX_MAKEUP_RUN,
    WHITE_MAKEUP,
    WHITE_TERMINATING,
)
from drivers.t4.errors import T4DecodeError

#: Decode-table entry for a window that holds no code of the table.
INVALID: Final = -1
#: Decode-table entry for END_OF_DATA.
DATA_ENDS: Final = -2


def _makeup_codes(colour_makeup: tuple[str, ...]) -> tuple[str, ...]:
    """Make-up codes for one colour indexed by run // 64 (index 0 unused)."""
    return ("", *colour_makeup, *EXTENDED_MAKEUP)


def _run_code(run: int, terminating: tuple[str, ...], makeup: tuple[str, ...]) -> str:
    """The code for one run: make-up code(s), then the terminating code."""
    parts = []
    while run > MAX_MAKEUP_RUN + 63:
        parts.append(makeup[MAX_MAKEUP_RUN // 64])
        run -= MAX_MAKEUP_RUN
    if run >= 64:
        parts.append(makeup[run // 64])
    parts.append(terminating[run % 64])
    return "".join(parts)


def _run_codes(terminating: tuple[str, ...], makeup: tuple[str, ...]) -> list[str]:
    full = _makeup_codes(makeup)
    return [_run_code(run, terminating, full) for run in range(MAX_MAKEUP_RUN + 64)]


#: Complete code (make-up + terminating) for white runs 0..2623, then black runs 0..2623.
RUN_CODES: Final = _run_codes(WHITE_TERMINATING, WHITE_MAKEUP) + _run_codes(BLACK_TERMINATING, BLACK_MAKEUP)
#: Offset of the black codes in RUN_CODES.
BLACK_OFFSET: Final = MAX_MAKEUP_RUN + 64


def run_code(run: int, black: bool) -> str:
    """Return the code for a run of ``run`` pixels of one colour, any length."""
    if run < BLACK_OFFSET:
        return RUN_CODES[run + BLACK_OFFSET * black]
    if black:
        return _run_code(run, BLACK_TERMINATING, _makeup_codes(BLACK_MAKEUP))
    return _run_code(run, WHITE_TERMINATING, _makeup_codes(WHITE_MAKEUP))


def encode_lines(runs: npt.NDArray[np.intp], starts: npt.NDArray[np.intp]) -> list[str]:
    """Return each line's MH code, given the page's runs from `runs.run_lengths`."""
    black = (np.arange(runs.size) - np.repeat(starts[:-1], np.diff(starts))) & 1
    index = runs + black * BLACK_OFFSET
    if runs.size and int(runs.max()) >= BLACK_OFFSET:  # wider than any fax: rare, slow path
        codes = [run_code(int(r), bool(b)) for r, b in zip(runs, black, strict=True)]
    else:
        codes = [RUN_CODES[i] for i in index.tolist()]
    return ["".join(codes[start:end]) for start, end in pairwise(starts.tolist())]


def _decode_table(terminating: tuple[str, ...], makeup: tuple[str, ...]) -> list[int]:
    """Map every window (see `bits.BitReader`) to ``run << 4 | code bits``, or below 0."""
    table = [INVALID] * END_OF_DATA + [DATA_ENDS]
    codes = [(code, run) for run, code in enumerate(terminating)]
    codes += [(code, 64 * index) for index, code in enumerate(_makeup_codes(makeup)) if code]
    for code, run in codes:
        spare = MAX_CODE_BITS - len(code)
        first = int(code, 2) << spare
        entry = run << 4 | len(code)
        for window in range(first, first + (1 << spare)):
            if table[window] != INVALID:
                raise AssertionError(f"code table is not prefix-free at {code}")
            table[window] = entry
    return table


WHITE_DECODE: Final = _decode_table(WHITE_TERMINATING, WHITE_MAKEUP)
BLACK_DECODE: Final = _decode_table(BLACK_TERMINATING, BLACK_MAKEUP)


def read_run(windows: list[int], pos: int, table: list[int], line: int) -> tuple[int, int]:
    """Read one run (make-up codes, then a terminating code) at bit ``pos``.

    Returns (run, position after it).  Raises T4DecodeError on a bit pattern that is
    not a code of ``table``.
    """
    run = 0
    while True:
        entry = table[windows[pos]]
        if entry < 0:
            raise bad_code(entry == DATA_ENDS, windows[pos], line, pos)
        pos += entry & 15
        part = entry >> 4
        run += part
        if part < 64:
            return run, pos


def decode_line(windows: list[int], pos: int, width: int, line: int) -> tuple[list[int], int]:
    """Decode one MH-coded line starting at bit ``pos``.

    Returns (changing elements, position after the line).  Raises T4DecodeError on a
    bad code or if the runs do not add up to exactly ``width``.
    """
    changes: list[int] = []
    tables = (WHITE_DECODE, BLACK_DECODE)
    colour = 0
    a0 = 0
    while a0 < width:
        table = tables[colour]
        start = pos
        # read_run, inlined: this loop runs once per run of the page.
        while True:
            entry = table[windows[pos]]
            if entry < 0:
                raise bad_code(entry == DATA_ENDS, windows[pos], line, pos)
            pos += entry & 15
            part = entry >> 4
            a0 += part
            if part < 64:
                break
        if a0 > width:
            raise T4DecodeError(f"runs add up to {a0}, past the {width}-pixel line", line=line,
                                bit=start)  # fmt: skip
        if a0 < width:
            # An empty run in mid-line cancels the change before it (our encoder
            # makes none; decoding one this way gives the pixels it describes).
            if changes and changes[-1] == a0:
                changes.pop()
            else:
                changes.append(a0)
        colour ^= 1
    return changes, pos


def bad_code(data_ends: bool, window: int, line: int, pos: int) -> T4DecodeError:
    """Return the error for a window at ``pos`` that holds no code."""
    if data_ends:
        return T4DecodeError("data ends inside the line", line=line, bit=pos)
    if window >> 1 <= 1:  # an EOL or twelve zeros of fill; no code starts with eight zeros
        return T4DecodeError("fill or EOL inside the line: line is short", line=line, bit=pos)
    return T4DecodeError("no run-length code matches", line=line, bit=pos)
