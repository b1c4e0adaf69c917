"""The simulated remote's own reading of T.30 frames.

This deliberately does NOT use ``drivers.t30.frames``: the simulator is an independent
check of the driver, so a wrong bit position in the driver's codec must show up as a
failed call here instead of being mirrored. Bits are addressed by their T.30 Table 2
number (bit *n* is bit ``(n - 1) % 8`` of FIF octet ``(n - 1) // 8``, LSB = bit 1), and
FCF values are bytes as a Class 1 DTE sees them (LSB first, X bit = 0x01).
"""

from __future__ import annotations

from dataclasses import dataclass

ADDRESS = 0xFF
CONTROL = 0x03
CONTROL_FINAL = 0x13

# T.30 5.3.6, LSB-first octets without the X bit (SpanDSP t30_fcf.h).
DIS = 0x80
CSI = 0x40
NSF = 0x20
DCS = 0x82
TSI = 0x42
CFR = 0x84
FTT = 0x44
EOM = 0x8E
MPS = 0x4E
EOP = 0x2E
MCF = 0x8C
RTN = 0x4C
DCN = 0xFA
CRP = 0x1A
RTP = 0xCC
PIP = 0xAC
PIN = 0x2C
# T.30 Annex A (ECM): partial pages, their responses and flow control.
CTC = 0x12
CTR = 0xC4
PPS = 0xBE
PPR = 0xBC
RR = 0x6E
RNR = 0xEC
EOR = 0xCE
ERR = 0x1C
# T.4 Annex A frames sent on the high-speed carrier (T.30 A.3.1): no X bit.
FCD = 0x06
RCP = 0x86
#: The first FIF octet of PPS/EOR when the partial page is not the end of a page.
NULL = 0x00

NAMES = {
    DIS: "DIS",
    CSI: "CSI",
    NSF: "NSF",
    DCS: "DCS",
    TSI: "TSI",
    CFR: "CFR",
    FTT: "FTT",
    EOM: "EOM",
    MPS: "MPS",
    EOP: "EOP",
    MCF: "MCF",
    RTN: "RTN",
    DCN: "DCN",
    CRP: "CRP",
    RTP: "RTP",
    PIP: "PIP",
    PIN: "PIN",
    CTC: "CTC",
    CTR: "CTR",
    PPS: "PPS",
    PPR: "PPR",
    RR: "RR",
    RNR: "RNR",
    EOR: "EOR",
    ERR: "ERR",
}

#: Names a profile may give a frame of the remote's (``bad_fcs``), and back.
CODES = {name: code for code, name in NAMES.items()}

#: DCS bits (11, 12, 13, 14) -> (bit/s, modulation), T.30 Table 2.
DCS_RATES: dict[tuple[int, int, int, int], tuple[int, str]] = {
    (0, 0, 0, 0): (2400, "V.27ter"),
    (0, 1, 0, 0): (4800, "V.27ter"),
    (1, 1, 0, 0): (7200, "V.29"),
    (1, 0, 0, 0): (9600, "V.29"),
    (1, 1, 0, 1): (7200, "V.17"),
    (1, 0, 0, 1): (9600, "V.17"),
    (0, 1, 0, 1): (12000, "V.17"),
    (0, 0, 0, 1): (14400, "V.17"),
}

#: DIS bits (11, 12, 13, 14) for the modulations a remote offers.
DIS_RATES: dict[frozenset[str], tuple[int, int, int, int]] = {
    frozenset({"V.27ter"}): (0, 1, 0, 0),
    frozenset({"V.29"}): (1, 0, 0, 0),
    frozenset({"V.27ter", "V.29"}): (1, 1, 0, 0),
    frozenset({"V.27ter", "V.29", "V.17"}): (1, 1, 0, 1),
}

#: Minimum scan line time in ms -> bits (21, 22, 23), for DIS and DCS alike.
SCAN_BITS: dict[int, tuple[int, int, int]] = {
    20: (0, 0, 0),
    40: (0, 0, 1),
    10: (0, 1, 0),
    5: (1, 0, 0),
    0: (1, 1, 1),
}

#: T.31 +FTM codes -> (bit/s, modulation).
MODULATION_CODES: dict[int, tuple[int, str]] = {
    24: (2400, "V.27ter"),
    48: (4800, "V.27ter"),
    72: (7200, "V.29"),
    96: (9600, "V.29"),
    73: (7200, "V.17"),
    74: (7200, "V.17"),
    97: (9600, "V.17"),
    98: (9600, "V.17"),
    121: (12000, "V.17"),
    122: (12000, "V.17"),
    145: (14400, "V.17"),
    146: (14400, "V.17"),
}


def bit(fif: bytes, number: int) -> int:
    """Returns DIS/DCS bit ``number`` (1-based, T.30 Table 2); bits past the end read 0."""
    index = (number - 1) // 8
    return (fif[index] >> ((number - 1) % 8)) & 1 if index < len(fif) else 0


def with_bits(numbers: list[int], length: int) -> bytes:
    """Returns a FIF of ``length`` octets with exactly the given bits set."""
    fif = bytearray(length)
    for number in numbers:
        fif[(number - 1) // 8] |= 1 << ((number - 1) % 8)
    return bytes(fif)


def frame(fcf: int, fif: bytes = b"", *, final: bool = True) -> bytes:
    return bytes((ADDRESS, CONTROL_FINAL if final else CONTROL, fcf)) + fif


def identity_fif(text: str) -> bytes:
    """20 characters, last character first, space padded (T.30 5.3.6.2.4)."""
    return text[:20].ljust(20).encode("ascii", errors="replace")[::-1]


def read_identity(fif: bytes) -> str:
    return bytes(reversed(fif)).decode("ascii", errors="replace").strip()


@dataclass(frozen=True, slots=True)
class DcsSettings:
    bit_rate: int
    modulation: str
    fine: bool
    coding: str  # "MH", "MR" or "MMR"
    ecm: bool
    min_scan_ms: int | None
    ecm_frame_size: int = 256  # octets of page data per FCD frame (bit 28: 1 = 64)


def read_dcs(fif: bytes) -> DcsSettings | None:
    """Returns the settings in a DCS FIF, or None if it selects an undefined rate."""
    rate = DCS_RATES.get((bit(fif, 11), bit(fif, 12), bit(fif, 13), bit(fif, 14)))
    if rate is None:
        return None
    extended = bit(fif, 24) == 1
    if extended and bit(fif, 31):
        coding = "MMR"
    elif bit(fif, 16):
        coding = "MR"
    else:
        coding = "MH"
    scan = (bit(fif, 21), bit(fif, 22), bit(fif, 23))
    min_scan = next((ms for ms, bits in SCAN_BITS.items() if bits == scan), None)
    return DcsSettings(
        bit_rate=rate[0],
        modulation=rate[1],
        fine=bit(fif, 15) == 1,
        coding=coding,
        ecm=extended and bit(fif, 27) == 1,
        min_scan_ms=min_scan,
        ecm_frame_size=64 if extended and bit(fif, 28) else 256,
    )


@dataclass(frozen=True, slots=True)
class PartialPageSignal:
    """The FIF of PPS or EOR (T.30 5.3.6.2.x, A.4): what follows, and which block."""

    post_page: int  # NULL, MPS, EOP or EOM (X bit cleared)
    page: int  # page counter, modulo 256
    block: int  # block (partial page) counter, modulo 256
    frames: int  # frames in the partial page, 1..256 (the octet holds frames - 1)


def read_pps(fif: bytes) -> PartialPageSignal | None:
    """Returns what a PPS/EOR FIF says, or None if it is too short."""
    if len(fif) < 4:
        return None
    return PartialPageSignal(post_page=fif[0] & 0xFE, page=fif[1], block=fif[2], frames=fif[3] + 1)


def ppr_fif(missing: set[int] | frozenset[int]) -> bytes:
    """Returns the 256-bit PPR map: bit n set = frame n must be sent again (T.30 A.4.3.1)."""
    fif = bytearray(32)
    for number in missing:
        fif[number // 8] |= 1 << (number % 8)
    return bytes(fif)


def fcs(data: bytes) -> bytes:
    """Returns the HDLC frame check sequence (CRC-16/X.25, ISO 3309), low octet first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    crc ^= 0xFFFF
    return bytes((crc & 0xFF, crc >> 8))
