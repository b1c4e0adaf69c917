"""Typed values of the DIS/DTC/DCS capability fields (T.30 Table 2).

Each enum's value is the bit field as it sits in the FIF, with the lowest-numbered T.30 bit
as its least significant bit, so ``frames.py`` can shift it into place unchanged.
"""

from __future__ import annotations

import enum


class PageCoding(enum.Enum):
    """Compression of page data (T.4 one- and two-dimensional, T.6)."""

    MH = "MH"
    MR = "MR"
    MMR = "MMR"


class BitRate(enum.Enum):
    """A data signalling rate as DCS states it (T.30 Table 2, bits 11-14).

    The value is the 4-bit field with bit 11 as its least significant bit.
    """

    V27TER_2400 = 0b0000
    V27TER_4800 = 0b0010
    V29_7200 = 0b0011
    V29_9600 = 0b0001
    V17_7200 = 0b1011
    V17_9600 = 0b1001
    V17_12000 = 0b1010
    V17_14400 = 0b1000

    @property
    def bps(self) -> int:
        return int(self.name.rsplit("_", 1)[1])

    @property
    def modulation(self) -> str:
        return {"V27TER": "V.27ter", "V29": "V.29", "V17": "V.17"}[self.name.split("_", 1)[0]]


class RateCapability(enum.Enum):
    """The modulations a DIS offers (T.30 Table 2, bits 11-14), same field layout."""

    V27TER_FALLBACK = 0b0000  # 2400 bit/s only
    V27TER = 0b0010
    V29 = 0b0001
    V27TER_V29 = 0b0011
    V27TER_V29_V17 = 0b1011

    @property
    def bit_rates(self) -> tuple[BitRate, ...]:
        """Every rate this capability allows, fastest first."""
        families = {
            RateCapability.V27TER_FALLBACK: (),
            RateCapability.V27TER: ("V.27ter",),
            RateCapability.V29: ("V.29",),
            RateCapability.V27TER_V29: ("V.27ter", "V.29"),
            RateCapability.V27TER_V29_V17: ("V.27ter", "V.29", "V.17"),
        }[self]
        rates = [rate for rate in BitRate if rate.modulation in families]
        if not rates:
            rates = [BitRate.V27TER_2400]
        return tuple(sorted(rates, key=lambda rate: (rate.bps, rate.modulation == "V.17"), reverse=True))


class WidthCapability(enum.Enum):
    """Recording widths a DIS offers (bits 17-18, bit 17 least significant)."""

    A4 = 0b00  # 215 mm
    A4_B4 = 0b01  # 215 and 255 mm
    A4_B4_A3 = 0b10  # 215, 255 and 303 mm


class PageWidth(enum.Enum):
    """The recording width a DCS selects (bits 17-18)."""

    A4 = 0b00
    B4 = 0b01
    A3 = 0b10


class LengthCapability(enum.Enum):
    """Recording lengths a DIS offers (bits 19-20, bit 19 least significant)."""

    A4 = 0b00
    A4_B4 = 0b01
    UNLIMITED = 0b10


class PageLength(enum.Enum):
    """The recording length a DCS selects (bits 19-20)."""

    A4 = 0b00
    B4 = 0b01
    UNLIMITED = 0b10


class ScanTime(enum.Enum):
    """Minimum scan line time a DIS asks for (bits 21-23, bit 21 least significant).

    Some codes ask for half the time at fine resolution (T.30 Table 2 note).
    """

    MS_20 = 0b000
    MS_5 = 0b001
    MS_10 = 0b010
    MS_20_FINE_10 = 0b011
    MS_40 = 0b100
    MS_40_FINE_20 = 0b101
    MS_10_FINE_5 = 0b110
    MS_0 = 0b111

    def milliseconds(self, *, fine: bool) -> int:
        """Returns the minimum time for one scan line at the given resolution."""
        normal, at_fine = {
            ScanTime.MS_20: (20, 20),
            ScanTime.MS_5: (5, 5),
            ScanTime.MS_10: (10, 10),
            ScanTime.MS_20_FINE_10: (20, 10),
            ScanTime.MS_40: (40, 40),
            ScanTime.MS_40_FINE_20: (40, 20),
            ScanTime.MS_10_FINE_5: (10, 5),
            ScanTime.MS_0: (0, 0),
        }[self]
        return at_fine if fine else normal


#: DCS states the one scan line time it uses (bits 21-23).
DCS_SCAN_CODES: dict[int, int] = {20: 0b000, 5: 0b001, 10: 0b010, 40: 0b100, 0: 0b111}
