"""The secrecy cover sheet: the notice, the mandatory fields, and nothing about the patient."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime

import numpy as np
import pypdf
import pytest

from drivers.page import FAX_WIDTH, Resolution
from imaging import CoverInfo, CoverLabels, CoverTemplate, cover_sheet, cover_sheet_pdf
from imaging.text import winansi

INFO = CoverInfo(
    sender_name="Avdelning 12, Medicinkliniken SUS Lund",
    sender_callback="040-628 04 10",
    recipient_name="Hemsjukvården Östra Göinge kommun",
    recipient_fax="031-390 06 12",
    message_type="Inskrivningsinformation",
    pages_total=4,
    job_reference="FX-20261126-0042",
    sent_at=datetime(2026, 11, 26, 10, 42),
)


def text_of(data: bytes) -> str:
    """The PDF's text with runs of white space made single spaces (lines wrap)."""
    (page,) = pypdf.PdfReader(io.BytesIO(data)).pages
    return " ".join(page.extract_text().split())


def test_cover_carries_notice_and_mandatory_fields() -> None:
    """Notice with the law, what to do if misdirected (with the call-back number), sender,
    recipient and its fax number, message type, pages, time, reference."""
    text = text_of(cover_sheet_pdf(INFO))
    for expected in [
        "SEKRETESS",
        "offentlighets- och sekretesslagen (2009:400) 25 kap. 1 §",
        "Endast för mottagaren.",
        "Fel mottagare? Ring avsändaren på 040-628 04 10 och förstör faxet.",
        "Från Avdelning 12, Medicinkliniken SUS Lund",
        "Till Hemsjukvården Östra Göinge kommun",
        "Fax 031-390 06 12",
        "Meddelande Inskrivningsinformation",
        "Sidor 4 (med detta blad)",
        "Skickat 2026-11-26 10:42",
        "Referens FX-20261126-0042",
    ]:
        assert expected in text
    # The call-back number is printed once, in the line a misdirected reader acts on.
    assert text.count("040-628 04 10") == 1


def test_cover_has_no_field_for_a_patient() -> None:
    """Neither the type nor the sheet has a place for the patient's identity."""
    names = {f.name for f in dataclasses.fields(CoverInfo)}
    assert not {n for n in names if any(word in n for word in ("patient", "person", "birth", "ssn"))}
    text = text_of(cover_sheet_pdf(INFO)).lower()
    for word in ("patient", "personnummer", "födelse", "samordningsnummer", "brukare"):
        assert word not in text


def test_cover_pdf_is_reproducible() -> None:
    """The same information gives the same bytes (no creation date or random ID)."""
    assert cover_sheet_pdf(INFO) == cover_sheet_pdf(INFO)


@pytest.mark.parametrize("resolution", [Resolution.FINE, Resolution.NORMAL])
def test_cover_pixels_where_the_sheet_has_text(resolution: Resolution) -> None:
    """Black in the heading, notice and fields; white in the side margins; the page ends
    below the fields, not at the foot of an A4 sheet."""
    pixels = cover_sheet(INFO, resolution=resolution).pixels
    rows_per_mm = resolution.value / 25.4
    assert pixels.shape[1] == FAX_WIDTH
    assert 40 * rows_per_mm < pixels.shape[0] < 80 * rows_per_mm  # A4 would be 297 mm

    def band(top_mm: float, bottom_mm: float) -> np.ndarray:
        return pixels[round(top_mm * rows_per_mm) : round(bottom_mm * rows_per_mm)]

    assert band(8, 13)[:, 150:450].mean() > 0.1  # "SEKRETESS" in bold
    assert band(15, 24).mean() > 0.01  # the notice and what to do if misdirected
    assert band(26, 46).mean() > 0.01  # the fields
    assert not band(pixels.shape[0] / rows_per_mm - 5, 400).any()  # a white margin at the end
    margin = round(20 + 15 * 204 / 25.4)  # 15 mm of the sheet's 17.6 mm margin
    assert not pixels[:, :margin].any() and not pixels[:, -margin:].any()


def test_template_rewords_but_mandatory_fields_stay() -> None:
    """A site's wording replaces the texts; the fields, including the call-back number, are still drawn."""
    template = CoverTemplate(
        heading="KONFIDENTIELLT",
        notice="Gäller {recipient}. Sekretess enligt OSL.",
        misdirected="Fel mottagare? Ring avsändaren.",
        labels=CoverLabels(callback="Ring avsändaren"),
    )
    text = text_of(cover_sheet_pdf(INFO, template=template))
    assert "KONFIDENTIELLT" in text and "SEKRETESS" not in text
    assert "Gäller Hemsjukvården Östra Göinge kommun." in text
    assert "Fel mottagare? Ring avsändaren." in text
    # The wording left the number out, so the field carries it.
    assert "Ring avsändaren 040-628 04 10" in text
    assert "Referens FX-20261126-0042" in text


def test_callback_stays_when_a_long_wording_clips_it_off() -> None:
    """A site's misdirected line so long that the number falls in the clipped part: the
    call-back field carries it."""
    template = CoverTemplate(misdirected="Fel mottagare? " + "Läs detta noga. " * 30 + "Ring {callback}.")
    text = text_of(cover_sheet_pdf(INFO, template=template))
    assert text.count("040-628 04 10") == 1 and "Telefon 040-628 04 10" in text


def test_template_refuses_unknown_placeholders_and_empty_labels() -> None:
    """A template cannot ask for data the sheet does not have, or hide a mandatory field."""
    with pytest.raises(ValueError, match="unknown fields"):
        CoverTemplate(notice="Patient: {patient}")
    with pytest.raises(ValueError, match="label recipient_fax is empty"):
        CoverTemplate(labels=CoverLabels(recipient_fax=" "))


def test_long_names_wrap_and_stay_on_the_sheet() -> None:
    """A very long unit name is wrapped and clipped with an ellipsis, not drawn off the page."""
    info = dataclasses.replace(INFO, recipient_name="Hemsjukvården " * 30)
    text = text_of(cover_sheet_pdf(info))
    assert "…" in text and "Referens FX-20261126-0042" in text
    pixels = cover_sheet(info).pixels
    assert not pixels[:, -100:].any()


def test_cover_info_counts_the_cover() -> None:
    """pages_total includes the cover sheet, so it is at least 1."""
    with pytest.raises(ValueError, match="at least 1"):
        dataclasses.replace(INFO, pages_total=0)


def test_characters_outside_the_standard_fonts_are_folded() -> None:
    """Names keep their letters where a standard-14 font has them; others fold to a base letter or '?'."""
    assert winansi("Åsa Öberg — § 1") == "Åsa Öberg — § 1"
    assert winansi("Łódź\tKraków") == "?ódz Kraków"
    text = text_of(cover_sheet_pdf(dataclasses.replace(INFO, sender_name="Vårdcentral Łódź")))
    assert "Från Vårdcentral ?ódz" in text


def test_template_refuses_positional_placeholders() -> None:
    """ "{}" has no name to fill it with; it is refused when the template is made, not at send time."""
    with pytest.raises(ValueError, match="unknown fields"):
        CoverTemplate(footer="Sida {}")


def test_long_template_wording_cannot_push_fields_off_the_sheet() -> None:
    """However long a site's notice and heading, every field is drawn above the bottom margin."""
    template = CoverTemplate(heading="SEKRETESSBELAGD HANDLING " * 3, notice="Lång text om sekretess. " * 200)
    reader = pypdf.PdfReader(io.BytesIO(cover_sheet_pdf(INFO, template=template)))
    placed: list[tuple[str, float]] = []
    reader.pages[0].extract_text(visitor_text=lambda text, cm, tm, font, size: placed.append((text, tm[5])))
    assert any("FX-20261126-0042" in text for text, _ in placed)
    # The sheet grows with its content (clipped wording), keeping its 22 pt bottom margin.
    assert min(y for text, y in placed if text.strip()) >= 18  # the margin, less a descender
    assert float(reader.pages[0].mediabox.height) < 297 / 25.4 * 72 / 2
    assert "Referens FX-20261126-0042" in text_of(cover_sheet_pdf(INFO, template=template))
    assert not cover_sheet(INFO, template=template).pixels[:, -150:].any()  # the heading was shrunk to fit


def test_continuation_cover_says_which_pages_follow() -> None:
    """A resumed call's cover names the pages already received and those that follow."""
    from datetime import datetime

    from pypdf import PdfReader

    from imaging import CoverInfo, cover_sheet_pdf

    info = CoverInfo(
        sender_name="A",
        sender_callback="040-628 04 00",
        recipient_name="B",
        recipient_fax="040-628 04 10",
        message_type="SIP",
        pages_total=6,
        job_reference="FX-1",
        sent_at=datetime(2026, 11, 26, 10, 0),
        continuation_of_pages=2,
    )
    text = PdfReader(io.BytesIO(cover_sheet_pdf(info))).pages[0].extract_text()
    assert "Fortsättning" in text and "Sidorna 1–3" in text and "4–6" in text


def test_a_full_resend_cover_says_the_document_is_sent_again_and_why() -> None:
    """The "sent again in full" notice is content of the sheet (issue 13): it is printed, and
    it cannot be combined with a continuation."""
    from dataclasses import replace
    from datetime import datetime

    import pytest
    from pypdf import PdfReader

    from faxd.runner_resume import ResendReason
    from imaging import CoverInfo, cover_sheet_pdf

    base = CoverInfo(
        sender_name="A",
        sender_callback="040-628 04 00",
        recipient_name="B",
        recipient_fax="040-628 04 10",
        message_type="SIP",
        pages_total=4,
        job_reference="FX-1",
        sent_at=datetime(2026, 11, 26, 10, 0),
    )
    for reason, words in ((ResendReason.NUMBER_CHANGED, "annat faxnummer"), (ResendReason.STATION_CHANGED, "annan")):
        info = replace(base, sent_again_notice=reason.notice)
        text = " ".join(PdfReader(io.BytesIO(cover_sheet_pdf(info))).pages[0].extract_text().split())
        assert "Skickas igen" in text and reason.notice in text and words in text  # whole, not clipped
    plain = " ".join(PdfReader(io.BytesIO(cover_sheet_pdf(base))).pages[0].extract_text().split())
    assert "skickas igen" not in plain
    with pytest.raises(ValueError, match="sent_again_notice"):
        replace(base, sent_again_notice=ResendReason.NUMBER_CHANGED.notice, continuation_of_pages=1)
