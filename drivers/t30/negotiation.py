"""Phase B decisions of the calling station: which DCS to send, where to fall back to,
and whether the CSI names the station we meant.

Pure functions over frames and plain values; ``state.py`` calls them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from drivers.t30.frames import FCF, BitRate, DCSFrame, DISFrame, LengthCapability, PageCoding, PageLength

#: The order a sender falls back in after FTT (T.30 5.3.2.2 leaves the steps to the
#: sender): V.17 from 14400 down to 7200, then V.29 9600 and 7200, then V.27ter 4800 and
#: 2400. Only rates both the remote's DIS and our modem offer are used.
FALLBACK_ORDER: tuple[BitRate, ...] = (
    BitRate.V17_14400,
    BitRate.V17_12000,
    BitRate.V17_9600,
    BitRate.V17_7200,
    BitRate.V29_9600,
    BitRate.V29_7200,
    BitRate.V27TER_4800,
    BitRate.V27TER_2400,
)

#: ECM frame sizes a DCS can choose (T.30 Table 2 bit 28: 256 octets, or 64).
ECM_FRAME_SIZES = (256, 64)


class StationCheck(enum.StrEnum):
    """What to do when the remote's CSI is not the station the directory expects.

    The one copy: the engine decides by it, ``drivers.modem`` re-exports it for drivers and
    the daemon's configuration (``station.check``). The compare takes digits and '+' only,
    the country code written either way ("+46 40 628 04 10" is "040-628 04 10").
    """

    STRICT = "strict"  # mismatch, or no CSI: DCN before page 1, STATION_MISMATCH
    WARN = "warn"  # send anyway; CallResult.warnings and the reason record the mismatch
    OFF = "off"  # no compare


def usable_rates(dis: DISFrame, ours: Iterable[BitRate], *, min_bps: int) -> tuple[BitRate, ...]:
    """Returns the rates both sides support at or above ``min_bps``, in fallback order."""
    theirs, mine = frozenset(dis.rates.bit_rates), frozenset(ours)
    return tuple(rate for rate in FALLBACK_ORDER if rate in theirs and rate in mine and rate.bps >= min_bps)


def next_rate(current: BitRate, usable: tuple[BitRate, ...]) -> BitRate | None:
    """Returns the rate after ``current`` in ``usable`` (fallback order), or None."""
    later = usable[usable.index(current) + 1 :] if current in usable else ()
    return later[0] if later else None


def choose_coding(dis: DISFrame, *, ecm: bool, max_coding: PageCoding) -> PageCoding:
    """Returns the best coding both sides allow.

    T.6 (MMR) only with ECM (T.30 Table 2 note: bit 31 needs bit 27); MR if the remote
    offers two-dimensional coding (bit 16); MH always works.
    """
    order = (PageCoding.MH, PageCoding.MR, PageCoding.MMR)
    allowed = order[: order.index(max_coding) + 1]
    if ecm and dis.mmr and PageCoding.MMR in allowed:
        return PageCoding.MMR
    if dis.mr and PageCoding.MR in allowed:
        return PageCoding.MR
    return PageCoding.MH


def choose_settings(
    dis: DISFrame,
    *,
    rates: Iterable[BitRate],
    fine: bool,
    ecm: bool = False,
    max_coding: PageCoding = PageCoding.MH,
    ecm_frame_size: int = 256,
    min_bps: int = 0,
) -> DCSFrame | None:
    """Returns the DCS for the best rate both sides support, or None if there is none.

    ``rates`` are the rates our modem can use; ``fine`` says whether our pages want
    7.7 lines/mm; ``ecm`` whether we may use error correction (used only if the DIS
    offers it, bit 27); ``max_coding`` caps the coding; ``min_bps`` is our lowest rate.
    """
    usable = usable_rates(dis, rates, min_bps=min_bps)
    if not usable:
        return None
    if ecm_frame_size not in ECM_FRAME_SIZES:
        raise ValueError(f"an ECM frame is 256 or 64 octets, not {ecm_frame_size}")
    use_fine = fine and dis.fine
    use_ecm = ecm and dis.ecm
    return DCSFrame(
        fcf=FCF.DCS,
        final=True,
        x_bit=True,  # we received a valid DIS (T.30 5.3.6.1)
        bit_rate=usable[0],
        fine=use_fine,
        coding=choose_coding(dis, ecm=use_ecm, max_coding=max_coding),
        # An unlimited length lets a long page through a receiver that can take it.
        length=PageLength.UNLIMITED if dis.lengths is LengthCapability.UNLIMITED else PageLength.A4,
        min_scan_ms=dis.scan_time.milliseconds(fine=use_fine),
        ecm=use_ecm,
        ecm_frame_64=use_ecm and ecm_frame_size == 64,
    )


def station_digits(identity: str, *, country_code: str = "46") -> str:
    """Returns the national number in a CSI/TSI: digits only, own country code as "0".

    Machines write the same number as "+46 40 628 04 99", "0046 40 6280499",
    "040-628 04 99" or "040 6280499"; only the digits mean anything. A foreign number
    keeps its international form ("+45 ..." becomes "0045...").
    """
    text = identity.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        digits = "00" + digits
    if digits.startswith("00" + country_code):
        return "0" + digits[2 + len(country_code) :]
    return digits


def same_station(expected: str, received: str | None) -> bool:
    """Returns whether the received CSI names the station the directory expects.

    A missing CSI never matches: with patient data we only send to a machine that
    identifies itself as the one we meant.
    """
    if received is None or not received.strip():
        return False
    want, got = station_digits(expected), station_digits(received)
    if want and got:
        return want == got
    return " ".join(expected.split()).casefold() == " ".join(received.split()).casefold()
