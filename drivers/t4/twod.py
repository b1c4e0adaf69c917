"""Two-dimensional coding of a scan line against the line above (T.4 §4.2, T.6 §2.2).

Each changing element ``a1`` of the coding line is sent in one of three modes,
relative to ``b1``, the first changing element on the reference line to the right of
``a0`` and of the opposite colour to ``a0``'s, and ``b2``, the one after it:

* pass mode when ``b2`` lies left of ``a1``: ``a0`` moves under ``b2``;
* vertical mode when ``|a1 - b1| <= 3``: only the difference is sent;
* horizontal mode otherwise: the runs ``a0a1`` and ``a1a2`` as MH codes.

``a0`` starts on an imaginary white pixel before the line (position -1 here; a run
measured from it starts at 0).  Changing elements are lists of columns as produced by
`runs.changing_elements`; on any line, the element at an even index is a change to
black, so the parity of an index gives its colour.
"""

from __future__ import annotations

from typing import Final

from drivers.t4.bits import END_OF_DATA
from drivers.t4.codes import EOL, EXTENSION, HORIZONTAL, MAX_CODE_BITS, PASS, VERTICAL
from drivers.t4.errors import T4DecodeError
from drivers.t4.mh import BLACK_DECODE, WHITE_DECODE, read_run, run_code

# Mode numbers in the decode table; vertical modes are 0..6 for a1 - b1 = -3..3.
MODE_PASS: Final = 7
MODE_HORIZONTAL: Final = 8
MODE_EOL: Final = 9
MODE_EXTENSION: Final = 10
MODE_DATA_ENDS: Final = 11
_INVALID: Final = -1
_VERTICAL_CODES: Final = [VERTICAL[delta] for delta in range(-3, 4)]


def _mode_table() -> list[int]:
    """Map every window (see `bits.BitReader`) to ``mode << 4 | code bits``, or -1."""
    table = [_INVALID] * END_OF_DATA + [MODE_DATA_ENDS << 4]
    codes = [(code, mode) for mode, code in enumerate(_VERTICAL_CODES)]
    codes += [(PASS, MODE_PASS), (HORIZONTAL, MODE_HORIZONTAL), (EOL, MODE_EOL),
              (EXTENSION, MODE_EXTENSION)]  # fmt: skip
    for code, mode in codes:
        spare = MAX_CODE_BITS - len(code)
        first = int(code, 2) << spare
        for window in range(first, first + (1 << spare)):
            table[window] = mode << 4 | len(code)
    return table


MODE_DECODE: Final = _mode_table()


def encode_line(coding: list[int], reference: list[int], width: int) -> str:
    """Return the 2-D code of a line, given its and the reference line's changing elements."""
    # Sentinels at the line end stand for "no further change" (T.4 §4.2.1.3.4: an
    # element not found is placed just past the line).
    cur = [*coding, width, width]
    ref = [*reference, width, width, width]
    parts: list[str] = []
    a0 = -1
    colour = 0  # 0 while a0 is white
    i = 0  # index of a1 in cur: the first element right of a0
    j = 0  # first index in ref right of a0
    while a0 < width:
        while ref[j] <= a0:
            j += 1
        b = j + ((j ^ colour) & 1)  # b1 must change to the opposite colour
        b1 = ref[b]
        b2 = ref[b + 1]
        a1 = cur[i]
        if b2 < a1:
            parts.append(PASS)
            a0 = b2
        elif -3 <= a1 - b1 <= 3:
            parts.append(_VERTICAL_CODES[a1 - b1 + 3])
            a0 = a1
            colour ^= 1
            i += 1
        else:
            a2 = cur[i + 1]
            parts.append(HORIZONTAL)
            parts.append(run_code(a1 - max(a0, 0), bool(colour)))
            parts.append(run_code(a2 - a1, not colour))
            a0 = a2
            i += 2
    return "".join(parts)


def decode_line(windows: list[int], pos: int, reference: list[int], width: int, line: int) -> tuple[list[int], int]:
    """Decode one 2-D coded line starting at bit ``pos``.

    Returns (changing elements, position after the line).  Raises T4DecodeError on a
    bad or unsupported mode code, an EOL inside the line, or an element off the line.
    """
    ref = [*reference, width, width, width]
    changes: list[int] = []
    a0 = -1
    colour = 0
    j = 0
    while a0 < width:
        while ref[j] <= a0:
            j += 1
        b = j + ((j ^ colour) & 1)
        entry = MODE_DECODE[windows[pos]]
        mode = entry >> 4
        if entry < 0 or mode >= MODE_EOL:
            raise _bad_mode(mode if entry >= 0 else _INVALID, windows[pos], line, pos)
        start = pos
        pos += entry & 15
        if mode < MODE_PASS:
            a1 = ref[b] + mode - 3
            if a1 <= a0 or a1 > width:
                raise T4DecodeError(f"vertical mode puts a change at {a1}", line=line, bit=start)
            if a1 < width:
                changes.append(a1)
            a0 = a1
            colour ^= 1
        elif mode == MODE_PASS:
            a0 = ref[b + 1]
            if a0 >= width:
                raise T4DecodeError("pass mode past the line end", line=line, bit=start)
        else:
            a0, pos = _read_horizontal(windows, pos, a0, colour, changes, width=width, line=line)
    return changes, pos


def _read_horizontal(
    windows: list[int], pos: int, a0: int, colour: int, changes: list[int], *, width: int, line: int
) -> tuple[int, int]:
    """Read the two runs of a horizontal mode code and add a1, a2 to ``changes``.

    Returns (a2, position after the runs); raises T4DecodeError if a2 is past the line.
    """
    start = pos
    tables = (WHITE_DECODE, BLACK_DECODE)
    run1, pos = read_run(windows, pos, tables[colour], line)
    run2, pos = read_run(windows, pos, tables[colour ^ 1], line)
    a1 = max(a0, 0) + run1
    a2 = a1 + run2
    if a2 > width:
        raise T4DecodeError(f"horizontal runs end at {a2}", line=line, bit=start)
    for change in (a1, a2):
        if change < width:
            if changes and changes[-1] == change:  # an empty run cancels a change
                changes.pop()
            else:
                changes.append(change)
    return a2, pos


def _bad_mode(mode: int, window: int, line: int, pos: int) -> T4DecodeError:
    if mode == MODE_EXTENSION:
        return T4DecodeError("uncompressed mode is not supported", line=line, bit=pos)
    if mode == MODE_DATA_ENDS:
        return T4DecodeError("data ends inside the line", line=line, bit=pos)
    if mode == MODE_EOL or window == 0:  # EOL, or the zero fill before one
        return T4DecodeError("fill or EOL inside the line: line is short", line=line, bit=pos)
    return T4DecodeError("no mode code matches", line=line, bit=pos)
