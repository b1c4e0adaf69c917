"""Phase B decisions of the calling station: which DCS to send, and whether the CSI fits.

Pure functions, so the later fallback issue (FTT: try the next lower rate, T.30 5.3.2.2)
can call ``choose_settings`` again with a smaller ``rates`` set.
"""

from __future__ import annotations

from collections.abc import Iterable

from drivers.t30.frames import FCF, BitRate, DCSFrame, DISFrame, LengthCapability, PageCoding, PageLength


def choose_settings(dis: DISFrame, *, rates: Iterable[BitRate], fine: bool) -> DCSFrame | None:
    """Returns the DCS for the best rate both sides support, or None if there is none.

    ``rates`` are the rates our modem can use; ``fine`` says whether our pages want
    7.7 lines/mm. Coding is MH for now: MR/MMR and ECM come with a later issue.
    """
    ours = frozenset(rates)
    common = [rate for rate in dis.rates.bit_rates if rate in ours]
    if not common:
        return None
    use_fine = fine and dis.fine
    return DCSFrame(
        fcf=FCF.DCS,
        final=True,
        x_bit=True,  # we received a valid DIS (T.30 5.3.6.1)
        bit_rate=common[0],
        fine=use_fine,
        coding=PageCoding.MH,
        # An unlimited length lets a long page through a receiver that can take it.
        length=PageLength.UNLIMITED if dis.lengths is LengthCapability.UNLIMITED else PageLength.A4,
        min_scan_ms=dis.scan_time.milliseconds(fine=use_fine),
    )


def station_digits(identity: str) -> str:
    """Returns the national number in a CSI/TSI: digits only, "+46"/"0046" becomes "0".

    Machines write the same number as "+46 40 628 04 99", "040-628 04 99" or
    "040 6280499"; only the digits mean anything.
    """
    text = identity.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        return "0" + digits[2:] if digits.startswith("46") else "00" + digits
    if digits.startswith("0046"):
        return "0" + digits[4:]
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
