"""The frames of error correction (T.30 Annex A, T.4 Annex A): PPS, EOR, PPR, CTC, FCD.

Split from ``frames`` (which re-exports them) along the line between the frames every
call uses and those of ECM; the same design rules hold: immutable values,
``decode(frame.encode()) == frame``, ``RemoteProtocolError`` for bytes that are no frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drivers.t30.capabilities import BitRate
from drivers.t30.errors import RemoteProtocolError
from drivers.t30.frames import _RATE_SHIFT, FCF, MAX_BLOCK_FRAMES, POST_MESSAGE_FCFS, Frame, _octets


@dataclass(frozen=True, slots=True, kw_only=True)
class PPSFrame(Frame):
    """PPS: partial page signal after an ECM block (T.30 5.3.6.1.7, A.4.3).

    ``post_message`` is MPS/EOP/EOM at the end of a page, None (PPS-NULL) inside one.
    ``page`` and ``block`` are counters modulo 256, ``frame_count`` is 1..256.
    """

    fcf: FCF = FCF.PPS
    post_message: FCF | None = None
    page: int = 0
    block: int = 0
    frame_count: int = 1

    def __post_init__(self) -> None:
        Frame.__post_init__(self)
        if self.post_message is not None and self.post_message not in POST_MESSAGE_FCFS:
            raise ValueError(f"PPS cannot carry {self.post_message.name}")
        if not (0 <= self.page < 256 and 0 <= self.block < 256 and 1 <= self.frame_count <= MAX_BLOCK_FRAMES):
            raise ValueError("PPS counters are octets and a block holds 1 to 256 frames")

    def fif(self) -> bytes:
        command = 0 if self.post_message is None else self.post_message | int(self.x_bit)
        return bytes((command, self.page, self.block, self.frame_count - 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class EORFrame(Frame):
    """EOR: end of retransmission, the block is given up (T.30 5.3.6.1.7, A.4.4)."""

    fcf: FCF = FCF.EOR
    post_message: FCF | None = None

    def __post_init__(self) -> None:
        Frame.__post_init__(self)
        if self.post_message is not None and self.post_message not in POST_MESSAGE_FCFS:
            raise ValueError(f"EOR cannot carry {self.post_message.name}")

    def fif(self) -> bytes:
        return bytes((0 if self.post_message is None else self.post_message | int(self.x_bit),))


@dataclass(frozen=True, slots=True, kw_only=True)
class PPRFrame(Frame):
    """PPR: the frames of the last block the receiver did not get (T.30 5.3.6.2.11).

    The FIF is a 256-bit map, frame *n* in bit ``n % 8`` (LSB first) of octet ``n // 8``;
    a set bit asks for the frame again.
    """

    fcf: FCF = FCF.PPR
    missing: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        Frame.__post_init__(self)
        if any(not 0 <= number < MAX_BLOCK_FRAMES for number in self.missing):
            raise ValueError("PPR frame numbers are 0..255")

    def fif(self) -> bytes:
        bitmap = bytearray(MAX_BLOCK_FRAMES // 8)
        for number in self.missing:
            bitmap[number // 8] |= 1 << (number % 8)
        return bytes(bitmap)


@dataclass(frozen=True, slots=True, kw_only=True)
class CTCFrame(Frame):
    """CTC: continue to correct, at the rate it names (T.30 5.3.6.1.7, A.4.4).

    The FIF holds DCS octets 1-2; only the data signalling rate (bits 11-14) is used.
    """

    fcf: FCF = FCF.CTC
    bit_rate: BitRate = BitRate.V27TER_2400

    def fif(self) -> bytes:
        return bytes((0, self.bit_rate.value << _RATE_SHIFT))


@dataclass(frozen=True, slots=True, kw_only=True)
class FCDFrame(Frame):
    """FCD: one frame of coded page data inside an ECM block (T.4 A.3.6.1)."""

    fcf: FCF = FCF.FCD
    final: bool = False  # ECM data frames never carry the final bit
    number: int = 0
    data: bytes = b""

    def __post_init__(self) -> None:
        Frame.__post_init__(self)
        if not 0 <= self.number < MAX_BLOCK_FRAMES:
            raise ValueError("an FCD frame number is 0..255")

    def fif(self) -> bytes:
        return bytes((self.number,)) + self.data


def _post_message(octet: int) -> FCF | None:
    """Returns the post-message command in a PPS/EOR FIF octet (None for NULL)."""
    if octet == 0:
        return None
    try:
        fcf = FCF(octet & 0xFE)
    except ValueError:
        raise RemoteProtocolError(f"unknown post-message command 0x{octet:02x} in PPS/EOR") from None
    if fcf not in POST_MESSAGE_FCFS:
        raise RemoteProtocolError(f"PPS/EOR cannot carry {fcf.name}")
    return fcf


def _decode_pps(final: bool, x_bit: bool, fif: bytes) -> Frame:
    if len(fif) < 4:
        raise RemoteProtocolError(f"PPS has a 4-octet FIF, got {len(fif)}")
    return PPSFrame(
        final=final, x_bit=x_bit, post_message=_post_message(fif[0]), page=fif[1], block=fif[2], frame_count=fif[3] + 1
    )


def _decode_eor(final: bool, x_bit: bool, fif: bytes) -> Frame:
    return EORFrame(final=final, x_bit=x_bit, post_message=_post_message(fif[0]))


def _decode_ppr(final: bool, x_bit: bool, fif: bytes) -> Frame:
    if len(fif) < MAX_BLOCK_FRAMES // 8:
        raise RemoteProtocolError(f"PPR has a 32-octet FIF, got {len(fif)}")
    missing = frozenset(n for n in range(MAX_BLOCK_FRAMES) if fif[n // 8] >> (n % 8) & 1)
    return PPRFrame(final=final, x_bit=x_bit, missing=missing)


def _decode_ctc(final: bool, x_bit: bool, fif: bytes) -> Frame:
    try:
        bit_rate = BitRate((_octets(fif)[0] >> _RATE_SHIFT) & 0x0F)
    except ValueError as exc:
        raise RemoteProtocolError(f"CTC names a rate T.30 does not define: {exc}") from None
    return CTCFrame(final=final, x_bit=x_bit, bit_rate=bit_rate)


def _decode_fcd(final: bool, x_bit: bool, fif: bytes) -> Frame:
    return FCDFrame(final=final, x_bit=x_bit, number=fif[0], data=bytes(fif[1:]))


FIF_DECODERS: dict[FCF, Callable[[bool, bool, bytes], Frame]] = {
    FCF.PPS: _decode_pps,
    FCF.EOR: _decode_eor,
    FCF.PPR: _decode_ppr,
    FCF.CTC: _decode_ctc,
    FCF.FCD: _decode_fcd,
}
