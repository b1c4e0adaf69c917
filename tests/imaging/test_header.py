"""The header line on every page: only in the top strip, cleared behind, never truncating the page number."""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import pypdf
import pytest

from drivers.page import FAX_WIDTH, FaxPage, Resolution
from imaging import HeaderInfo, header_pdf, header_rows, header_text, stamp_header

HEADER = HeaderInfo(
    sent_at=datetime(2026, 11, 26, 10, 42),
    sender="SUS Lund avd 12",
    recipient="Hemsjukvården Östra Göinge",
    job_reference="FX-20261126-0042",
    pages_total=5,
)


def page(rows: int, resolution: Resolution, *, black: bool = False) -> FaxPage:
    return FaxPage(np.full((rows, FAX_WIDTH), black, dtype=np.bool_), resolution)


def text_of(data: bytes) -> str:
    (only,) = pypdf.PdfReader(io.BytesIO(data)).pages
    return " ".join(only.extract_text().split())


@pytest.mark.parametrize(("resolution", "rows"), [(Resolution.FINE, 2292), (Resolution.NORMAL, 1146)])
def test_header_blackens_only_the_top_strip(resolution: Resolution, rows: int) -> None:
    """On a white page the header's black pixels are all inside the top strip."""
    stamped = stamp_header(page(rows, resolution), HEADER, 2).pixels
    strip = header_rows(resolution)
    assert stamped.shape == (rows, FAX_WIDTH)
    assert stamped[:strip].mean() > 0.02
    assert not stamped[strip:].any()
    assert strip * 25.4 / resolution.value == pytest.approx(5.2, abs=0.1)


def test_header_clears_the_strip_behind_the_text() -> None:
    """On a black page the strip becomes white with black text; the rest is untouched."""
    original = page(2292, Resolution.FINE, black=True)
    stamped = stamp_header(original, HEADER, 1).pixels
    assert stamped[:40].mean() < 0.2
    assert stamped[40:].all()
    assert original.pixels.all()  # the page passed in is not changed


def test_header_says_who_when_and_which_page() -> None:
    """The line carries date and time, sender, recipient, page n of N and the job reference."""
    assert header_text(HEADER, 3) == (
        "2026-11-26 10:42  Från: SUS Lund avd 12  Till: Hemsjukvården Östra Göinge  Sida 3/5  Ref: FX-20261126-0042"
    )
    drawn = text_of(header_pdf(HEADER, 3, Resolution.FINE))
    assert "Från: SUS Lund avd 12" in drawn and "Sida 3/5" in drawn and "Ref: FX-20261126-0042" in drawn


def test_long_names_are_shortened_not_the_page_number() -> None:
    """Unit names give way with an ellipsis; date, page number and reference are drawn whole."""
    long = HeaderInfo(
        sent_at=HEADER.sent_at,
        sender="Avdelning 12, Medicinkliniken, Skånes universitetssjukhus Lund, plan 3 korridor B",
        recipient="Hemsjukvården i Östra Göinge kommun, Broby, områdesteam norr och söder",
        job_reference="FX-20261126-0042",
        pages_total=13,
    )
    drawn = text_of(header_pdf(long, 12, Resolution.FINE))
    assert drawn.count("…") == 2
    assert drawn.startswith("2026-11-26 10:42 Från: Avdelning 12")
    assert drawn.endswith("Sida 12/13 Ref: FX-20261126-0042")
    stamped = stamp_header(page(2292, Resolution.FINE), long, 12).pixels
    assert not stamped[:, :30].any() and not stamped[:, -30:].any()  # kept inside the margins


def test_page_number_must_be_within_the_total() -> None:
    """Page 0 or page 6 of 5 is a caller's mistake."""
    for number in (0, 6):
        with pytest.raises(ValueError, match="not within 1..5"):
            stamp_header(page(100, Resolution.FINE), HEADER, number)


def test_header_on_a_page_shorter_than_the_strip() -> None:
    """A very short page gets as much of the strip as fits."""
    stamped = stamp_header(page(10, Resolution.FINE, black=True), HEADER, 1)
    assert stamped.height == 10


def test_swedish_letters_are_drawn_as_letters() -> None:
    """å, ä, ö come out as a, a, o with marks over them, not as boxes (no system font needed)."""

    def ink(sender: str) -> int:
        info = HeaderInfo(HEADER.sent_at, sender, "x", "R", 1)
        return int(stamp_header(page(100, Resolution.FINE), info, 1).pixels.sum())

    plain, marked = ink("aao AAO"), ink("åäö ÅÄÖ")
    assert plain < marked < plain * 1.25
