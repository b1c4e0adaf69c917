"""The secrecy cover sheet, the first page of every call.

Anyone standing at the receiving machine can read it, so it carries what routes the
fax and what to do if it went wrong, and nothing about the patient: units, numbers,
message type, page count, time and job reference (OSL 2009:400, 25 kap. 1 §; see
/work/shared/domain/README.md). `CoverInfo` has no field that could hold a patient's
identity, so none can be printed by mistake.

The sheet is composed as an A4 PDF with reportlab's built-in Helvetica (no system
fonts) and rendered through the same path as any document, so what is tested on the
PDF text is what goes on the line. Sites may change the wording (`CoverTemplate`), not
the set of fields: the mandatory fields are drawn whatever the template says.
"""

from __future__ import annotations

import io
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from drivers.page import FaxPage, Resolution
from imaging.render import render_single_page
from imaging.text import winansi

REGULAR, BOLD = "Helvetica", "Helvetica-Bold"

#: The placeholders a template's texts may use.
PLACEHOLDERS = frozenset({"callback", "sender", "recipient", "recipient_fax", "pages_total", "reference"})


@dataclass(frozen=True, slots=True)
class CoverInfo:
    """What the cover sheet says. No patient identity, by construction."""

    sender_name: str  # the sending unit
    sender_callback: str  # the phone number to call if the fax reached the wrong place
    recipient_name: str
    recipient_fax: str
    message_type: str  # in Swedish words, e.g. "Inskrivningsinformation"
    pages_total: int  # including the cover sheet
    job_reference: str  # e.g. "FX-20261126-0042"
    sent_at: datetime
    # Resuming after a call that broke off: how many document pages the recipient already
    # confirmed. The cover then says which pages follow, so the recipient can put the two
    # deliveries together (HylaFAX's "continuation cover page" does the same job).
    continuation_of_pages: int | None = None

    def __post_init__(self) -> None:
        if self.pages_total < 1:
            raise ValueError("pages_total counts the cover sheet, so it is at least 1")
        if self.continuation_of_pages is not None and not 0 <= self.continuation_of_pages < self.pages_total - 1:
            raise ValueError("continuation_of_pages must leave at least one document page to send")


@dataclass(frozen=True, slots=True)
class CoverLabels:
    """The labels of the mandatory fields; a site may reword them, not drop them."""

    sender: str = "Från"
    callback: str = "Ring avsändaren"
    recipient: str = "Till"
    recipient_fax: str = "Mottagarens faxnummer"
    message_type: str = "Meddelandetyp"
    pages_total: str = "Antal sidor"
    sent_at: str = "Datum och tid"
    job_reference: str = "Referens"
    continuation: str = "Fortsättning"


@dataclass(frozen=True, slots=True)
class CoverTemplate:
    """The site-adaptable wording. Texts may use {callback}, {sender}, {recipient},
    {recipient_fax}, {pages_total} and {reference}; raises ValueError for other fields."""

    heading: str = "SEKRETESS"
    subheading: str = "Faxmeddelande — sekretessbelagt"
    notice: str = (
        "Detta fax är endast avsett för mottagaren nedan. Det kan innehålla uppgifter som"
        " omfattas av sekretess enligt offentlighets- och sekretesslagen (2009:400) 25 kap. 1 §."
        " Den som inte är behörig får inte läsa, kopiera eller sprida innehållet."
    )
    misdirected: str = "Om du har fått detta fax av misstag: ring avsändaren på {callback} och förstör handlingen."
    pages_suffix: str = "inklusive detta försättsblad"
    footer: str = "Försättsblad — faxet fortsätter på nästa sida."
    labels: CoverLabels = field(default_factory=CoverLabels)

    def __post_init__(self) -> None:
        for name in ("heading", "subheading", "notice", "misdirected", "pages_suffix", "footer"):
            text = getattr(self, name)
            unknown = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None} - PLACEHOLDERS
            if unknown:
                raise ValueError(f"cover template {name} uses unknown fields {sorted(unknown)}")
        for label in fields(self.labels):
            if not getattr(self.labels, label.name).strip():
                raise ValueError(f"cover template label {label.name} is empty; the field is mandatory")


DEFAULT_TEMPLATE = CoverTemplate()


def cover_sheet(
    info: CoverInfo, *, resolution: Resolution = Resolution.FINE, template: CoverTemplate = DEFAULT_TEMPLATE
) -> FaxPage:
    """Return the cover sheet as a fax page (A4, 1:1)."""
    return FaxPage(render_single_page(cover_sheet_pdf(info, template=template), resolution), resolution)


def cover_sheet_pdf(info: CoverInfo, *, template: CoverTemplate = DEFAULT_TEMPLATE) -> bytes:
    """Return the cover sheet as a one-page A4 PDF (reproducible: same info, same bytes)."""
    values = {
        "callback": info.sender_callback,
        "sender": info.sender_name,
        "recipient": info.recipient_name,
        "recipient_fax": info.recipient_fax,
        "pages_total": str(info.pages_total),
        "reference": info.job_reference,
    }
    labels = template.labels
    rows = [
        (labels.sender, info.sender_name),
        (labels.callback, info.sender_callback),
        (labels.recipient, info.recipient_name),
        (labels.recipient_fax, info.recipient_fax),
        (labels.message_type, info.message_type),
        (labels.pages_total, _pages(info.pages_total, _fill(template.pages_suffix, values))),
        (labels.sent_at, info.sent_at.strftime("%Y-%m-%d %H:%M")),
        (labels.job_reference, info.job_reference),
    ]
    if info.continuation_of_pages:
        received = info.continuation_of_pages + 1  # the original cover sheet was page 1
        rows.insert(6, (labels.continuation,
                        f"Sidorna 1–{received} togs emot vid ett tidigare försök. Här följer sidorna "
                        f"{received + 1}–{info.pages_total}."))
    buffer = io.BytesIO()
    # invariant: no creation date or random ID, so the same cover gives the same bytes.
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(winansi(f"{template.heading} {info.job_reference}"))
    _Sheet(pdf).draw(template, values, rows)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fill(text: str, values: Mapping[str, str]) -> str:
    return text.format_map(values)


def _pages(total: int, suffix: str) -> str:
    return f"{total} ({suffix})" if suffix.strip() else str(total)


class _Sheet:
    """Draws top to bottom on A4 with a cursor ``y`` (points from the bottom edge)."""

    MARGIN = 50.0
    LABEL_WIDTH = 170.0

    def __init__(self, pdf: canvas.Canvas) -> None:
        self.pdf = pdf
        self.width = A4[0] - 2 * self.MARGIN
        self.y = A4[1] - self.MARGIN

    def draw(self, template: CoverTemplate, values: Mapping[str, str], rows: list[tuple[str, str]]) -> None:
        self.heading(template.heading, template.subheading)
        self.notice(_fill(template.notice, values), _fill(template.misdirected, values))
        self.fields(rows)
        self.pdf.setFont(REGULAR, 11)
        self.pdf.drawString(self.MARGIN, self.MARGIN, winansi(_fill(template.footer, values)))

    def heading(self, heading: str, subheading: str) -> None:
        # A heavy frame: the first thing seen at the machine is that this is secret.
        top = self.y
        self.y -= 46
        self.line(BOLD, 36, self.MARGIN + 14, winansi(heading), self.width - 28)
        self.y -= 28
        self.line(BOLD, 18, self.MARGIN + 14, winansi(subheading), self.width - 28)
        self.y -= 14
        self.pdf.setLineWidth(4)
        self.pdf.rect(self.MARGIN, self.y, self.width, top - self.y)
        self.y -= 24

    def notice(self, notice: str, misdirected: str) -> None:
        inner = self.width - 24
        # Clipped so that a site's long wording cannot push the mandatory fields off the sheet.
        notice_lines = _clip(simpleSplit(winansi(notice), REGULAR, 12, inner), 8)
        warning_lines = _clip(simpleSplit(winansi(misdirected), BOLD, 13, inner), 3)
        height = 12 + 16 * len(notice_lines) + 8 + 17 * len(warning_lines) + 6
        self.pdf.setLineWidth(1.5)
        self.pdf.rect(self.MARGIN, self.y - height, self.width, height)
        self.y -= 12 + 12
        self.pdf.setFont(REGULAR, 12)
        for line in notice_lines:
            self.pdf.drawString(self.MARGIN + 12, self.y, line)
            self.y -= 16
        self.y -= 8
        self.pdf.setFont(BOLD, 13)
        for line in warning_lines:
            self.pdf.drawString(self.MARGIN + 12, self.y, line)
            self.y -= 17
        self.y -= 30

    def line(self, font: str, size: float, x: float, text: str, width: float) -> None:
        """Draw one line at the cursor, in a smaller size (down to 14 pt) if it is too wide,
        and cut with an ellipsis if even that is too wide."""
        while size > 14 and stringWidth(text, font, size) > width:
            size -= 1
        if stringWidth(text, font, size) > width:
            while text and stringWidth(text + " …", font, size) > width:
                text = text[:-1]
            text = text.rstrip() + " …"
        self.pdf.setFont(font, size)
        self.pdf.drawString(x, self.y, text)

    def fields(self, rows: list[tuple[str, str]]) -> None:
        value_x = self.MARGIN + self.LABEL_WIDTH
        value_width = self.width - self.LABEL_WIDTH
        self.pdf.setLineWidth(0.75)
        for label, value in rows:
            label_lines = simpleSplit(winansi(label), BOLD, 13, self.LABEL_WIDTH - 10)[:2]
            # Three lines of a long unit name is plenty; the rest would push fields off the page.
            value_lines = _clip(simpleSplit(winansi(value) or "-", REGULAR, 14, value_width), 3)
            self.pdf.line(self.MARGIN, self.y + 22, self.MARGIN + self.width, self.y + 22)
            self.pdf.setFont(BOLD, 13)
            for index, line in enumerate(label_lines):
                self.pdf.drawString(self.MARGIN, self.y - 17 * index, line)
            self.pdf.setFont(REGULAR, 14)
            for index, line in enumerate(value_lines):
                self.pdf.drawString(value_x, self.y - 17 * index, line)
            self.y -= 17 * max(len(label_lines), len(value_lines)) + 16
        self.pdf.line(self.MARGIN, self.y + 22, self.MARGIN + self.width, self.y + 22)


def _clip(lines: list[str], count: int) -> list[str]:
    if len(lines) <= count:
        return lines
    return [*lines[: count - 1], lines[count - 1].rstrip() + " …"]
