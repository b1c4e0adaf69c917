"""The secrecy cover sheet, the first page of every call.

Anyone standing at the receiving machine can read it, so it carries what routes the
fax and what to do if it went wrong, and nothing about the patient: units, numbers,
message type, page count, time and job reference (OSL 2009:400, 25 kap. 1 §; see
/work/shared/domain/README.md). `CoverInfo` has no field that could hold a patient's
identity, so none can be printed by mistake.

The sheet is composed as a PDF with reportlab's built-in Helvetica (no system fonts)
and rendered through the same path as any document, so what is tested on the PDF text is
what goes on the line. Sites may change the wording (`CoverTemplate`), not the set of
fields: the mandatory fields are drawn whatever the template says.

It is designed for the line (issue 15): every page of a call costs line time, and the
cover is one more page on every call. MMR codes small text at roughly 10-14 octets a
glyph whatever the layout (each stroke that starts or ends in a row costs a code), so
what the sheet costs is mostly how many glyphs it carries. Hence: short default wording
(the law reference stays in full), short labels, one field a line; type 6.5-8 pt, which
fine resolution (7.7 lines/mm) still prints legibly (a test reads it back with
tesseract); no filled areas, no frames (a vertical edge costs a code in every row it
crosses), only thin horizontal rules, which cost almost nothing; and a page only as
long as its content (T.30 lets a page end anywhere). About 4 KB in MMR at fine for
typical names, 5.6 KB for the longest the directory and the routine give (a resumed
call's line included), against 13 KB for the first full-page sheet with a framed 36 pt
heading.

The page header line (imaging/header.py) is not stamped on the cover (faxd/prepare.py):
everything it says (time, sender, recipient, page count, reference) is on the sheet
itself in larger type, and it would cost about 1.5 KB, a third of the sheet.
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
    # A resume that found another machine at the number (the directory changed it, or another
    # station id answered): the whole document is sent again and this line says why, so the
    # unit that got the earlier part and the one getting this know (issue 13). Words only
    # about numbers and stations, never about the patient.
    sent_again_notice: str | None = None

    def __post_init__(self) -> None:
        if self.pages_total < 1:
            raise ValueError("pages_total counts the cover sheet, so it is at least 1")
        if self.continuation_of_pages is not None and not 0 <= self.continuation_of_pages < self.pages_total - 1:
            raise ValueError("continuation_of_pages must leave at least one document page to send")
        if self.sent_again_notice is not None and (self.continuation_of_pages or not self.sent_again_notice.strip()):
            raise ValueError("sent_again_notice is a non-empty line on a full send, not on a continuation")


@dataclass(frozen=True, slots=True)
class CoverLabels:
    """The labels of the mandatory fields; a site may reword them, not drop them."""

    # Short: every glyph is line time on every call (see the module docstring).
    sender: str = "Från"
    callback: str = "Telefon"
    recipient: str = "Till"
    recipient_fax: str = "Fax"
    message_type: str = "Meddelande"
    pages_total: str = "Sidor"
    sent_at: str = "Skickat"
    job_reference: str = "Referens"
    continuation: str = "Fortsättning"
    sent_again: str = "Skickas igen"


@dataclass(frozen=True, slots=True)
class CoverTemplate:
    """The site-adaptable wording. Texts may use {callback}, {sender}, {recipient},
    {recipient_fax}, {pages_total} and {reference}; raises ValueError for other fields."""

    heading: str = "SEKRETESS"
    subheading: str = ""  # a site may add one ("Faxmeddelande"); the heading says enough
    # Short on purpose: every glyph costs line time on every call (see the module docstring).
    notice: str = (
        "Kan omfattas av sekretess enligt offentlighets- och sekretesslagen (2009:400) 25 kap. 1 §."
        " Endast för mottagaren."
    )
    misdirected: str = "Fel mottagare? Ring avsändaren på {callback} och förstör faxet."
    pages_suffix: str = "med detta blad"
    footer: str = ""  # "Sidor" already counts this sheet; a site may add a line here
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
    """Return the cover sheet as a fax page: A4 wide at 1:1, as long as its content."""
    pdf = cover_sheet_pdf(info, template=template, resolution=resolution)
    return FaxPage(render_single_page(pdf, resolution), resolution)


def cover_sheet_pdf(
    info: CoverInfo, *, template: CoverTemplate = DEFAULT_TEMPLATE, resolution: Resolution = Resolution.FINE
) -> bytes:
    """Return the cover sheet as a one-page PDF, A4 wide and as long as its content
    (reproducible: same info, same bytes). For normal resolution the type is set larger,
    so that the smallest is 8 pt, which normal's 3.85 lines/mm still print legibly."""
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
        rows.insert(
            6,
            (
                labels.continuation,
                f"Sidorna 1–{received} kom fram vid ett tidigare försök; här följer {received + 1}–{info.pages_total}.",
            ),
        )
    if info.sent_again_notice:
        rows.insert(6, (labels.sent_again, info.sent_again_notice))
    sheet = _Sheet(8.0 / _Sheet.SMALLEST if resolution is Resolution.NORMAL else 1.0)
    sheet.heading(template.heading, template.subheading)
    warning = sheet.notice(_fill(template.notice, values), _fill(template.misdirected, values))
    callback = winansi(info.sender_callback).strip()
    if callback and callback in warning:
        # The number is on the sheet already, in the bold line a misdirected reader acts on
        # (as drawn: a long site wording is clipped): a second copy is line time on every
        # call and tells nobody anything new. After the inserts above, which count this row.
        rows.remove((labels.callback, info.sender_callback))
    sheet.fields(rows)
    sheet.footer(_fill(template.footer, values))
    buffer = io.BytesIO()
    # invariant: no creation date or random ID, so the same cover gives the same bytes.
    pdf = canvas.Canvas(buffer, pagesize=(A4[0], sheet.height), invariant=True)
    pdf.setTitle(winansi(f"{template.heading} {info.job_reference}"))
    sheet.draw(pdf)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fill(text: str, values: Mapping[str, str]) -> str:
    return text.format_map(values)


def _pages(total: int, suffix: str) -> str:
    return f"{total} ({suffix})" if suffix.strip() else str(total)


@dataclass(frozen=True, slots=True)
class _Text:
    font: str
    size: float
    x: float
    depth: float  # baseline, in points below the top edge
    text: str


@dataclass(frozen=True, slots=True)
class _Rule:
    depth: float


class _Sheet:
    """Lays the sheet out top to bottom with a cursor ``depth`` (points below the top
    edge); ``draw`` then puts it on a page exactly as tall as what was laid out."""

    MARGIN = 50.0  # sides: a receiver that centres a narrower scan must not cut text
    TOP = 24.0
    BOTTOM = 16.0
    # Type sizes at fine resolution. 6.5 pt is the smallest: its capitals are 12-13 rows
    # high at 7.7 lines/mm, and tesseract still reads every field (tests/imaging).
    HEADING, SUBHEADING, NOTICE, WARNING, LABEL, VALUE, FOOTER = 11.0, 8.0, 6.5, 7.0, 6.5, 7.0, 6.5
    SMALLEST = 6.5

    def __init__(self, scale: float) -> None:
        """``scale`` multiplies every type size and the spacing that follows from it."""
        for name in ("HEADING", "SUBHEADING", "NOTICE", "WARNING", "LABEL", "VALUE", "FOOTER"):
            setattr(self, name, getattr(type(self), name) * scale)
        self.scale = scale
        self.leading = self.VALUE + 2.0 * scale
        self.width = A4[0] - 2 * self.MARGIN
        self.depth = self.TOP
        self.items: list[_Text | _Rule] = []

    @property
    def height(self) -> float:
        return self.depth + self.BOTTOM

    def text(self, font: str, size: float, x: float, text: str) -> None:
        self.items.append(_Text(font, size, x, self.depth, text))

    def heading(self, heading: str, subheading: str) -> None:
        # Bold, but not tall: a tall heading costs more than the notice, and what makes it
        # stand out is that it comes first and is the only text this size.
        self.depth += self.HEADING
        heading, size = _fit(winansi(heading), BOLD, self.HEADING, self.width * 0.45, 9.0 * self.scale)
        self.text(BOLD, size, self.MARGIN, heading)
        if subheading.strip():
            left = self.MARGIN + stringWidth(heading, BOLD, size) + 12
            sub, sub_size = _fit(
                winansi(subheading), BOLD, self.SUBHEADING, self.MARGIN + self.width - left, self.SMALLEST * self.scale
            )
            self.text(BOLD, sub_size, left, sub)
        self.depth += 5 * self.scale
        self.items.append(_Rule(self.depth))

    def notice(self, notice: str, misdirected: str) -> str:
        """Lays out the notice and the misdirected line; returns the latter as drawn (its
        lines joined by a space)."""
        # Clipped so that a site's long wording cannot make the sheet a page of prose.
        notice_lines = _clip(
            simpleSplit(winansi(notice), REGULAR, self.NOTICE, self.width), 6, REGULAR, self.NOTICE, self.width
        )
        warning_lines = _clip(
            simpleSplit(winansi(misdirected), BOLD, self.WARNING, self.width), 2, BOLD, self.WARNING, self.width
        )
        self.depth += 2 * self.scale
        for line in notice_lines:
            self.depth += self.NOTICE + 2 * self.scale
            self.text(REGULAR, self.NOTICE, self.MARGIN, line)
        self.depth += 2 * self.scale
        for line in warning_lines:
            self.depth += self.WARNING + 2 * self.scale
            self.text(BOLD, self.WARNING, self.MARGIN, line)
        self.depth += 5 * self.scale
        self.items.append(_Rule(self.depth))
        self.depth += 1.5 * self.scale  # room above the ring of a first "Från"
        return " ".join(warning_lines)

    def fields(self, rows: list[tuple[str, str]]) -> None:
        # The label column is as wide as the widest label (a site's long label wraps at
        # 140 pt): short labels leave the values room for a long unit name on one line.
        widest = max(stringWidth(winansi(label), BOLD, self.LABEL) for label, _ in rows)
        label_width = min(widest, 140 * self.scale)
        value_x = self.MARGIN + label_width + 10 * self.scale
        value_width = self.MARGIN + self.width - value_x
        for label, value in rows:
            label_lines = simpleSplit(winansi(label), BOLD, self.LABEL, label_width)[:2]
            # Two lines of a long unit name is plenty; the rest would make the sheet long.
            value_lines = _clip(
                simpleSplit(winansi(value) or "-", REGULAR, self.VALUE, value_width),
                2,
                REGULAR,
                self.VALUE,
                value_width,
            )
            top = self.depth + self.leading
            for index, line in enumerate(label_lines):
                self.items.append(_Text(BOLD, self.LABEL, self.MARGIN, top + self.leading * index, line))
            for index, line in enumerate(value_lines):
                self.items.append(_Text(REGULAR, self.VALUE, value_x, top + self.leading * index, line))
            self.depth = top + self.leading * (max(len(label_lines), len(value_lines)) - 1)
        self.depth += 5 * self.scale
        self.items.append(_Rule(self.depth))

    def footer(self, text: str) -> None:
        if not text.strip():
            return
        self.depth += self.FOOTER + 3 * self.scale
        line, size = _fit(winansi(text), REGULAR, self.FOOTER, self.width, self.FOOTER)
        self.text(REGULAR, size, self.MARGIN, line)

    def draw(self, pdf: canvas.Canvas) -> None:
        # Thin rules: at fine resolution 0.5 pt is one or two rows, kept by the renderer's
        # no-anti-aliasing paths, and a horizontal rule costs a few codes in MMR.
        pdf.setLineWidth(0.5)
        for item in self.items:
            y = self.height - item.depth
            if isinstance(item, _Rule):
                pdf.line(self.MARGIN, y, self.MARGIN + self.width, y)
            else:
                pdf.setFont(item.font, item.size)
                pdf.drawString(item.x, y, item.text)


def _fit(text: str, font: str, size: float, width: float, smallest: float) -> tuple[str, float]:
    """Returns ``text`` in a smaller size (down to ``smallest``) if it is too wide, and
    cut with an ellipsis if even that is too wide; and the size."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    if stringWidth(text, font, size) > width:
        while text and stringWidth(text + " …", font, size) > width:
            text = text[:-1]
        text = text.rstrip() + " …"
    return text, size


def _clip(lines: list[str], count: int, font: str, size: float, width: float) -> list[str]:
    """Returns at most ``count`` lines; if some were dropped, the last one kept ends with an
    ellipsis, shortened so that it still fits ``width``."""
    if len(lines) <= count:
        return lines
    last = lines[count - 1].rstrip()
    while last and stringWidth(last + " …", font, size) > width:
        last = last[:-1].rstrip()
    return [*lines[: count - 1], last + " …"]
