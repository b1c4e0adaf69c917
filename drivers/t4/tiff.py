"""Wrap coded page data in a single-strip TIFF, unchanged (TIFF 6.0 §11, RFC 2306).

Storing a received fax as TIFF keeps the data as it came off the line, and lets libtiff
tools (tiffcp, tiffinfo, viewers) read it.  Pillow can only write TIFF by recoding the
pixels, so the few tags are written here with struct.
"""

from __future__ import annotations

import struct

from drivers.t4.codec import Coding

# TIFF tag numbers and field types (TIFF 6.0 §2, §8, §11).
_SHORT, _LONG, _RATIONAL = 3, 4, 5
_COMPRESSION = {Coding.MH: 3, Coding.MR: 3, Coding.MMR: 4}  # CCITT T.4 / T.6
_T4_2D = 1  # T4Options bit 0: 2-D coding
_T4_FILL = 4  # T4Options bit 2: fill bits make each EOL end on a byte boundary
_STRIP_OFFSETS = 273


def wrap_tiff(
    data: bytes,
    coding: Coding,
    width: int,
    height: int,
    *,
    dpi: tuple[int, int] = (204, 196),
    eol_aligned: bool = False,
) -> bytes:
    """Return a little-endian TIFF whose one strip is ``data`` (LSB-first, FillOrder=2).

    ``height`` is the number of lines coded in ``data``; ``eol_aligned`` says the data
    was encoded with ``eol_align=True``.
    """
    entries: list[tuple[int, int, int | tuple[int, int]]] = [
        (256, _LONG, width),
        (257, _LONG, height),
        (258, _SHORT, 1),  # BitsPerSample
        (259, _SHORT, _COMPRESSION[coding]),
        (262, _SHORT, 0),  # PhotometricInterpretation: WhiteIsZero, 1 = black as in fax
        (266, _SHORT, 2),  # FillOrder: first bit in the least significant bit
        (_STRIP_OFFSETS, _LONG, 0),  # set below, once the header size is known
        (277, _SHORT, 1),  # SamplesPerPixel
        (278, _LONG, height),  # RowsPerStrip
        (279, _LONG, len(data)),  # StripByteCounts
        (282, _RATIONAL, (dpi[0], 1)),
        (283, _RATIONAL, (dpi[1], 1)),
    ]
    if coding is Coding.MMR:
        entries.append((293, _LONG, 0))  # T6Options
    else:
        options = (_T4_2D if coding is Coding.MR else 0) | (_T4_FILL if eol_aligned else 0)
        entries.append((292, _LONG, options))  # T4Options
    entries.append((296, _SHORT, 2))  # ResolutionUnit: inch

    # Layout: header (8 bytes), the IFD, the two resolution rationals (16), the strip.
    ifd_offset = 8
    extra_offset = ifd_offset + 2 + 12 * len(entries) + 4
    data_offset = extra_offset + 16
    extra = b""
    fields = b""
    for tag, kind, value in entries:
        if isinstance(value, tuple):
            fields += struct.pack("<HHII", tag, kind, 1, extra_offset + len(extra))
            extra += struct.pack("<II", *value)
            continue
        number = data_offset if tag == _STRIP_OFFSETS else value
        # A SHORT sits in the first half of the 4-byte value field.
        packed = struct.pack("<HH", number, 0) if kind == _SHORT else struct.pack("<I", number)
        fields += struct.pack("<HHI", tag, kind, 1) + packed
    header = b"II*\x00" + struct.pack("<I", ifd_offset)
    ifd = struct.pack("<H", len(entries)) + fields + struct.pack("<I", 0)
    return header + ifd + extra + data
