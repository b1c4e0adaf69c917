"""T.30 control frames as they cross the Class 1 DTE interface.

Bytes here are exactly what a T.31 (Class 1) modem takes after ``AT+FTH=3`` and hands back
after ``AT+FRH=3``: address, control, FCF and FIF. The modem adds the FCS on transmit; on
receive it delivers the two FCS octets too, and the driver strips them before ``decode``.

Bit order: a Class 1 DCE sends each octet LSB first, so the FCF values below are the T.30
bit strings read LSB first (SpanDSP's ``t30_fcf.h`` column), and the "X" bit of T.30 5.3.6.1
is ``0x01``. DIS bit *n* of T.30 Table 2 is bit ``(n - 1) % 8`` (LSB = 1) of FIF octet
``(n - 1) // 8``.

Design rules:
- Frames are immutable values; ``decode(frame.encode()) == frame`` for every frame built
  from valid field values (a hypothesis test checks it).
- Capability bits are typed fields, never raw masks. Bits this module does not model
  are dropped on decode, not guessed at.
- ``decode`` raises ``RemoteProtocolError`` for bytes that are not a T.30 frame; it never
  raises anything else for any input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.t30.capabilities import (
    DCS_SCAN_CODES,
    BitRate,
    LengthCapability,
    PageCoding,
    PageLength,
    PageWidth,
    RateCapability,
    ScanTime,
    WidthCapability,
)
from drivers.t30.errors import RemoteProtocolError

__all__ = [
    "DCS_SCAN_CODES",
    "FCF",
    "BitRate",
    "CTCFrame",
    "DCSFrame",
    "DISFrame",
    "EORFrame",
    "FCDFrame",
    "Frame",
    "IdentityFrame",
    "LengthCapability",
    "PPRFrame",
    "PPSFrame",
    "PageCoding",
    "PageLength",
    "PageWidth",
    "RateCapability",
    "RawFrame",
    "ScanTime",
    "WidthCapability",
    "decode",
]

ADDRESS = 0xFF  # T.30 5.3.4: all-stations address
CONTROL = 0x03  # T.30 5.3.5: more frames follow in this transmission
CONTROL_FINAL = 0x13  # ... this is the last frame before the carrier drops
IDENTITY_LENGTH = 20  # T.30 5.3.6.2.4: CSI/TSI/CIG are 20 characters


class FCF(enum.IntEnum):
    """Facsimile control field, without the X bit, named as in T.30 5.3.6."""

    DIS = 0x80
    CSI = 0x40
    NSF = 0x20
    DTC = 0x81
    CIG = 0x41
    NSC = 0x21
    PWD = 0xC1
    SEP = 0xA1
    DCS = 0x82
    TSI = 0x42
    NSS = 0x22
    SUB = 0xC2
    SID = 0xA2
    CFR = 0x84
    FTT = 0x44
    CTR = 0xC4
    EOM = 0x8E
    MPS = 0x4E
    EOP = 0x2E
    PRI_EOM = 0x9E
    PRI_MPS = 0x5E
    PRI_EOP = 0x3E
    MCF = 0x8C
    RTN = 0x4C
    RTP = 0xCC
    PIN = 0x2C
    PIP = 0xAC
    DCN = 0xFA
    CRP = 0x1A
    CTC = 0x12
    PPS = 0xBE
    PPR = 0xBC
    RR = 0x6E
    RNR = 0xEC
    EOR = 0xCE
    ERR = 0x1C
    # T.4 Annex A: the frames inside an ECM block, sent at the high-speed rate.
    FCD = 0x06
    RCP = 0x86


#: PPS and EOR carry the post-message command in their first FIF octet; 0x00 is "NULL":
#: a partial page with more of the same page to follow (T.30 5.3.6.1.7 and Annex A).
POST_MESSAGE_FCFS = frozenset({FCF.MPS, FCF.EOP, FCF.EOM, FCF.PRI_MPS, FCF.PRI_EOP, FCF.PRI_EOM})
#: ECM blocks hold at most 256 frames (T.30 A.4.2: frame numbers are one octet).
MAX_BLOCK_FRAMES = 256


#: Frames of the DIS/DTC group: their first bit tells DIS from DTC (CSI from CIG, ...),
#: so it is part of the code, not the X bit (T.30 5.3.6.1).
FIXED_LOW_BIT = frozenset({FCF.DIS, FCF.CSI, FCF.NSF, FCF.DTC, FCF.CIG, FCF.NSC, FCF.PWD, FCF.SEP})
IDENTITY_FCFS = frozenset({FCF.CSI, FCF.TSI, FCF.CIG, FCF.PWD, FCF.SUB, FCF.SEP, FCF.SID})
NON_STANDARD_FCFS = frozenset({FCF.NSF, FCF.NSC, FCF.NSS})


# FIF octet 1 (bits 9-16), octet 2 (bits 17-24), octet 3 (bits 25-32).
_BIT_9_TRANSMIT = 0x01
_BIT_10_RECEIVE = 0x02
_RATE_SHIFT = 2
_BIT_15_FINE = 0x40
_BIT_16_MR = 0x80
_BIT_24_EXTEND = 0x80
_BIT_27_ECM = 0x04
_BIT_28_FRAME_64 = 0x08
_BIT_31_T6 = 0x40


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """A frame without parameters (CFR, MCF, MPS, EOP, DCN, ...)."""

    fcf: FCF
    final: bool = True  # control field 0x13: the last frame of this transmission
    x_bit: bool = False  # T.30 5.3.6.1: set by the station that received a valid DIS

    def __post_init__(self) -> None:
        if self.x_bit and self.fcf in FIXED_LOW_BIT:
            raise ValueError(f"{self.fcf.name} has no X bit: its first bit is part of the code")

    def fif(self) -> bytes:
        """Returns the facsimile information field; empty for plain frames."""
        return b""

    def encode(self) -> bytes:
        """Returns address, control, FCF and FIF: what follows ``AT+FTH=3``."""
        control = CONTROL_FINAL if self.final else CONTROL
        return bytes((ADDRESS, control, self.fcf | int(self.x_bit))) + self.fif()


@dataclass(frozen=True, slots=True, kw_only=True)
class RawFrame(Frame):
    """A frame whose FIF this module does not interpret (NSF, NSS, PPS, ...)."""

    info: bytes = b""

    def fif(self) -> bytes:
        return self.info


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityFrame(Frame):
    """CSI, TSI, CIG and friends: 20 characters sent last character first (T.30 5.3.6.2.4)."""

    identity: str = ""

    def __post_init__(self) -> None:
        Frame.__post_init__(self)
        if len(self.identity) > IDENTITY_LENGTH or not self.identity.isascii():
            raise ValueError(f"a station identity is at most {IDENTITY_LENGTH} ASCII characters")

    def fif(self) -> bytes:
        return self.identity.ljust(IDENTITY_LENGTH).encode("ascii")[::-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class DISFrame(Frame):
    """DIS (or DTC): what the answering station can do (T.30 Table 2)."""

    fcf: FCF = FCF.DIS
    can_transmit: bool = False  # bit 9: has documents to be polled
    can_receive: bool = True  # bit 10
    rates: RateCapability = RateCapability.V27TER_V29_V17
    fine: bool = True  # bit 15: 7.7 lines/mm
    mr: bool = False  # bit 16: two-dimensional coding
    widths: WidthCapability = WidthCapability.A4
    lengths: LengthCapability = LengthCapability.A4_B4
    scan_time: ScanTime = ScanTime.MS_20
    ecm: bool = False  # bit 27
    ecm_frame_64: bool = False  # bit 28: prefers 64-octet ECM frames (HylaFAX honours it)
    mmr: bool = False  # bit 31: T.6 coding
    # Extension octets (bits 33 on, read while each octet's extend bit is set):
    superfine: bool = False  # bit 41: R8 x 15.4 lines/mm (and 200 x 400 per inch)
    res_300: bool = False  # bit 42: 300 x 300 per inch
    res_400: bool = False  # bit 43: R16 x 15.4 lines/mm and 400 x 400 per inch
    inch_preferred: bool = False  # bit 44
    metric_preferred: bool = False  # bit 45
    letter: bool = False  # bit 76: North American Letter (215.9 x 279.4 mm)
    legal: bool = False  # bit 77: North American Legal (215.9 x 355.6 mm)

    def high_bits(self) -> set[int]:
        """The T.30 bit numbers from 25 up that this DIS sets."""
        flags = {
            27: self.ecm,
            28: self.ecm_frame_64,
            31: self.mmr,
            41: self.superfine,
            42: self.res_300,
            43: self.res_400,
            44: self.inch_preferred,
            45: self.metric_preferred,
            76: self.letter,
            77: self.legal,
        }
        return {bit for bit, on in flags.items() if on}

    def fif(self) -> bytes:
        octet1 = (
            (_BIT_9_TRANSMIT if self.can_transmit else 0)
            | (_BIT_10_RECEIVE if self.can_receive else 0)
            | (self.rates.value << _RATE_SHIFT)
            | (_BIT_15_FINE if self.fine else 0)
            | (_BIT_16_MR if self.mr else 0)
        )
        octet2 = self.widths.value | (self.lengths.value << 2) | (self.scan_time.value << 4)
        return _with_extensions(bytes((0, octet1, octet2)), self.high_bits())


@dataclass(frozen=True, slots=True, kw_only=True)
class DCSFrame(Frame):
    """DCS: the settings the calling station chose from the DIS (T.30 Table 2)."""

    fcf: FCF = FCF.DCS
    receive: bool = True  # bit 10: the answering station is to receive
    bit_rate: BitRate = BitRate.V27TER_2400
    fine: bool = False
    coding: PageCoding = PageCoding.MH
    width: PageWidth = PageWidth.A4
    length: PageLength = PageLength.A4
    min_scan_ms: int = 20
    ecm: bool = False
    ecm_frame_64: bool = False  # bit 28: 64-octet ECM frames instead of 256
    superfine: bool = False  # bit 41: R8 x 15.4 lines/mm (with bit 15 clear)
    inch: bool = False  # bit 44: the resolution is inch-based (faxd's pages are metric)
    letter: bool = False  # bit 76: North American Letter length
    legal: bool = False  # bit 77: North American Legal length

    def __post_init__(self) -> None:
        Frame.__post_init__(self)
        if self.min_scan_ms not in DCS_SCAN_CODES:
            raise ValueError(f"DCS cannot state a {self.min_scan_ms} ms scan line time")

    def fif(self) -> bytes:
        octet1 = (
            (_BIT_10_RECEIVE if self.receive else 0)
            | (self.bit_rate.value << _RATE_SHIFT)
            | (_BIT_15_FINE if self.fine else 0)
            | (_BIT_16_MR if self.coding is PageCoding.MR else 0)
        )
        octet2 = self.width.value | (self.length.value << 2) | (DCS_SCAN_CODES[self.min_scan_ms] << 4)
        flags = {
            27: self.ecm,
            28: self.ecm_frame_64,
            31: self.coding is PageCoding.MMR,
            41: self.superfine,
            44: self.inch,
            76: self.letter,
            77: self.legal,
        }
        return _with_extensions(bytes((0, octet1, octet2)), {bit for bit, on in flags.items() if on})


def decode(data: bytes) -> Frame:
    """Returns the frame in ``data`` (address, control, FCF, FIF; no FCS).

    Raises ``RemoteProtocolError`` if the bytes are not a T.30 frame.
    """
    if len(data) < 3:
        raise RemoteProtocolError(f"a T.30 frame has at least 3 octets, got {len(data)}")
    if data[0] != ADDRESS or data[1] not in (CONTROL, CONTROL_FINAL):
        raise RemoteProtocolError(f"not an HDLC frame of T.30: starts {data[:2].hex()}")
    final = data[1] == CONTROL_FINAL
    code, fif = data[2], bytes(data[3:])
    try:
        if code in FCF._value2member_map_ and FCF(code) in FIXED_LOW_BIT:
            fcf, x_bit = FCF(code), False
        else:
            fcf, x_bit = FCF(code & 0xFE), bool(code & 0x01)
    except ValueError:
        raise RemoteProtocolError(f"unknown T.30 FCF 0x{code:02x}") from None
    if fcf in (FCF.DIS, FCF.DTC):
        return _decode_dis(fcf, final, fif)
    if fcf is FCF.DCS:
        return _decode_dcs(final, x_bit, fif)
    if fcf in FIF_DECODERS and fif:
        return FIF_DECODERS[fcf](final, x_bit, fif)
    if fcf in IDENTITY_FCFS:
        # Printable ASCII only: anything else becomes "?" so a garbled CSI still logs safely.
        identity = "".join(chr(b) if 0x20 <= b < 0x7F else "?" for b in reversed(fif)).strip()
        return IdentityFrame(fcf=fcf, final=final, x_bit=x_bit, identity=identity[:IDENTITY_LENGTH])
    if fcf in NON_STANDARD_FCFS or fif:
        return RawFrame(fcf=fcf, final=final, x_bit=x_bit, info=fif)
    return Frame(fcf=fcf, final=final, x_bit=x_bit)


def _with_extensions(head: bytes, bits: set[int]) -> bytes:
    """Returns ``head`` (FIF octets 0-2, up to bit 24) followed by the octets that carry
    ``bits`` (T.30 bit numbers from 25 up), with the extend bit (24, 32, 40, ...) set in
    every octet that has another after it (T.30 Table 2). FIF octet i holds bits
    8i+1 .. 8i+8."""
    if not bits:
        return head
    last = (max(bits) - 1) // 8
    octets = bytearray(head) + bytes(last + 1 - len(head))
    for bit in bits:
        octets[(bit - 1) // 8] |= 1 << ((bit - 1) % 8)
    for index in range(2, last):
        octets[index] |= _BIT_24_EXTEND
    return bytes(octets)


def _high_bits(fif: bytes) -> set[int]:
    """Returns the T.30 bit numbers from 25 up set in ``fif``, following extend bits."""
    bits: set[int] = set()
    index = 2
    while index + 1 < len(fif) and fif[index] & _BIT_24_EXTEND:
        index += 1
        bits |= {8 * index + n + 1 for n in range(8) if fif[index] >> n & 1}
    return bits


def _octets(fif: bytes) -> tuple[int, int, int]:
    """Returns FIF octets 1-3 (bits 9-32); short or unextended fields read as zero."""
    padded = fif + bytes(4)
    octet3 = padded[3] if padded[2] & _BIT_24_EXTEND else 0
    return padded[1], padded[2], octet3


def _decode_dis(fcf: FCF, final: bool, fif: bytes) -> DISFrame:
    octet1, octet2, octet3 = _octets(fif)
    rate_bits = (octet1 >> _RATE_SHIFT) & 0x0F
    try:
        rates = RateCapability(rate_bits)
    except ValueError:
        # V.33 and reserved combinations: keep what bits 11 and 12 say (V.29 / V.27ter).
        rates = RateCapability(rate_bits & 0b0011)
    width_bits = octet2 & 0x03
    length_bits = (octet2 >> 2) & 0x03
    high = _high_bits(fif)
    return DISFrame(
        fcf=fcf,
        final=final,
        can_transmit=bool(octet1 & _BIT_9_TRANSMIT),
        can_receive=bool(octet1 & _BIT_10_RECEIVE),
        rates=rates,
        fine=bool(octet1 & _BIT_15_FINE),
        mr=bool(octet1 & _BIT_16_MR),
        widths=WidthCapability(width_bits) if width_bits != 0b11 else WidthCapability.A4,
        lengths=LengthCapability(length_bits) if length_bits != 0b11 else LengthCapability.A4,
        scan_time=ScanTime((octet2 >> 4) & 0x07),
        ecm=bool(octet3 & _BIT_27_ECM),
        ecm_frame_64=bool(octet3 & _BIT_28_FRAME_64),
        mmr=bool(octet3 & _BIT_31_T6),
        superfine=41 in high,
        res_300=42 in high,
        res_400=43 in high,
        inch_preferred=44 in high,
        metric_preferred=45 in high,
        letter=76 in high,
        legal=77 in high,
    )


def _decode_dcs(final: bool, x_bit: bool, fif: bytes) -> DCSFrame:
    octet1, octet2, octet3 = _octets(fif)
    high = _high_bits(fif)
    try:
        bit_rate = BitRate((octet1 >> _RATE_SHIFT) & 0x0F)
        width = PageWidth(octet2 & 0x03)
        length = PageLength((octet2 >> 2) & 0x03)
    except ValueError as exc:
        raise RemoteProtocolError(f"DCS selects a setting T.30 does not define: {exc}") from None
    scan_code = (octet2 >> 4) & 0x07
    scan_ms = {code: ms for ms, code in DCS_SCAN_CODES.items()}.get(scan_code)
    if scan_ms is None:
        raise RemoteProtocolError(f"DCS states an undefined scan line time code {scan_code:03b}")
    if octet3 & _BIT_31_T6:
        coding = PageCoding.MMR
    elif octet1 & _BIT_16_MR:
        coding = PageCoding.MR
    else:
        coding = PageCoding.MH
    return DCSFrame(
        final=final,
        x_bit=x_bit,
        receive=bool(octet1 & _BIT_10_RECEIVE),
        bit_rate=bit_rate,
        fine=bool(octet1 & _BIT_15_FINE),
        coding=coding,
        width=width,
        length=length,
        min_scan_ms=scan_ms,
        ecm=bool(octet3 & _BIT_27_ECM),
        ecm_frame_64=bool(octet3 & _BIT_28_FRAME_64),
        superfine=41 in high,
        inch=44 in high,
        letter=76 in high,
        legal=77 in high,
    )


# The ECM frames (T.30 Annex A) live in their own module, which builds on the above.
from drivers.t30.frames_ecm import (  # noqa: E402
    FIF_DECODERS,
    CTCFrame,
    EORFrame,
    FCDFrame,
    PPRFrame,
    PPSFrame,
)
