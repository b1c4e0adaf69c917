"""Test PDFs, drawn with reportlab: known shapes at known places, and a realistic form."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

Draw = Callable[[Canvas, float, float], None]  # canvas, page width, page height (points)


def pdf(*pages: tuple[tuple[float, float], Draw]) -> bytes:
    """Return a PDF with one page per (size, draw) pair."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)
    for (width, height), draw in pages:
        canvas.setPageSize((width, height))
        draw(canvas, width, height)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def save(directory: Path, data: bytes, name: str = "document.pdf") -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def blank(canvas: Canvas, width: float, height: float) -> None:
    canvas.setFont("Helvetica", 1)
    canvas.drawString(width / 2, height / 2, ".")  # reportlab drops truly empty pages' content


def rectangle_mm(left: float, top: float, width: float, height: float) -> Draw:
    """A filled black rectangle, placed in millimetres from the page's top-left corner."""

    def draw(canvas: Canvas, page_width: float, page_height: float) -> None:
        canvas.rect(left * mm, page_height - (top + height) * mm, width * mm, height * mm, stroke=0, fill=1)

    return draw


def border(line_width: float = 4.0) -> Draw:
    """A frame stroked on the page edge: half of the stroke is inside the page."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.setLineWidth(line_width)
        canvas.rect(0, 0, width, height, stroke=1, fill=0)
        canvas.rect(0, height - 20 * mm, 20 * mm, 20 * mm, stroke=0, fill=1)  # marks the top-left corner

    return draw


def form_page(number: int) -> Draw:
    """An A4 care form: heading, labelled boxes, small text, a table with hairlines."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.setFont("Helvetica-Bold", 16)
        canvas.drawString(20 * mm, height - 25 * mm, f"Inskrivningsinformation — sida {number}")
        canvas.setFont("Helvetica", 10)
        y = height - 40 * mm
        for row in range(12):
            canvas.setFillGray(0.9)
            canvas.rect(20 * mm, y - 2 * mm, 170 * mm, 8 * mm, stroke=0, fill=1)
            canvas.setFillGray(0)
            canvas.drawString(22 * mm, y, f"Fält {row + 1}: Åtgärd enligt plan, läkemedelslista bifogas ({row})")
            y -= 10 * mm
        canvas.setLineWidth(0.25)
        for column in range(6):
            canvas.line((20 + 34 * column) * mm, 30 * mm, (20 + 34 * column) * mm, 150 * mm)
        for line in range(13):
            canvas.line(20 * mm, (30 + 10 * line) * mm, 190 * mm, (30 + 10 * line) * mm)
        canvas.setFont("Helvetica", 8)
        for line in range(12):
            text = "Datum 2026-11-26  Sign. ÅÄÖ  Dos 2 x 1  Kommentar: ökad tillsyn"
            canvas.drawString(22 * mm, (33 + 10 * line) * mm, text)

    return draw


def form(pages: int) -> bytes:
    return pdf(*[(A4, form_page(n + 1)) for n in range(pages)])
