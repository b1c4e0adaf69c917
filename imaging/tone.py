"""Continuous tone on a black-and-white page: where the page has photos, and how they are screened.

Where: PDFium is asked for the page's image objects and shadings (gradient fills, the
``sh`` operator), descending into form XObjects, and each one's bounding box is mapped
onto the bitmap through the same matrix the page is rendered with. Only inside those
boxes may a pixel be dithered; everything else (text, rules, flat form shading) keeps
the plain threshold, so text stays as sharp as it was and flat 20 % shading still drops
out. Asking the PDF is exact and cheap (0.4 ms for a benchmark form page of 147
objects); statistics on the grey render would have to guess, and guess wrong on large
grey text or on hatching. An image is dithered only if it is continuous tone: at least
`PHOTO_SHARE` of its pixels mid-grey. A black-and-white logo or a scanned page of text
is thresholded like text (clean edges, small codes).

Inside a photo, text is still text: a 16 x 16 block with near-black (96 and darker) and
paper-white (192 and lighter) in it and little in between is thresholded, and so is a
neighbour of such a block that has ink or paper (glyph edges, thick strokes). The
screen's 8-pel cell would otherwise break 9 pt letters up. On the benchmark's scanned
page this marks every inked block of the typed text and none inside the photo; where a
dark part of the photo meets the paper, a few edge blocks come out thresholded.

How: a clustered-dot ordered dither, 8 x 8 cell (65 grey levels, a 25-lines-per-inch
screen across at 204 dpi), with the tone stretched so 32 and darker is solid black and
224 and lighter is white (paper grey and JPEG noise in a scan go white and code as
nothing). Ordered dither is a pure per-pixel comparison, so each box is done on its
own, and the pattern is anchored to the page, so boxes that overlap agree.

Measured on the benchmark's scanned page (a photo above, typed text below, one JPEG;
the whole page under each screen; bytes as coded by `drivers.t4` at fine resolution;
``bench/bench_imaging.py --screens``):

==========================  ==========  ==========  ==============================
screen                      MH          MMR         notes
==========================  ==========  ==========  ==============================
50 % threshold              77,669      38,689      silhouettes: no tone at all
Floyd-Steinberg (Pillow)    853,504     874,245     8 min at 14,400 bit/s
Bayer 8 x 8 dispersed       869,247     971,266     worst for run-length codes
clustered dot 8 x 8         152,396     129,463     chosen: 6.8x smaller than F-S
==========================  ==========  ==========  ==============================

With the text found and thresholded, faxd codes that page in 124 KB of MMR (69 s at
14,400 bit/s); Ghostscript's tiffg3 makes 335 KB of MH of it. In an exploration on a
synthetic all-photo page a 4 x 4 clustered dot coded larger in MMR than in MH
(checkerboards defeat the vertical modes) and a 6-row line screen was smaller still
(180 KB against 307 KB) but reads as stripes, so neither was taken.

Error diffusion scatters isolated pixels, which run-length coding pays for pixel by
pixel; a clustered dot keeps black in runs of up to 8. A photo still costs minutes on
the line, which is what it costs; forms without images are not affected at all.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from drivers.page import FAX_WIDTH

#: Grey at or below this is solid black inside a photo, at or above `WHITE` white.
BLACK, WHITE = 32, 224

#: An image is screened if at least this share of its pixels is mid-grey (64..191).
PHOTO_SHARE = 0.2
_MID_LOW, _MID_HIGH = 64, 192

#: Text inside a photo: blocks of this many pels square with ink and paper in them.
TEXT_BLOCK = 16
_INK, _PAPER = 96, 192
_TEXT_MIDDLE = 0.4  # at most this share of a text block's pixels is between ink and paper

#: FPDF_PageToDevice works in whole device units; asking for a page this many times
#: its size in points gives 1/64 pt precision.
_PRECISION = 64

#: Points: object bounds are clamped to this (14 m), far beyond any page faxd renders.
_FAR = 40_000.0

_TONE_TYPES = (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_SHADING)

Matrix = tuple[float, float, float, float, float, float]


def _clustered_dot(size: int) -> npt.NDArray[np.int64]:
    # Rank each cell position by its distance from the cell centre: the centre turns
    # black last, the corners first, so black grows as one dot around the corners
    # (shared by four cells) and white shrinks as one dot in the middle.
    centre = (size - 1) / 2
    rows, columns = np.mgrid[0:size, 0:size]
    distance = (rows - centre) ** 2 + (columns - centre) ** 2
    order = np.argsort(distance.ravel() + 1e-3 * np.arange(size * size), kind="stable")
    ranks = np.empty(size * size, dtype=np.int64)
    ranks[order] = np.arange(size * size)
    return ranks.reshape(size, size)


CELL = 8
_RANKS = _clustered_dot(CELL)
#: The threshold of every pixel of one cell-high band across the scan line; a pixel is
#: black if its grey is below the threshold at its place.
_SCREEN: npt.NDArray[np.uint8] = np.tile(
    np.rint(BLACK + (_RANKS + 0.5) / _RANKS.size * (WHITE - BLACK)).astype(np.uint8),
    (1, FAX_WIDTH // CELL + 1),
)[:, :FAX_WIDTH]


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle of bitmap pixels: rows ``top:bottom``, columns ``left:right``."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)


def screen(grey: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.bool_]:
    """Return the clustered-dot dither of ``grey`` (the pixels of ``box``), True = black."""
    rows = np.arange(box.top, box.bottom) % CELL
    thresholds = _SCREEN[rows][:, box.left : box.right]
    return grey < thresholds


def halftone(grey: npt.NDArray[np.uint8], box: Box, threshold: int) -> npt.NDArray[np.bool_]:
    """Return the black-and-white of photo ``grey`` (the pixels of ``box``), True = black:
    screened, except text-like blocks, which are thresholded at ``threshold``."""
    dots = screen(grey, box)
    text = _text_blocks(grey, box)
    if text.any():
        dots[text] = grey[text] < threshold
    return dots


def _text_blocks(grey: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.bool_]:
    """Return which pixels of ``grey`` are in a text-like block (see the module docstring)."""
    # Blocks sit on the page's grid, not the box's, so overlapping boxes agree; the
    # edge is padded with its own values, not white, which would fake a contrast.
    top, left = box.top % TEXT_BLOCK, box.left % TEXT_BLOCK
    height, width = grey.shape
    bottom = -(top + height) % TEXT_BLOCK
    right = -(left + width) % TEXT_BLOCK
    padded = np.pad(grey, ((top, bottom), (left, right)), mode="edge")
    rows, columns = padded.shape[0] // TEXT_BLOCK, padded.shape[1] // TEXT_BLOCK
    blocks = padded.reshape(rows, TEXT_BLOCK, columns, TEXT_BLOCK)
    darkest, lightest = blocks.min(axis=(1, 3)), blocks.max(axis=(1, 3))
    # Mostly ink or paper, little in between: the edge of a photo against the paper has
    # both ink and paper too, but a good part of it is the photo's mid-grey.
    middle = ((blocks > _INK) & (blocks < _PAPER)).mean(axis=(1, 3))
    inked, light, crisp = darkest <= _INK, lightest >= _PAPER, middle < _TEXT_MIDDLE
    text = inked & light & crisp
    # A glyph's edge often falls in the next block with no ink of its own, and a thick
    # stroke can fill a block with no paper in it: a neighbour with ink or paper goes
    # with the text; a flat mid-grey one (the photo beside it) keeps its screen.
    grown = np.pad(text, 1)
    near = np.zeros_like(text)
    for down in range(3):
        for across in range(3):
            near |= grown[down : down + rows, across : across + columns]
    text |= near & (inked | light)
    full = np.repeat(np.repeat(text, TEXT_BLOCK, axis=0), TEXT_BLOCK, axis=1)
    return full[top : top + height, left : left + width]


def is_continuous_tone(grey: npt.NDArray[np.uint8]) -> bool:
    """Return whether ``grey`` is photo-like: enough of it mid-grey to be worth a screen."""
    if grey.size == 0:
        return False
    middle = np.count_nonzero((grey >= _MID_LOW) & (grey < _MID_HIGH))
    return bool(middle >= PHOTO_SHARE * grey.size)


def tone_boxes(page: pdfium.PdfPage, matrix: Matrix, rows: int) -> list[Box]:
    """Return the boxes, in pixels of a bitmap ``rows`` high rendered through ``matrix``,
    of the page's images and shadings. The caller holds the PDFium lock."""
    boxes = []
    for bounds in _tone_bounds(page):
        if not all(math.isfinite(value) for value in bounds):
            continue  # a degenerate matrix in a broken PDF: no box, the page is thresholded
        # Far outside any page is as good as the page's edge, and keeps PDFium's integer
        # device coordinates from overflowing.
        left, bottom, right, top = (min(max(value, -_FAR), _FAR) for value in bounds)
        corners = [_to_pixels(page, matrix, x, y) for x in (left, right) for y in (bottom, top)]
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        box = Box(
            top=max(0, int(np.floor(min(ys)))),
            bottom=min(rows, int(np.ceil(max(ys)))),
            left=max(0, int(np.floor(min(xs)))),
            right=min(FAX_WIDTH, int(np.ceil(max(xs)))),
        )
        if box.top < box.bottom and box.left < box.right:
            boxes.append(box)
    return boxes


def _tone_bounds(page: pdfium.PdfPage) -> Iterator[tuple[float, float, float, float]]:
    """Yield each image's and shading's bounds in page space (left, bottom, right, top)."""
    # Objects inside a form XObject report bounds in the form's space: carry the forms'
    # matrices down so every box comes out in page space. Raw calls, not pypdfium2's
    # object wrappers: a form page has thousands of text objects, all of them skipped.
    identity: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack: list[tuple[Any, Matrix]] = [(None, identity)]
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    form_matrix = pdfium_c.FS_MATRIX()
    while stack:
        form, to_page = stack.pop()
        count = pdfium_c.FPDFFormObj_CountObjects(form) if form else pdfium_c.FPDFPage_CountObjects(page)
        for index in range(max(0, count)):
            item = pdfium_c.FPDFFormObj_GetObject(form, index) if form else pdfium_c.FPDFPage_GetObject(page, index)
            if not item:
                continue
            kind = pdfium_c.FPDFPageObj_GetType(item)
            if kind in _TONE_TYPES:
                if not pdfium_c.FPDFPageObj_GetBounds(item, left, bottom, right, top):
                    continue
                points = [_apply(to_page, x, y) for x in (left.value, right.value) for y in (bottom.value, top.value)]
                yield (
                    min(x for x, _ in points),
                    min(y for _, y in points),
                    max(x for x, _ in points),
                    max(y for _, y in points),
                )
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and pdfium_c.FPDFPageObj_GetMatrix(item, form_matrix):
                m = form_matrix
                stack.append((item, _concat((m.a, m.b, m.c, m.d, m.e, m.f), to_page)))


def _to_pixels(page: pdfium.PdfPage, matrix: Matrix, x: float, y: float) -> tuple[float, float]:
    # Page space to display space (y down, /Rotate and CropBox applied), as PDFium does
    # it before the render matrix: on the page's size truncated to whole points, which
    # is what FPDF_RenderPageBitmapWithMatrix uses too.
    width, height = (int(side) for side in page.get_size())
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(
        page,
        0,
        0,
        width * _PRECISION,
        height * _PRECISION,
        0,
        ctypes.c_double(x),
        ctypes.c_double(y),
        device_x,
        device_y,
    )
    return _apply(matrix, device_x.value / _PRECISION, device_y.value / _PRECISION)


def _apply(matrix: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def _concat(inner: Matrix, outer: Matrix) -> Matrix:
    """Return the matrix that applies ``inner`` and then ``outer``."""
    a, b, c, d, e, f = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )
