"""What a document may cost to render, and the one error imaging raises.

Documents come from care systems we do not control. A broken or hostile PDF must end
as a job failure a person can read ("page 3 is 2000 x 3000 mm ..."), never as a
daemon that hangs, swaps or dies. The limits here are checked before a page is
rendered where that is possible (page count, page size, bitmap size) and after it
where it is not (time, in-process). `render_pdf_isolated` enforces time and memory
hard, in a child process.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

from faxerrors import FaxError

#: Points (1/72 inch) to millimetres.
MM_PER_POINT = 25.4 / 72


class DocumentRenderError(FaxError):
    """The document cannot be turned into fax pages; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """Bounds on one document; the defaults let any real form through.

    ``max_page_area_mm2`` is A0 (841 x 1189 mm): a care form is never larger, a page
    of kilometres is a broken or hostile file. ``max_page_length_mm`` bounds the fax
    page *after* fitting to the scan line, which the area check alone does not: a
    10 mm x 100 m strip has a small area but would be a 770 000-row bitmap.
    """

    max_pages: int = 200
    max_page_area_mm2: float = 1_000_000.0
    max_page_length_mm: float = 2_000.0
    max_seconds_per_page: float = 30.0
    max_memory_mb: int = 1024

    def __post_init__(self) -> None:
        if self.max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        for name in ("max_page_area_mm2", "max_page_length_mm", "max_seconds_per_page", "max_memory_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")

    def check_page_count(self, count: int) -> None:
        """Raise `DocumentRenderError` unless the document has 1 to ``max_pages`` pages."""
        if count < 1:
            raise DocumentRenderError("the document has no pages")
        if count > self.max_pages:
            raise DocumentRenderError(
                f"the document has {count} pages, more than the limit of {self.max_pages} pages per fax"
            )

    def check_page_size(self, number: int, width_pt: float, height_pt: float) -> None:
        """Raise `DocumentRenderError` if page ``number`` (1-based) has no area or too much."""
        width_mm, height_mm = width_pt * MM_PER_POINT, height_pt * MM_PER_POINT
        size = f"{width_mm:.0f} x {height_mm:.0f} mm"
        # `not >` also catches NaN, which a damaged MediaBox can give.
        if not (width_mm > 0.5 and height_mm > 0.5):
            raise DocumentRenderError(f"page {number} is {size}, too small to be a page")
        if not width_mm * height_mm <= self.max_page_area_mm2:
            raise DocumentRenderError(
                f"page {number} is {size}, larger than the limit of {self.max_page_area_mm2:.0f} mm² (about A0)"
            )

    def check_page_length(self, number: int, length_mm: float) -> None:
        """Raise `DocumentRenderError` if page ``number`` would be too long on the fax."""
        if length_mm > self.max_page_length_mm:
            raise DocumentRenderError(
                f"page {number} would be {length_mm:.0f} mm long on the fax after fitting it to the"
                f" paper width, longer than the limit of {self.max_page_length_mm:.0f} mm"
            )

    def check_bitmap(self, number: int, pixels: int) -> None:
        """Raise `DocumentRenderError` if the page's bitmaps would not fit in ``max_memory_mb``."""
        # Rendering holds a grey bitmap and its bool threshold at once: two bytes a pixel.
        needed_mb = 2 * pixels / 2**20
        if needed_mb > self.max_memory_mb:
            raise DocumentRenderError(
                f"page {number} needs about {needed_mb:.0f} MB to render, more than the limit of"
                f" {self.max_memory_mb} MB"
            )

    def check_seconds(self, number: int, seconds: float) -> None:
        """Raise `DocumentRenderError` if page ``number`` took longer than allowed to render."""
        if seconds > self.max_seconds_per_page:
            raise DocumentRenderError(
                f"page {number} took {seconds:.3g} s to render, longer than the limit of"
                f" {self.max_seconds_per_page:.3g} s; the document is too complex to fax"
            )


def lower_rlimit(kind: int, value: int) -> None:
    """Lowers the resource limit ``kind`` of this process to ``value``.

    Never above a hard limit already set: an unprivileged process cannot raise it."""
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, hard))


def mapped_bytes() -> int:
    """Returns this process's mapped address space now (VmSize), so a child's memory
    limit can count what parsing or rendering adds on top of its start-up mappings.

    Raises OSError where /proc gives no VmSize."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")
