"""Rendering PDF pages to fax pages: size, position, orientation, tone."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pypdf
import pytest
from reportlab.lib.pagesizes import A3, A4, A6, landscape, letter
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from drivers.page import FAX_WIDTH, Resolution
from imaging import place, render_pdf
from tests.imaging.pdfs import blank, border, form, pdf, rectangle_mm, save

A4_OFFSET = (FAX_WIDTH - 210 / 25.4 * 204) / 2  # A4 is 1687 pels, centred on the 1728-pel line


def only(path: Path, resolution: Resolution = Resolution.FINE) -> npt.NDArray[np.bool_]:
    (page,) = list(render_pdf(path, resolution=resolution))
    assert page.resolution is resolution
    return page.pixels


def bounds(pixels: npt.NDArray[np.bool_]) -> tuple[int, int, int, int]:
    rows, columns = np.nonzero(pixels)
    return int(rows.min()), int(rows.max()), int(columns.min()), int(columns.max())


@pytest.mark.parametrize(("resolution", "rows"), [(Resolution.FINE, 2292), (Resolution.NORMAL, 1146)])
def test_a4_is_1728_wide_and_a4_long(tmp_path: Path, resolution: Resolution, rows: int) -> None:
    """An A4 page maps 1:1: 1728 pels across and 297 mm of rows down."""
    pixels = only(save(tmp_path, pdf((A4, blank))), resolution)
    assert pixels.shape == (rows, FAX_WIDTH)
    assert pixels.dtype == np.bool_


@pytest.mark.parametrize("resolution", list(Resolution))
def test_rectangle_lands_where_it_is_drawn(tmp_path: Path, resolution: Resolution) -> None:
    """A black rectangle 30 mm from the left and 40 mm from the top lands on those pixels, within 2 px."""
    pixels = only(save(tmp_path, pdf((A4, rectangle_mm(30, 40, 50, 20)))), resolution)
    x_dpmm, y_dpmm = 204 / 25.4, resolution.value / 25.4
    expected = (40 * y_dpmm, 60 * y_dpmm - 1, A4_OFFSET + 30 * x_dpmm, A4_OFFSET + 80 * x_dpmm - 1)
    assert np.allclose(bounds(pixels), expected, atol=2)
    top, bottom, left, right = bounds(pixels)
    assert pixels[top + 1 : bottom, left + 1 : right].all()  # solid, not dithered


def frame_is_whole(pixels: npt.NDArray[np.bool_], left: int, right: int) -> None:
    """Each edge of the page area [left, right] x all rows carries the border, end to end."""
    edges = {
        "top": pixels[0, left : right + 1],
        "bottom": pixels[-1, left : right + 1],
        "left": pixels[:, left],
        "right": pixels[:, right],
    }
    for name, edge in edges.items():
        assert edge.mean() > 0.99, f"the {name} edge of the border is cut"


def test_landscape_is_turned_to_fit_at_true_size(tmp_path: Path) -> None:
    """A4 landscape is turned a quarter counter-clockwise: true size, nothing cut, top on the left."""
    pixels = only(save(tmp_path, pdf((landscape(A4), border()))))
    assert pixels.shape == (2292, FAX_WIDTH)
    left, right = round(A4_OFFSET), round(A4_OFFSET + 210 / 25.4 * 204) - 1
    assert not pixels[:, : left - 1].any() and not pixels[:, right + 2 :].any()
    frame_is_whole(pixels, left, right)
    # The top-left corner mark of the landscape page is now at the bottom left.
    corner = 20 * 204 / 25.4
    assert pixels[-60:, left + 60 : left + int(corner) - 10].all()
    assert not pixels[100:300, left + 60 : left + 150].any()


def test_letter_is_shrunk_to_the_scan_line_without_cropping(tmp_path: Path) -> None:
    """Letter (216 mm) is a little wider than the scan line: scaled to 1728, aspect kept, border whole."""
    pixels = only(save(tmp_path, pdf((letter, border()))))
    scale = FAX_WIDTH / (8.5 * 204)
    assert pixels.shape == (round(11 * 196 * scale), FAX_WIDTH)
    frame_is_whole(pixels, 0, FAX_WIDTH - 1)


def test_a3_is_shrunk_with_aspect_kept(tmp_path: Path) -> None:
    """A3 portrait is shrunk to the scan line; its length shrinks in proportion."""
    pixels = only(save(tmp_path, pdf((A3, border()))))
    assert pixels.shape == (pytest.approx(FAX_WIDTH * 420 / 297 * 196 / 204, abs=1), FAX_WIDTH)
    frame_is_whole(pixels, 0, FAX_WIDTH - 1)


def test_small_page_keeps_its_true_size(tmp_path: Path) -> None:
    """A6 is not blown up: 105 mm across at 204 dpi, centred."""
    pixels = only(save(tmp_path, pdf((A6, border()))))
    width = 105 / 25.4 * 204
    top, bottom, left, right = bounds(pixels)
    assert right - left + 1 == pytest.approx(width, abs=2)
    assert left == pytest.approx((FAX_WIDTH - width) / 2, abs=2)
    assert bottom - top + 1 == pytest.approx(148 / 25.4 * 196, abs=2)


def test_page_rotate_attribute_is_honoured(tmp_path: Path) -> None:
    """A portrait page stored with /Rotate 90 is displayed landscape, so it is turned back upright."""
    writer = pypdf.PdfWriter(clone_from=save(tmp_path, pdf((A4, rectangle_mm(30, 40, 50, 20)))))
    writer.pages[0].rotate(90)
    path = tmp_path / "rotated.pdf"
    writer.write(path)
    pixels = only(path)
    assert pixels.shape == (2292, FAX_WIDTH)
    # Displayed clockwise, turned back counter-clockwise: the rectangle is where it was drawn.
    expected = (40 * 196 / 25.4, 60 * 196 / 25.4 - 1, A4_OFFSET + 30 * 204 / 25.4, A4_OFFSET + 80 * 204 / 25.4 - 1)
    assert np.allclose(bounds(pixels), expected, atol=2)


@pytest.mark.parametrize("resolution", list(Resolution))
def test_hairline_survives_the_threshold(tmp_path: Path, resolution: Resolution) -> None:
    """A 0.1 pt rule is one pixel of black, not a grey that the threshold drops."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.setLineWidth(0.1)
        canvas.line(20 * mm, 100 * mm, 190 * mm, 100 * mm)
        canvas.line(20 * mm, 120 * mm, 20 * mm, 200 * mm)

    pixels = only(save(tmp_path, pdf((A4, draw))), resolution)
    row = round((297 - 100) * resolution.value / 25.4)
    assert pixels[row - 2 : row + 3, 200:1500].any(axis=0).all()
    column = round(A4_OFFSET + 20 * 204 / 25.4)
    top, bottom = round(100 * resolution.value / 25.4), round(170 * resolution.value / 25.4)
    assert pixels[top:bottom, column - 2 : column + 3].any(axis=1).all()


def test_light_shading_drops_out_and_dark_stays_black(tmp_path: Path) -> None:
    """Form shading (20 % grey) goes white so the text on it stays readable; 70 % grey is black."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.setFillGray(0.8)
        canvas.rect(20 * mm, 200 * mm, 50 * mm, 20 * mm, stroke=0, fill=1)
        canvas.setFillGray(0.3)
        canvas.rect(20 * mm, 100 * mm, 50 * mm, 20 * mm, stroke=0, fill=1)

    pixels = only(save(tmp_path, pdf((A4, draw))))
    light = pixels[round(80 * 196 / 25.4) : round(95 * 196 / 25.4), 200:500]
    dark = pixels[round(180 * 196 / 25.4) : round(195 * 196 / 25.4), 200:500]
    assert not light.any()
    assert dark.all()


def test_pages_come_one_at_a_time(tmp_path: Path) -> None:
    """render_pdf is a lazy iterator: a consumer can stop after the first page."""
    pages = render_pdf(save(tmp_path, form(3)))
    assert isinstance(pages, Iterator)
    first = next(pages)
    assert first.pixels.any()
    pages.close()  # type: ignore[attr-defined]  # a generator; closing it frees the document


def test_form_text_renders_black_on_white(tmp_path: Path) -> None:
    """A text form is mostly white with some black: text is neither lost nor flooded."""
    pages = list(render_pdf(save(tmp_path, form(2))))
    assert len(pages) == 2
    for page in pages:
        assert 0.01 < page.pixels.mean() < 0.2


@pytest.mark.parametrize(
    ("size", "rotated", "scale"),
    [
        ((595.28, 841.89), False, 1.0),  # A4
        ((841.89, 595.28), True, 1.0),  # A4 landscape
        ((612, 792), False, 1728 / (8.5 * 204)),  # Letter
        ((792, 612), True, 1728 / (8.5 * 204)),  # Letter landscape
        ((1728 * 72 / 204, 100), False, 1.0),  # exactly the scan line wide: never turned on rounding
        ((620, 600), False, 1728 / (620 * 204 / 72)),  # a hair too wide, near square: turning gains too little
    ],
)
def test_placement(size: tuple[float, float], rotated: bool, scale: float) -> None:
    """place() turns only for a real gain and never enlarges."""
    placement = place(*size, Resolution.FINE)
    assert placement.rotated is rotated
    assert placement.scale == pytest.approx(scale, rel=1e-6)


def test_cropbox_is_the_page(tmp_path: Path) -> None:
    """A page is what its CropBox shows: content outside it is not sent, the rest lands in place."""

    def draw(canvas: Canvas, width: float, height: float) -> None:
        canvas.rect(100, 600, 72, 72, stroke=0, fill=1)  # inside the crop box
        canvas.rect(0, 0, 50, 50, stroke=0, fill=1)  # outside it

    writer = pypdf.PdfWriter(clone_from=save(tmp_path, pdf((A4, draw))))
    writer.pages[0].cropbox = pypdf.generic.RectangleObject([100, 100, 400, 700])
    path = tmp_path / "cropped.pdf"
    writer.write(path)
    pixels = only(path)
    assert pixels.shape == (pytest.approx(600 * 196 / 72, abs=1), FAX_WIDTH)
    offset = (FAX_WIDTH - 300 * 204 / 72) / 2
    expected = ((700 - 672) * 196 / 72, (700 - 600) * 196 / 72 - 1, offset, offset + 72 * 204 / 72 - 1)
    assert np.allclose(bounds(pixels), expected, atol=2)


def test_threads_rendering_at_once_get_the_same_pages(tmp_path: Path) -> None:
    """Two modems' jobs rendering at the same time are serialised in PDFium, not corrupted."""
    path = save(tmp_path, form(3))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: [p.pixels for p in render_pdf(path)], range(4)))
    for pages in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(pages, results[0], strict=True))
