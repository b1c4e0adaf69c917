"""HDLC framing in software, for ECM page data sent with ``AT+FTM``.

A Class 1 DCE only frames HDLC itself on V.21 (``+FTH=3``). For ECM the DTE builds the
frames of T.30 Annex A (FCD, RCP) and sends them as plain synchronous data on the
high-speed carrier: flags, zero-bit insertion, FCS, all done by the host (HylaFAX's
Class 1 ECM does exactly this). The remote has to undo it, so the simulator carries its
own small codec, independent of the driver's, like ``wire.py``.

Bit order (ISO 3309, T.4 Annex A): each octet goes on the line least significant bit
first, so the bit stream of ``data`` is octet 0's bit 0 first. A flag is ``01111110``;
inside a frame a 0 is inserted after every five 1s, so six 1s never occur but in a flag.
Work is done on strings of "0"/"1": a page is a few hundred thousand bits, and ``str``
operations keep that in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.simulator import wire

FLAG_BITS = "01111110"
_BITS = [format(value, "08b")[::-1] for value in range(256)]  # octet -> its bits, line order
_STUFFED = re.compile("111110")


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame found between flags, FCS removed."""

    data: bytes
    fcs_ok: bool


def bits_of(data: bytes) -> str:
    """Returns the bits of ``data`` in line order (LSB of each octet first)."""
    return "".join(_BITS[value] for value in data)


def bytes_of(bits: str) -> bytes:
    """Returns the octets of a line-order bit string; a short last octet is zero-padded."""
    bits += "0" * (-len(bits) % 8)
    if not bits:
        return b""
    return int(bits[::-1], 2).to_bytes(len(bits) // 8, "little")


def encode(frames: list[bytes], *, preamble_flags: int = 4) -> bytes:
    """Returns ``frames`` (each without FCS) as a synchronous bit stream: flags, each frame
    with its FCS and zero-bit insertion, a flag after each, padded with flags to an octet.
    """
    parts = [FLAG_BITS * preamble_flags]
    for frame in frames:
        # str.replace scans left to right without overlap: after five 1s it inserts a 0
        # and counts afresh, which is zero-bit insertion exactly (ISO 3309 4.3).
        parts.append(bits_of(frame + wire.fcs(frame)).replace("11111", "111110"))
        parts.append(FLAG_BITS)
    bits = "".join(parts)
    bits += (FLAG_BITS * 2)[: -len(bits) % 8]
    return bytes_of(bits)


def decode(data: bytes) -> list[Frame]:
    """Returns the frames in a synchronous bit stream, each with whether its FCS is good.

    Anything before the first flag and after the last is ignored; a stretch with seven or
    more 1s (an abort) or that is not a whole number of octets is reported with
    ``fcs_ok=False`` if it is long enough to have been a frame, else skipped.
    """
    frames: list[Frame] = []
    segments = bits_of(data).split(FLAG_BITS)
    for segment in segments[1:-1]:  # the first and last pieces are not between flags
        if len(segment) < 8 * 4:
            continue  # idle flags, or too short for address + control + FCS
        body = _STUFFED.sub("11111", segment)
        if "111111" in segment or len(body) % 8:
            frames.append(Frame(bytes_of(body)[:-2], fcs_ok=False))
            continue
        octets = bytes_of(body)
        frames.append(Frame(octets[:-2], fcs_ok=wire.fcs(octets[:-2]) == octets[-2:]))
    return frames
