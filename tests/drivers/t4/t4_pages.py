"""Bitmaps and libtiff helpers shared by the T.4 codec tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from drivers.t4 import Coding
from drivers.t4.tiff import wrap_tiff

Bitmap = npt.NDArray[np.bool_]
WIDTH = 1728


def needs(tool: str) -> pytest.MarkDecorator:
    """Skip unless the libtiff tool is installed (scripts/setup.sh installs libtiff-tools)."""
    return pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} not found: apt-get install libtiff-tools")


def patterns(width: int = WIDTH) -> dict[str, Bitmap]:
    """Named hand-made pages that hit every code path: each mode, long runs, edges."""
    rows = 12
    page: dict[str, Bitmap] = {}
    page["empty page"] = np.zeros((0, width), dtype=bool)
    page["all white"] = np.zeros((rows, width), dtype=bool)
    page["all black"] = np.ones((rows, width), dtype=bool)
    columns = np.arange(width)
    page["alternating pixels"] = (columns[None, :] + np.arange(rows)[:, None]) % 2 == 1
    page["alternating columns"] = np.broadcast_to(columns % 2 == 0, (rows, width)).copy()
    corners = np.zeros((rows, width), dtype=bool)
    corners[0, 0] = corners[0, -1] = corners[-1, 0] = corners[-1, -1] = True
    corners[5, 0] = corners[6, -1] = True
    page["single pixels at edges"] = corners
    # Diagonals and shifting blocks give vertical modes -3..3 and horizontal mode.
    for shift in (1, 2, 3, 4, -1, -2, -3, -4):
        block = np.zeros((rows, width), dtype=bool)
        for row in range(rows):
            start = (width // 3 + shift * row) % width
            block[row, start : start + width // 4] = True
        page[f"block shifting {shift}"] = block
    # Pass mode: a black run on the reference line with none under it.
    passes = np.zeros((rows, width), dtype=bool)
    passes[::2, width // 4 : width // 4 + 9] = True
    passes[::2, width // 2 : width // 2 + 3] = True
    page["pass mode"] = passes
    starts_black = np.zeros((rows, width), dtype=bool)
    starts_black[:, : width // 5] = True
    page["lines starting black"] = starts_black
    ends_black = np.zeros((rows, width), dtype=bool)
    ends_black[:, -(width // 7) - 1 :] = True
    page["lines ending black"] = ends_black
    return page


def text_form_page(height: int = 2290) -> Bitmap:
    """A fine-resolution A4 form: a title, boxed fields and body text, True = black."""
    image = Image.new("1", (WIDTH, height), 1)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    for row in range(5):
        top = 100 + row * 90
        draw.rectangle((100, top, WIDTH - 100, top + 70), outline=0, width=3)
        draw.text((120, top + 18), f"Field {row}: Patient / MRN 00{row}4417", font=font, fill=0)
    for row in range((height - 600) // 32):
        draw.text((100, 600 + row * 32), "Referral: 0123456789 lorem ipsum dolor", font=font, fill=0)
    return ~np.array(image)


@st.composite
def bitmaps(draw: st.DrawFn, widths: st.SearchStrategy[int] | None = None) -> Bitmap:
    """Pages of random size built from random black spans, random noise, or both."""
    width = draw(widths if widths is not None else st.sampled_from([1, 2, 7, 64, 1728]) | st.integers(1, 300))
    height = draw(st.integers(0, 8))
    page = np.zeros((height, width), dtype=bool)
    for row in range(height):
        spans = draw(st.lists(st.tuples(st.integers(0, width), st.integers(0, width)), max_size=6))
        for start, end in spans:
            page[row, min(start, end) : max(start, end)] ^= True
        if draw(st.booleans()):
            seed = draw(st.integers(0, 2**32 - 1))
            noise = np.random.default_rng(seed).random(width) < draw(st.sampled_from([0.02, 0.5, 0.98]))
            page[row] ^= noise
        if row and draw(st.integers(0, 3)) == 0:
            page[row] = page[row - 1]  # identical lines: all V0
    return page


def libtiff_decode(tmp_path: Path, data: bytes, coding: Coding, shape: tuple[int, int],
                   eol_aligned: bool = False) -> tuple[Bitmap, str]:  # fmt: skip
    """Decode our data with libtiff: wrap in a TIFF, ``tiffcp -c none``, read the pixels.

    Returns (bitmap, tiffcp's stderr).  Pillow reads the uncompressed copy without libtiff.
    """
    height, width = shape
    source, target = tmp_path / "coded.tif", tmp_path / "plain.tif"
    source.write_bytes(wrap_tiff(data, coding, width, height, eol_aligned=eol_aligned))
    done = subprocess.run(["tiffcp", "-c", "none", str(source), str(target)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return read_bilevel(target), done.stderr


def read_bilevel(path: Path) -> Bitmap:
    """Return a bilevel TIFF's pixels, True = black, whatever its photometric tag."""
    with Image.open(path) as image:
        assert image.mode == "1"
        return ~np.array(image)  # Pillow maps both photometrics to True = white
