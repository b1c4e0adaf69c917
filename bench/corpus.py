"""A benchmark corpus of care forms, made with reportlab: reproducible, fictitious, no files shipped.

- `discharge_planning(pages)`: a multi-page discharge-planning form (samordnad
  vårdplanering vid utskrivning) as care systems print them: a logo (a small colour
  raster image, as systems embed one), a title block, boxed patient and unit fields,
  tables with hairline rules, check boxes, paragraphs of body text in 9-10 pt, light
  field shading and a signature block. Every page differs in its text.
- `scanned_photo_page()`: one A4 page that is a single greyscale JPEG "scan" at 150 dpi:
  a photograph-like picture on the top half (smooth tones, edges, sensor noise) and
  typed text on grey paper below, as a scanned wound photo with a note would arrive.

The patient is the Swedish test person Tolvan Tolvansson; all names are made up.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

WIDTH, HEIGHT = A4

_WORDS = [
    "patienten",
    "bedöms",
    "utskrivningsklar",
    "efter",
    "samordnad",
    "planering",
    "med",
    "kommunen",
    "och",
    "primärvården",
    "läkemedelslista",
    "bifogas",
    "hemtjänst",
    "insatser",
    "två",
    "gånger",
    "dagligen",
    "tillsyn",
    "nattetid",
    "trygghetslarm",
    "finns",
    "sårvård",
    "enligt",
    "ordination",
    "fallrisk",
    "bedömd",
    "nutritionsstatus",
    "följs",
    "upp",
    "av",
    "dietist",
    "anhörig",
    "informerad",
    "fast",
    "vårdkontakt",
    "utsedd",
    "vid",
    "vårdcentralen",
    "ansvarig",
    "sjuksköterska",
    "kontaktas",
]


def _sentence(generator: np.random.Generator, words: int) -> str:
    text = " ".join(generator.choice(_WORDS, words))
    return text[0].upper() + text[1:] + "."


def _logo() -> ImageReader:
    """A small colour logo as a raster image: a shield, a cross, the region's initials."""
    image = Image.new("RGB", (240, 240), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 230, 230), fill=(0, 92, 169))
    draw.rectangle((95, 40, 145, 200), fill=(255, 205, 0))
    draw.rectangle((40, 95, 200, 145), fill=(255, 205, 0))
    draw.text((84, 150), "RS", fill=(200, 16, 46), font=ImageFont.load_default(size=56))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return ImageReader(buffer)


def _form_page(canvas: Canvas, number: int, pages: int, logo: ImageReader) -> None:
    generator = np.random.default_rng(number)
    top = HEIGHT - 15 * mm
    canvas.drawImage(logo, 15 * mm, top - 16 * mm, 16 * mm, 16 * mm)
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(36 * mm, top - 7 * mm, "Samordnad vårdplanering – utskrivning")
    canvas.setFont("Helvetica", 8)
    subtitle = "Region Skåne · Reservrutin för Mina planer · Sekretess enligt OSL 25 kap. 1 §"
    canvas.drawString(36 * mm, top - 12 * mm, subtitle)
    canvas.drawRightString(WIDTH - 15 * mm, top - 7 * mm, f"Sida {number} av {pages}")
    # The patient and unit fields: labelled boxes, the labels in small type on light shading.
    y = top - 24 * mm
    fields = [
        ("Namn", "Tolvan Tolvansson"),
        ("Personnummer", "19121212-1212"),
        ("Avdelning", "Avd 12, SUS Lund"),
        ("Kommun", "Lunds kommun"),
        ("Vårdcentral", "VC Lund Norra"),
        ("Datum", f"2026-11-{10 + number % 18:02d}"),
    ]
    for index, (label, value) in enumerate(fields):
        column, row = index % 3, index // 3
        left, bottom = (15 + column * 60) * mm, y - row * 13 * mm
        canvas.setFillGray(0.88)
        canvas.rect(left, bottom + 7 * mm, 58 * mm, 4 * mm, stroke=0, fill=1)
        canvas.setFillGray(0)
        canvas.setLineWidth(0.5)
        canvas.rect(left, bottom, 58 * mm, 11 * mm, stroke=1, fill=0)
        canvas.setFont("Helvetica", 7)
        canvas.drawString(left + 1.5 * mm, bottom + 8 * mm, label)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(left + 1.5 * mm, bottom + 2.5 * mm, value)
    # Running text: headings and paragraphs.
    y -= 32 * mm
    for section in range(2):
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(15 * mm, y, f"{number}.{section + 1} Bedömning och planerade insatser")
        y -= 6 * mm
        canvas.setFont("Helvetica", 9.5)
        for _ in range(6):
            canvas.drawString(15 * mm, y, _sentence(generator, 14)[:105])
            y -= 4.6 * mm
        y -= 3 * mm
    # A table with hairline rules: medicines or actions, dates, signatures.
    columns = [15, 70, 110, 135, 160, 195]
    headings = ["Läkemedel / insats", "Dos", "Från", "Till", "Sign."]
    rows = 12
    canvas.setLineWidth(0.25)
    for row in range(rows + 2):
        canvas.line(15 * mm, y - row * 6 * mm, 195 * mm, y - row * 6 * mm)
    for column in columns:
        canvas.line(column * mm, y, column * mm, y - (rows + 1) * 6 * mm)
    canvas.setFont("Helvetica-Bold", 8.5)
    for column, heading in zip(columns, headings, strict=False):
        canvas.drawString((column + 1.5) * mm, y - 4.3 * mm, heading)
    canvas.setFont("Helvetica", 8.5)
    for row in range(rows):
        baseline = y - (row + 1) * 6 * mm - 4.3 * mm
        cells = [
            _sentence(generator, 3)[:30],
            f"{generator.integers(1, 4)} x {generator.integers(1, 3)}",
            f"2026-11-{generator.integers(1, 28):02d}",
            f"2026-12-{generator.integers(1, 28):02d}",
            "AB",
        ]
        for column, cell in zip(columns, cells, strict=False):
            canvas.drawString((column + 1.5) * mm, baseline, cell)
    y -= (rows + 1) * 6 * mm + 8 * mm
    # Check boxes, then the signature block.
    canvas.setFont("Helvetica", 9)
    for index, label in enumerate(["Hemtjänst", "Hemsjukvård", "Korttidsplats", "Trygghetslarm", "Rehabilitering"]):
        left = (15 + 37 * index) * mm
        canvas.rect(left, y, 3.5 * mm, 3.5 * mm, stroke=1, fill=0)
        if (index + number) % 2:
            canvas.line(left, y, left + 3.5 * mm, y + 3.5 * mm)
            canvas.line(left, y + 3.5 * mm, left + 3.5 * mm, y)
        canvas.drawString(left + 5 * mm, y + 0.5 * mm, label)
    y -= 14 * mm
    canvas.setLineWidth(0.5)
    for index, label in enumerate(["Ansvarig sjuksköterska", "Kommunens biståndshandläggare"]):
        left = (15 + 92 * index) * mm
        canvas.line(left, y, left + 80 * mm, y)
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(left, y - 3.5 * mm, f"{label}, namnförtydligande och telefon 0771-{number:02d}00 00")


def discharge_planning(pages: int = 20) -> bytes:
    """Return the discharge-planning form as a PDF of ``pages`` A4 pages."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    logo = _logo()
    for number in range(1, pages + 1):
        _form_page(canvas, number, pages, logo)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _photo(width: int, height: int, generator: np.random.Generator) -> Image.Image:
    """A photograph-like picture: smooth shapes and gradients, soft edges, sensor noise."""
    tone = np.zeros((height, width))
    for scale, weight in ((6, 0.4), (24, 0.8), (96, 1.0)):
        noise = generator.random((height // scale + 2, width // scale + 2))
        field = Image.fromarray((noise * 255).astype(np.uint8)).resize(
            (width + 2 * scale, height + 2 * scale), Image.Resampling.BICUBIC
        )
        tone += weight * np.asarray(field, dtype=np.float64)[scale : scale + height, scale : scale + width] / 255
    tone = (tone - tone.min()) / np.ptp(tone)
    picture = Image.fromarray((40 + 180 * tone).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(6):  # objects in the scene: discs with hard edges
        x, y, r = int(generator.integers(0, width)), int(generator.integers(0, height)), int(generator.integers(20, 90))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(generator.integers(20, 235)))
    picture = picture.filter(ImageFilter.GaussianBlur(1.2))
    noisy = np.asarray(picture, dtype=np.float64) + generator.normal(0, 5, (height, width))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def scanned_photo_page() -> bytes:
    """Return one A4 page that is a greyscale JPEG scan: a photo above, typed text below."""
    generator = np.random.default_rng(7)
    dpi = 150
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    paper = generator.normal(236, 3, (height, width))
    scan = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    scan.paste(_photo(width - 2 * 120, height // 2 - 120, generator), (120, 120))
    draw = ImageDraw.Draw(scan)
    font = ImageFont.load_default(size=24)
    for line in range(20):
        # Pillow's built-in font has no å, ä, ö: typed as on an old typewriter.
        typed = _sentence(generator, 10)[:80].translate(str.maketrans("åäöÅÄÖ", "aaoAAO"))
        draw.text((120, height // 2 + 60 + line * 36), typed, fill=25, font=font)
    scan = scan.filter(ImageFilter.GaussianBlur(0.6)).rotate(0.4, fillcolor=236)  # a scanner's slight skew
    jpeg = io.BytesIO()
    scan.save(jpeg, "JPEG", quality=85, dpi=(dpi, dpi))
    jpeg.seek(0)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.drawImage(ImageReader(jpeg), 0, 0, WIDTH, HEIGHT)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
