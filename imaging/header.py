"""The page header (tagline): one line across the top of every page that goes on the line.

"2026-11-26 10:42  Från: <sender>  Till: <recipient>" on the left and
"Sida n/N  Ref: <job reference>" on the right, as a fax machine prints its TSI line,
so a page that strays from its pile still says where it came from and what it
belongs to.

The header is laid over the page (the strip is cleared to white first), not added
above it: the page keeps its length, and a document that fits A4 still does. A4 1:1
puts the first 5 mm of the sheet under the strip, where a document has its margin.

Text is drawn as a tiny PDF in Helvetica and rendered by PDFium like everything else.
Pillow's built-in scalable font (Aileron, `ImageFont.load_default`) has no å, ä or ö
(they come out as boxes), and system fonts are not to be relied on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from drivers.page import FAX_WIDTH, FaxPage, Resolution
from imaging.render import HORIZONTAL_DPI, render_single_page
from imaging.text import winansi

FONT = "Helvetica"
_SIZES = (10.0, 9.0, 8.0)  # largest first; 8 pt is the smallest that stays legible at normal
_MARGIN = 14.0  # points: inside the 3 mm that A4 leaves on either side of the scan line
_GAP = 18.0
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """What the header line of every page says."""

    sent_at: datetime
    sender: str
    recipient: str
    job_reference: str
    pages_total: int  # including the cover sheet


def header_rows(resolution: Resolution) -> int:
    """Return the height of the header strip in rows: 5.2 mm at either resolution."""
    return 40 if resolution is Resolution.FINE else 20


def header_text(header: HeaderInfo, page_number: int) -> str:
    """Return the header line as text (both halves, untruncated)."""
    left, right = _halves(header, page_number, header.sender, header.recipient)
    return f"{left}  {right}"


def stamp_header(page: FaxPage, header: HeaderInfo, page_number: int) -> FaxPage:
    """Return a copy of ``page`` with the header strip on top; ``page_number`` counts from 1.

    Raises ValueError if ``page_number`` is not within 1 .. ``header.pages_total``.
    """
    if not 1 <= page_number <= header.pages_total:
        raise ValueError(f"page {page_number} is not within 1..{header.pages_total}")
    rows = min(header_rows(page.resolution), page.height)
    strip = render_single_page(header_pdf(header, page_number, page.resolution), page.resolution)
    pixels = page.pixels.copy()
    pixels[:rows] = strip[:rows]
    return FaxPage(pixels, page.resolution)


def _halves(header: HeaderInfo, page_number: int, sender: str, recipient: str) -> tuple[str, str]:
    when = header.sent_at.strftime("%Y-%m-%d %H:%M")
    left = f"{when}  Från: {sender}  Till: {recipient}"
    right = f"Sida {page_number}/{header.pages_total}  Ref: {header.job_reference}"
    return winansi(left), winansi(right)


def header_pdf(header: HeaderInfo, page_number: int, resolution: Resolution) -> bytes:
    """Return the header strip of page ``page_number`` as a one-page PDF, as it is drawn."""
    # Sized so that the renderer maps it 1:1 onto the strip: 1728 pels across, its rows down.
    width = FAX_WIDTH * 72 / HORIZONTAL_DPI
    height = header_rows(resolution) * 72 / resolution.value
    size, left, right = _fit(header, page_number, width - 2 * _MARGIN - _GAP)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=True)
    pdf.setFont(FONT, size)
    baseline = (height - size * 0.7) / 2  # centre the capitals (cap height ~0.7 em)
    pdf.drawString(_MARGIN, baseline, left)
    pdf.drawRightString(width - _MARGIN, baseline, right)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fit(header: HeaderInfo, page_number: int, available: float) -> tuple[float, str, str]:
    """Return the font size and the two halves, shortening the unit names only if need be.

    Date, page number and reference are never shortened: they identify the page.
    """
    for size in _SIZES:
        left, right = _halves(header, page_number, header.sender, header.recipient)
        if _width(left, size) + _width(right, size) <= available:
            return size, left, right
    size = _SIZES[-1]
    fixed_left, right = _halves(header, page_number, "", "")
    budget = available - _width(fixed_left, size) - _width(right, size)
    sender, recipient = winansi(header.sender), winansi(header.recipient)
    # Give each name half the room; a name shorter than its half lends the rest to the other.
    half = budget / 2
    sender_room = max(half, budget - _width(recipient, size))
    sender = _shorten(sender, size, sender_room)
    recipient = _shorten(recipient, size, budget - _width(sender, size))
    left, right = _halves(header, page_number, sender, recipient)
    return size, left, right


def _shorten(text: str, size: float, room: float) -> str:
    if _width(text, size) <= room:
        return text
    while text and _width(text + _ELLIPSIS, size) > room:
        text = text[:-1]
    return text.rstrip() + _ELLIPSIS


def _width(text: str, size: float) -> float:
    return float(stringWidth(text, FONT, size))
