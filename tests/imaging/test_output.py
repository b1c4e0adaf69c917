"""Pages to TIFF (archive), PNG and PDF (previews), read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image, ImageSequence

from drivers.page import FAX_WIDTH, FaxPage, Resolution
from drivers.t4 import Coding
from imaging import write_pdf, write_png, write_tiff


def pages(count: int, resolution: Resolution = Resolution.FINE) -> list[FaxPage]:
    rows = 2292 if resolution is Resolution.FINE else 1146
    generator = np.random.default_rng(count)
    made = []
    for _ in range(count):
        pixels = np.zeros((rows, FAX_WIDTH), dtype=np.bool_)
        pixels[100:300, 200:900] = generator.random((200, 700)) < 0.3
        made.append(FaxPage(pixels, resolution))
    return made


@pytest.mark.parametrize(
    ("coding", "compression", "options"),
    [
        ("mh", "group3", 0),
        ("mr", "group3", 1),
        (Coding.MMR, "group4", None),
    ],
)
@pytest.mark.parametrize("resolution", list(Resolution))
def test_tiff_round_trips_pages_coding_and_resolution(
    tmp_path: Path, coding: Coding | str, compression: str, options: int | None, resolution: Resolution
) -> None:
    """Every page reads back pixel for pixel, with its CCITT coding and its dpi."""
    written = pages(3, resolution)
    path = write_tiff(written, tmp_path / "fax.tif", coding=coding)
    with Image.open(path) as image:
        assert image.n_frames == 3
        # The iterator seeks one image object through the pages, so compare as it goes.
        for frame, page in zip(ImageSequence.Iterator(image), written, strict=True):
            assert frame.info["compression"] == compression
            assert frame.tag_v2[262] == 0  # WhiteIsZero, as fax data and TIFF Class F have it
            assert frame.tag_v2.get(292, 0 if options is not None else None) == options
            assert frame.info["dpi"] == pytest.approx(resolution.dpi)
            assert np.array_equal(np.asarray(frame.convert("1")) == 0, page.pixels)
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed into place


def test_png_one_per_page_with_normal_rows_doubled(tmp_path: Path) -> None:
    """Several pages give numbered PNGs; a normal page is shown at its printed shape."""
    written = write_png(pages(2, Resolution.NORMAL), tmp_path / "preview.png")
    assert [p.name for p in written] == ["preview-001.png", "preview-002.png"]
    with Image.open(written[0]) as image:
        assert image.size == (FAX_WIDTH, 2292)
    single = write_png(pages(1), tmp_path / "one.png")
    assert single == [tmp_path / "one.png"]


def test_pdf_preview_has_the_pages_at_printed_size(tmp_path: Path) -> None:
    """The preview PDF has one page per fax page, 215 x 297 mm."""
    (path,) = write_pdf(pages(3), tmp_path / "preview.pdf")
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 3
    box = reader.pages[0].mediabox
    assert float(box.width) * 25.4 / 72 == pytest.approx(215.1, abs=0.5)
    assert float(box.height) * 25.4 / 72 == pytest.approx(297.0, abs=0.5)


def test_no_pages_is_an_error(tmp_path: Path) -> None:
    """Writing nothing is a caller's mistake, not an empty file."""
    for write in (write_tiff, write_png, write_pdf):
        with pytest.raises(ValueError, match="no pages"):
            write([], tmp_path / "x")
