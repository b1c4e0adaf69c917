"""PDF pages to fax pages: fitted to the 1728-pel scan line, thresholded to black and white.

Geometry (ITU-T T.4 §2.2: 1728 pels over 215 mm; 3.85 or 7.7 lines/mm):
- A page is drawn at its true size (204 dpi across, 196 or 98 dpi down) when it fits the
  scan line, and centred, as a fax machine centres the sheet: A4 maps 1:1 to 1687 pels
  and 2292 rows (fine). A wider page is shrunk to 1728 pels, aspect kept, nothing cut.
  A small page is not enlarged: a receipt should come out the size of a receipt.
- A page is turned a quarter counter-clockwise when that lets it be drawn at least 5 %
  larger (A4 landscape: 72 % upright, true size turned). Counter-clockwise puts the top
  of the page on the left, as printers do for landscape (IPP orientation-requested 4).
- The page is its CropBox, as a viewer shows it; /Rotate is applied first.
- Pixels are not square, so pdfium renders through a matrix with separate x and y
  scales, straight into a bitmap of the final size: no resampling blur.

Normal resolution is rendered at fine and row pairs merged keeping the darker pixel, so
strokes thinner than a normal row (hyphens, the bar of an "e") are kept.

Tone: a plain threshold at 50 % grey (`THRESHOLD`), no dither, so text and rules stay
sharp. Form shading up to mid-grey drops out and leaves the black text on it readable;
coloured text (blue, red, green) is darker than that and stays black. Paths are drawn
without anti-aliasing so a hairline rule is one pixel of black, not a grey that the
threshold would drop. Inside the page's photos (image objects and gradient shadings
that really are continuous tone) a clustered-dot screen is used instead: see `tone`
for how they are found, which screen, and the sizes that decided it.

PDFium is not thread-safe, so every call into it holds `PDFIUM_LOCK`: a daemon that
renders for two modems at once serialises here rather than crashing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from drivers.page import FAX_WIDTH, FaxPage, Resolution
from imaging.diagnose import refusal_reason
from imaging.limits import DocumentRenderError, RenderLimits
from imaging.tone import Box, halftone, is_continuous_tone, tone_boxes

#: Grey levels (0 black .. 255 white) below this become black.
THRESHOLD = 128

HORIZONTAL_DPI = 204

#: A page is turned only if that draws it at least this much larger.
TURN_GAIN = 1.05

PDFIUM_LOCK = threading.Lock()

# FPDF_ANNOT: annotations with an appearance (filled-in form fields, stamps) are part of
# what a viewer shows and so of what is sent. FPDF_GRAYSCALE: render into 8-bit grey.
_FLAGS = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_GRAYSCALE | pdfium_c.FPDF_RENDER_NO_SMOOTHPATH


Matrix = tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a page lands on the fax: turned or not, its scale, its rows and pdfium matrix."""

    rotated: bool
    scale: float  # 1.0 is true size
    rows: int
    matrix: Matrix  # display space (points, y down) to bitmap pixels: a, b, c, d, e, f
    left: float  # the page's edges on the scan line, in pels
    right: float
    resolution: Resolution

    @property
    def length_mm(self) -> float:
        return self.rows / self.resolution.value * 25.4


def place(width_pt: float, height_pt: float, resolution: Resolution) -> Placement:
    """Return how a page of ``width_pt`` x ``height_pt`` (as displayed) goes on the fax."""
    x_dpp = HORIZONTAL_DPI / 72  # pixels per point across
    y_dpp = resolution.value / 72

    def fit(across: float) -> float:
        return min(1.0, FAX_WIDTH / (across * x_dpp))

    upright, turned = fit(width_pt), fit(height_pt)
    # A turned page makes the reader turn the sheet: only worth it for a real gain. The
    # margin also keeps a page exactly as wide as the scan line from turning on rounding.
    rotated = turned > upright * TURN_GAIN
    scale = turned if rotated else upright
    across, down = (height_pt, width_pt) if rotated else (width_pt, height_pt)
    sx, sy = x_dpp * scale, y_dpp * scale
    offset = (FAX_WIDTH - across * sx) / 2
    # The small tolerance keeps A4's 2291.999... rows at 2292, not 2293.
    rows = max(1, math.ceil(down * sy - 1e-6))
    if rotated:
        # Turned a quarter counter-clockwise: (x, y) -> (y, width - x) before scaling.
        matrix: Matrix = (0.0, -sy, sx, 0.0, offset, width_pt * sy)
    else:
        matrix = (sx, 0.0, 0.0, sy, offset, 0.0)
    return Placement(
        rotated=rotated,
        scale=scale,
        rows=rows,
        matrix=matrix,
        left=offset,
        right=offset + across * sx,
        resolution=resolution,
    )


def render_pdf(
    path: Path,
    *,
    resolution: Resolution = Resolution.FINE,
    limits: RenderLimits = RenderLimits(),
) -> Iterator[FaxPage]:
    """Yield the fax pages of the PDF at ``path`` one by one, so memory stays one page deep.

    Every page is checked (count, size, length, memory) before the first is rendered, so
    a document that cannot go is refused before any page of it is sent. Raises
    `DocumentRenderError` with a reason a person can read.
    """
    return render_document(path, resolution=resolution, limits=limits)


def render_document(
    source: Path | bytes,
    *,
    resolution: Resolution = Resolution.FINE,
    limits: RenderLimits = RenderLimits(),
) -> Iterator[FaxPage]:
    """As `render_pdf`, from a file or from PDF bytes (the cover sheet)."""
    with PDFIUM_LOCK:
        document = _open(source)
    try:
        with PDFIUM_LOCK:
            placements = _plan(document, resolution, limits)
        for index, placement in enumerate(placements):
            started = time.monotonic()
            with PDFIUM_LOCK:
                page = _load_page(document, index)
                try:
                    pixels = _render_page(page, placement)
                finally:
                    page.close()
            limits.check_seconds(index + 1, time.monotonic() - started)
            yield FaxPage(pixels, resolution)
    finally:
        with PDFIUM_LOCK:
            document.close()


def render_single_page(data: bytes, resolution: Resolution) -> npt.NDArray[np.bool_]:
    """Return the pixels of the one page of PDF ``data`` made by faxd itself (cover, header)."""
    pages = list(render_document(data, resolution=resolution))
    if len(pages) != 1:
        raise ValueError(f"expected a one-page PDF, got {len(pages)} pages")
    return pages[0].pixels


def _open(source: Path | bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pdfium.PdfiumError:
        raise DocumentRenderError(refusal_reason(source)) from None
    except OSError as exc:
        raise DocumentRenderError(f"the file could not be read: {exc.strerror or exc}") from None


def _plan(document: pdfium.PdfDocument, resolution: Resolution, limits: RenderLimits) -> list[Placement]:
    limits.check_page_count(len(document))
    placements = []
    size = pdfium_c.FS_SIZEF()
    for index in range(len(document)):
        number = index + 1
        # As displayed: pdfium applies the page's /Rotate to the size. By index, so the
        # page's content is not parsed twice (it is loaded again to be rendered).
        if not pdfium_c.FPDF_GetPageSizeByIndexF(document, index, size):
            raise DocumentRenderError(f"page {number} is damaged and could not be read")
        width_pt, height_pt = size.width, size.height
        limits.check_page_size(number, width_pt, height_pt)
        placement = place(width_pt, height_pt, resolution)
        limits.check_page_length(number, placement.length_mm)
        limits.check_bitmap(number, placement.rows * _passes(resolution) * FAX_WIDTH)
        placements.append(placement)
    return placements


def _load_page(document: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    try:
        return document[index]
    except pdfium.PdfiumError:
        raise DocumentRenderError(f"page {index + 1} is damaged and could not be read") from None


def _passes(resolution: Resolution) -> int:
    return 2 if resolution is Resolution.NORMAL else 1


def _render_page(page: pdfium.PdfPage, placement: Placement) -> npt.NDArray[np.bool_]:
    # Normal resolution is rendered at fine and each pair of rows merged, keeping the
    # darker: a hyphen or the bar of an "e" thinner than a normal row (0.26 mm) would
    # otherwise fall between two rows as two light greys and vanish at the threshold.
    passes = _passes(placement.resolution)
    a, b, c, d, e, f = placement.matrix
    matrix = (a, b * passes, c, d * passes, e, f * passes)
    rows = placement.rows * passes
    bitmap = pdfium.PdfBitmap.new_native(FAX_WIDTH, rows, pdfium_c.FPDFBitmap_Gray)
    try:
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, FAX_WIDTH, rows)
        # Clipped to the page's own box, as a viewer shows it: a stroke on the page edge
        # would otherwise spill into the margins of the scan line.
        clip = pdfium_c.FS_RECTF(placement.left, 0, placement.right, rows)
        pdfium_c.FPDF_RenderPageBitmapWithMatrix(bitmap, page, pdfium_c.FS_MATRIX(*matrix), clip, _FLAGS)
        grey: npt.NDArray[np.uint8] = bitmap.to_numpy()
        merged = grey if passes == 1 else grey.reshape(placement.rows, passes, FAX_WIDTH).min(axis=1)
        # The comparison copies out of pdfium's buffer before the bitmap is freed.
        pixels = np.ascontiguousarray(merged < THRESHOLD)
        for box in tone_boxes(page, placement.matrix, placement.rows):
            tone = _photo_grey(grey, box, passes)
            if is_continuous_tone(tone):
                pixels[box.slices] = halftone(tone, box, THRESHOLD)
        return pixels
    finally:
        bitmap.close()


def _photo_grey(grey: npt.NDArray[np.uint8], box: Box, passes: int) -> npt.NDArray[np.uint8]:
    """Return the grey of ``box`` (in final rows) out of the ``passes``-times taller render."""
    if passes == 1:
        region: npt.NDArray[np.uint8] = grey[box.top : box.bottom, box.left : box.right]
        return region
    # In a photo the pair of rows is averaged, not darkest-kept: keeping the darker of
    # two would darken every mid-tone (that rule is for thin strokes, not for tone).
    band = grey[box.top * passes : box.bottom * passes, box.left : box.right].astype(np.uint16)
    pairs = band.reshape(box.bottom - box.top, passes, -1)
    merged: npt.NDArray[np.uint8] = (pairs.sum(axis=1) // passes).astype(np.uint8)
    return merged
