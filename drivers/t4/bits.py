"""Bit strings to bytes and back, in fax transmission order.

A Class 1 modem sends the least significant bit of each byte first (T.4 §2.1 puts the
first bit of a line first on the wire; HylaFAX ``ModemSendFillOrder`` LSB2MSB), which is
TIFF ``FillOrder=2``.  Inside this package the coded page is handled as a ``str`` of
``"0"``/``"1"`` in transmission order: the run-length codes are bit strings, so encoding is
table look-ups and ``str.join``, and numpy packs the result in one call.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from drivers.t4.codes import MAX_CODE_BITS

#: What ``BitReader.windows`` holds at and past the end of the data: no window of real
#: bits has this value, so decode tables give it an entry of its own.
END_OF_DATA: Final = 1 << MAX_CODE_BITS

#: Bit-reversal of every byte value, for ``bytes.translate``.
_REVERSED: Final = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


def reverse_bits(data: bytes) -> bytes:
    """Return ``data`` with the bit order of every byte reversed (LSB-first <-> MSB-first)."""
    return data.translate(_REVERSED)


def pack_bits(bits: str) -> bytes:
    """Return ``bits`` (a string of ``"0"``/``"1"``) packed LSB-first, zero-padded to a byte."""
    values = np.frombuffer(bits.encode("ascii"), dtype=np.uint8) - ord("0")
    return np.packbits(values, bitorder="little").tobytes()


class BitReader:
    """Random access to coded data for table-driven decoding.

    ``windows[p]`` is the ``MAX_CODE_BITS`` bits starting at bit ``p`` as an integer, first
    bit most significant, so one list index replaces a bit-by-bit code search.  A
    window that runs past the end reads zeros there; a window that starts at or past the
    end is END_OF_DATA.  So a decoder that runs off the end fails on its next look-up,
    and one whose last code used padding zeros ends past ``length``.
    """

    __slots__ = ("bits", "length", "windows")

    def __init__(self, data: bytes) -> None:
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        self.length = int(bits.size)
        padded = np.concatenate([bits, np.zeros(2 * MAX_CODE_BITS, dtype=np.uint8)])
        count = self.length + MAX_CODE_BITS + 1
        windows = np.zeros(count, dtype=np.uint16)
        for offset in range(MAX_CODE_BITS):
            windows = (windows << 1) | padded[offset : offset + count]
        windows[self.length :] = END_OF_DATA
        self.windows: list[int] = windows.tolist()
        #: One byte (0 or 1) per bit, so ``find(b"\x01", pos)`` skips fill bits in C.
        self.bits = bits.tobytes()

    def next_one(self, pos: int) -> int:
        """Return the position of the first 1 bit at or after ``pos``, or -1 if none."""
        return self.bits.find(b"\x01", pos)
