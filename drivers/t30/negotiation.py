"""Phase B decisions of the calling station: which DCS to send, where to fall back to,
and whether the CSI names the station we meant.

Pure functions over frames and plain values; ``state.py`` calls them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from drivers.t30.frames import FCF, BitRate, DCSFrame, DISFrame, LengthCapability, PageCoding, PageLength

#: The order a sender steps down in after FTT, RTN or a fourth PPR (T.30 5.3.2.2 leaves the
#: steps to the sender): SpanDSP's own order without V.17 7200. V.17 9600 comes before
#: V.29 9600: on a noisy line it trains where V.29 9600 does not (trellis coding; measured
#: through SpanDSP's line at -56 dBm0: V.17 9600 19 calls in 20, V.29 only 7200), and efax
#: and SpanDSP step down the same way. HylaFAX leaves V.17 9600/7200 out so that a
#: receiver that gives up after three failed TCFs sees V.29; here V.29 comes by the fourth
#: training, and V.27ter within two of V.29 (9600, 7200, 4800). Only rates both the DIS
#: and our modem offer are used.
FALLBACK_ORDER: tuple[BitRate, ...] = (
    BitRate.V17_14400,
    BitRate.V17_12000,
    BitRate.V17_9600,
    BitRate.V29_9600,
    BitRate.V29_7200,
    BitRate.V27TER_4800,
    BitRate.V27TER_2400,
)

#: Page lengths in mm (T.30 Table 2 bits 19-20, 76-77).
A4_LENGTH_MM = 297.0
B4_LENGTH_MM = 364.0
LEGAL_LENGTH_MM = 355.6

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
    """Returns the next lower rate than ``current`` in ``usable`` (fallback order), or None."""
    if current in usable:
        later = usable[usable.index(current) + 1 :]
    else:
        later = tuple(rate for rate in usable if rate.bps < current.bps)
    return later[0] if later else None


def first_rate(usable: tuple[BitRate, ...], start_bps: int | None) -> BitRate | None:
    """Returns the rate to train at first: the fastest usable, or the fastest at or below
    ``start_bps`` (what this remote took last time), else the slowest usable."""
    if not usable:
        return None
    if start_bps is None:
        return usable[0]
    return next((rate for rate in usable if rate.bps <= start_bps), usable[-1])


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
    start_bps: int | None = None,
    superfine: bool = False,
    page_length_mm: float = A4_LENGTH_MM,
) -> DCSFrame | None:
    """Returns the DCS for the best rate both sides support, or None if there is none.

    ``rates`` are the rates our modem can use; ``fine`` says whether our pages want
    7.7 lines/mm; ``ecm`` whether we may use error correction (used only if the DIS
    offers it, bit 27); ``max_coding`` caps the coding; ``min_bps`` is our lowest rate;
    ``start_bps`` caps the first rate. ECM frames are 64 octets if we or the remote (DIS
    bit 28) prefer them. ``superfine`` says our pages have 15.4 lines/mm, used if the DIS
    offers it (bit 41), else fine; ``page_length_mm`` is the longest page, for the length
    (``choose_length``). Width is always A4: faxd's pages are 1728 pels. The resolution is
    stated metric (DCS bit 44 clear) whatever the remote prefers (bits 44/45): T.30 wants
    DCS to state the document's true resolution, and communication goes ahead across.
    """
    usable = usable_rates(dis, rates, min_bps=min_bps)
    rate = first_rate(usable, start_bps)
    if rate is None:
        return None
    if ecm_frame_size not in ECM_FRAME_SIZES:
        raise ValueError(f"an ECM frame is 256 or 64 octets, not {ecm_frame_size}")
    use_superfine = superfine and dis.superfine
    use_fine = (fine or superfine) and dis.fine and not use_superfine
    use_ecm = ecm and dis.ecm
    length, letter, legal = choose_length(dis, page_length_mm)
    return DCSFrame(
        fcf=FCF.DCS,
        final=True,
        x_bit=True,  # we received a valid DIS (T.30 5.3.6.1)
        bit_rate=rate,
        fine=use_fine,
        superfine=use_superfine,
        coding=choose_coding(dis, ecm=use_ecm, max_coding=max_coding),
        length=length,
        letter=letter,
        legal=legal,
        # At 15.4 lines/mm the fine value is safe (a longer minimum is always allowed).
        min_scan_ms=dis.scan_time.milliseconds(fine=use_fine or use_superfine),
        ecm=use_ecm,
        ecm_frame_64=use_ecm and (ecm_frame_size == 64 or dis.ecm_frame_64),
    )


def choose_length(dis: DISFrame, page_length_mm: float) -> tuple[PageLength, bool, bool]:
    """Returns the DCS length field and the letter/legal bits for pages up to
    ``page_length_mm`` long.

    An unlimited length (bits 19-20) when the remote takes it: long pages pass whole.
    Otherwise A4 for pages that fit A4 (every receiver takes it); a longer page gets
    Legal (bit 77) or B4 (bits 19-20) if the remote offers one that fits, else A4 and
    the receiver cuts it (T.30 gives no other choice).
    """
    if dis.lengths is LengthCapability.UNLIMITED:
        return PageLength.UNLIMITED, False, False
    if page_length_mm <= A4_LENGTH_MM + 0.5:
        return PageLength.A4, False, False
    if dis.legal and page_length_mm <= LEGAL_LENGTH_MM + 0.5:
        return PageLength.A4, False, True
    if dis.lengths is LengthCapability.A4_B4 and page_length_mm <= B4_LENGTH_MM + 0.5:
        return PageLength.B4, False, False
    return PageLength.A4, False, False


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
