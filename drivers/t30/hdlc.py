"""HDLC framing of ECM blocks for a Class 1 modem (T.4 Annex A, T.30 5.3.1, ISO 3309).

A Class 1 DCE frames HDLC only at V.21 (``AT+FTH=3``). At the high-speed rates the DTE
sends an ECM block as plain data after ``AT+FTM``, so it does the framing itself: flags,
zero-bit insertion after five ones, and the 16-bit FCS. Bits go out least significant
first, as with all Class 1 data.

Pure functions on bytes; the bit work is done on ``str`` of '0'/'1' because
``str.replace`` does zero-bit insertion in one pass (non-overlapping, left to right,
which is exactly the rule: after five ones a zero, and the count starts again).
"""

from __future__ import annotations

from collections.abc import Iterable

FLAG = 0x7E
_FLAG_BITS = "01111110"  # symmetric: the same LSB first or MSB first
#: Each octet as its bits in line order (least significant first).
_LINE_BITS = tuple(format(octet, "08b")[::-1] for octet in range(256))


def fcs(data: bytes) -> bytes:
    """Returns the 16-bit FCS of ``data`` as it follows the frame (ITU-T V.42 8.1.1.6.1:
    CRC-CCITT, preset ones, ones' complement, low octet first)."""
    crc = 0xFFFF
    for octet in data:
        crc ^= octet
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    crc ^= 0xFFFF
    return bytes((crc & 0xFF, crc >> 8))


def _stuffed(frame: bytes) -> str:
    """Returns the frame and its FCS as line bits, a zero inserted after five ones."""
    bits = "".join(_LINE_BITS[octet] for octet in frame + fcs(frame))
    return bits.replace("11111", "111110")


def frame_block(frames: Iterable[bytes], *, opening_flags: int, closing_flags: int = 2) -> bytes:
    """Returns ``frames`` (address, control, FCF, FIF; no FCS) as one HDLC bit stream:
    ``opening_flags`` flags, each frame followed by one flag, then ``closing_flags``.

    The stream is padded with a partial flag to whole octets, least significant bit first.
    """
    parts = [_FLAG_BITS * opening_flags]
    for frame in frames:
        parts.append(_stuffed(frame))
        parts.append(_FLAG_BITS)
    parts.append(_FLAG_BITS * closing_flags)
    bits = "".join(parts)
    bits += _FLAG_BITS[: (-len(bits)) % 8]
    return bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))


def unframe(data: bytes) -> list[bytes]:
    """Returns the frames with a good FCS in an HDLC bit stream (FCS stripped).

    For tests and traces: the inverse of ``frame_block``.
    """
    bits = "".join(_LINE_BITS[octet] for octet in data)
    frames: list[bytes] = []
    for chunk in bits.split(_FLAG_BITS):
        if len(chunk) < 32 or "1111111" in chunk:
            continue
        raw = chunk.replace("111110", "11111")
        if len(raw) % 8:
            continue
        octets = bytes(int(raw[i : i + 8][::-1], 2) for i in range(0, len(raw), 8))
        if fcs(octets[:-2]) == octets[-2:]:
            frames.append(octets[:-2])
    return frames
