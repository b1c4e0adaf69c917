"""Photos are screened, text and line art are not: where the screen goes and what it does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pypdf
import pytest
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from drivers.page import FAX_WIDTH, Resolution
from imaging import render_pdf
from imaging.tone import BLACK, WHITE, Box, is_continuous_tone, screen
from tests.imaging.pdfs import Draw, pdf, save

A4_OFFSET = (FAX_WIDTH - 210 / 25.4 * 204) / 2


def grey_image(value: int | None = None) -> ImageReader:
    """A 200 x 100 grey image: one ``value`` all over, or a left-to-right ramp."""
    if value is None:
        pixels = np.tile(np.linspace(0, 255, 200).astype(np.uint8), (100, 1))
    else:
        pixels = np.full((100, 200), value, dtype=np.uint8)
    return ImageReader(Image.fromarray(pixels))


def text(canvas: Canvas, width: float, height: float) -> None:
    canvas.setFont("Helvetica", 10)
    for line in range(8):
        canvas.drawString(20 * mm, (60 + 6 * line) * mm, f"Läkemedelslista rad {line}: Alvedon 500 mg 1 x 3")


def with_images(canvas: Canvas, width: float, height: float) -> None:
    text(canvas, width, height)
    canvas.drawImage(grey_image(128), 20 * mm, 200 * mm, 80 * mm, 40 * mm)  # uniform 50 %
    canvas.drawImage(grey_image(), 110 * mm, 200 * mm, 80 * mm, 40 * mm)  # a ramp


def only(path: Path, resolution: Resolution = Resolution.FINE) -> npt.NDArray[np.bool_]:
    (page,) = list(render_pdf(path, resolution=resolution))
    return page.pixels


def area_mm(
    pixels: npt.NDArray[np.bool_],
    left: float,
    top: float,
    width: float,
    height: float,
    resolution: Resolution = Resolution.FINE,
    inset: int = 3,
) -> npt.NDArray[np.bool_]:
    """The pixels of a rectangle given in mm from the top-left of an A4 page, ``inset`` px inside."""
    x, y = 204 / 25.4, resolution.value / 25.4
    return pixels[
        round(top * y) + inset : round((top + height) * y) - inset,
        round(A4_OFFSET + left * x) + inset : round(A4_OFFSET + (left + width) * x) - inset,
    ]


def mixed(region: npt.NDArray[np.bool_]) -> bool:
    return bool(0.3 < region.mean() < 0.7)


@pytest.mark.parametrize("resolution", list(Resolution))
def test_photo_is_screened_and_text_is_not(tmp_path: Path, resolution: Resolution) -> None:
    """Text pixels are exactly those of the page without the photo; a 50 % grey photo is half black."""
    plain = only(save(tmp_path, pdf((A4, text)), "text.pdf"), resolution)
    photo = only(save(tmp_path, pdf((A4, with_images)), "photo.pdf"), resolution)
    image_rows = round(100 * resolution.value / 25.4)  # the images are in the top 100 mm
    assert np.array_equal(photo[image_rows:], plain[image_rows:])
    assert plain[image_rows:].any()  # there was text to compare
    uniform = area_mm(photo, 20, 297 - 240, 80, 40, resolution)
    assert mixed(uniform)  # a plain threshold would have made it all white
    ramp = area_mm(photo, 110, 297 - 240, 80, 40, resolution)
    darkness = ramp.mean(axis=0)
    assert darkness[:10].mean() > 0.9 and darkness[-10:].mean() < 0.1  # dark on the left, light on the right
    steps = np.convolve(darkness, np.ones(16) / 16, "valid")[::16]
    assert np.all(np.diff(steps) <= 0.02)  # and in between, lighter step by step


def test_screen_stays_inside_the_image(tmp_path: Path) -> None:
    """No dot falls outside the image's box (within a pixel of rounding)."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.drawImage(grey_image(128), 20 * mm, 200 * mm, 80 * mm, 40 * mm)

    pixels = only(save(tmp_path, pdf((A4, draw))))
    rows, columns = np.nonzero(pixels)
    x, y = 204 / 25.4, 196 / 25.4
    assert rows.min() >= 57 * y - 1 and rows.max() <= 97 * y + 1
    assert columns.min() >= A4_OFFSET + 20 * x - 1 and columns.max() <= A4_OFFSET + 100 * x + 1


def test_line_art_image_is_thresholded_not_screened(tmp_path: Path) -> None:
    """A black-and-white picture (a logo, a scanned line drawing) keeps solid black areas."""
    logo = np.full((100, 200), 255, dtype=np.uint8)
    logo[20:80, 20:180] = 0

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.drawImage(ImageReader(Image.fromarray(logo)), 20 * mm, 200 * mm, 80 * mm, 40 * mm)

    pixels = only(save(tmp_path, pdf((A4, draw))))
    inner = area_mm(pixels, 20 + 80 * 0.15, 297 - 240 + 40 * 0.25, 80 * 0.7, 40 * 0.5)
    assert inner.all()


def test_image_in_a_form_xobject_on_a_turned_page_is_found(tmp_path: Path) -> None:
    """Images nested in a form XObject, on a page with /Rotate 90, are screened where they land."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.beginForm("photo")
        canvas.drawImage(grey_image(128), 0, 0, 80 * mm, 40 * mm)
        canvas.endForm()
        canvas.saveState()
        canvas.translate(20 * mm, 200 * mm)
        canvas.doForm("photo")
        canvas.restoreState()

    writer = pypdf.PdfWriter(clone_from=save(tmp_path, pdf((A4, draw))))
    writer.pages[0].rotate(90)  # displayed landscape, so faxd turns it back upright
    path = tmp_path / "rotated.pdf"
    writer.write(path)
    pixels = only(path)
    assert mixed(area_mm(pixels, 20, 297 - 240, 80, 40))
    assert not np.delete(pixels, np.s_[round(55 * 196 / 25.4) : round(99 * 196 / 25.4)], axis=0).any()


def test_gradient_shading_is_screened(tmp_path: Path) -> None:
    """A gradient fill (the sh operator) is continuous tone too."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.saveState()
        path = canvas.beginPath()
        path.rect(20 * mm, 200 * mm, 80 * mm, 40 * mm)
        canvas.clipPath(path, stroke=0, fill=0)
        canvas.linearGradient(20 * mm, 0, 100 * mm, 0, ((0.3, 0.3, 0.3), (0.7, 0.7, 0.7)), extend=False)
        canvas.restoreState()

    pixels = only(save(tmp_path, pdf((A4, draw))))
    assert mixed(area_mm(pixels, 20, 297 - 240, 80, 40))


def test_screen_levels() -> None:
    """The screen is solid at the ends of the stretched range and proportional in between."""
    box = Box(top=5, bottom=69, left=3, right=67)  # 8 x 8 cells, not aligned to the page
    for grey, expected in ((BLACK, 1.0), (WHITE, 0.0), (0, 1.0), (255, 0.0), ((BLACK + WHITE) // 2, 0.5)):
        dots = screen(np.full((64, 64), grey, dtype=np.uint8), box)
        assert dots.mean() == pytest.approx(expected, abs=1 / 64)


def test_continuous_tone_is_mostly_mid_grey() -> None:
    """Text-like pictures (black on white) are not photos; mid-grey ones are."""
    page = np.full((100, 100), 255, dtype=np.uint8)
    page[::10] = 0
    assert not is_continuous_tone(page)
    assert is_continuous_tone(np.full((100, 100), 128, dtype=np.uint8))
    assert not is_continuous_tone(np.zeros((0, 0), dtype=np.uint8))


def test_typed_text_in_a_scanned_photo_stays_sharp(tmp_path: Path) -> None:
    """In one image that is half photo, half typed text, the text half is thresholded, not screened:
    pixel for pixel as the same text is without the photo (an image that is not continuous tone)."""
    # A 127 dpi scan (800 x 400 pixels over 160 x 80 mm) of paper with "typed text" on
    # its lower half: letters 3 mm tall, strokes 0.5 mm, soft edges as a scanner gives.
    typed = np.full((400, 800), 240, dtype=np.uint8)
    for line in range(8):
        for letter in range(60):
            top, left = 220 + 22 * line, 10 + 13 * letter
            typed[top : top + 15, left : left + 3] = 20
            typed[top + 12 : top + 15, left : left + 9] = 20
    typed = np.asarray(Image.fromarray(typed).filter(ImageFilter.GaussianBlur(0.8)))
    scan = typed.copy()
    scan[:200] = 128  # the photo: flat 50 % grey

    def page_of(picture: npt.NDArray[np.uint8]) -> Draw:
        def draw(canvas: Canvas, width: float, height: float) -> None:
            canvas.drawImage(ImageReader(Image.fromarray(picture)), 20 * mm, 157 * mm, 160 * mm, 80 * mm)

        return draw

    with_photo = only(save(tmp_path, pdf((A4, page_of(scan))), "scan.pdf"))
    text_only = only(save(tmp_path, pdf((A4, page_of(typed))), "typed.pdf"))
    assert mixed(area_mm(with_photo, 20, 297 - 237, 160, 38))  # the photo half is screened
    text_half = area_mm(with_photo, 20, 297 - 195, 160, 38)
    assert 0.05 < text_half.mean() < 0.6
    assert np.array_equal(text_half, area_mm(text_only, 20, 297 - 195, 160, 38))
