"""Bad and oversized documents end in DocumentRenderError with a reason a person can read."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from imaging import DocumentRenderError, RenderLimits, render_pdf
from tests.imaging.pdfs import blank, form, pdf, save


def refuse(path: Path, limits: RenderLimits = RenderLimits()) -> str:
    """Return the reason rendering ``path`` was refused; fails if any page came out first."""
    pages = render_pdf(path, limits=limits)
    with pytest.raises(DocumentRenderError) as refused:
        next(pages)
    return str(refused.value)


def test_corrupt_file(tmp_path: Path) -> None:
    """Bytes that are not a PDF are refused as such."""
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert "not a PDF or is damaged" in refuse(path)


def test_missing_file(tmp_path: Path) -> None:
    """A file that is gone is refused, not a crash."""
    assert "could not be read" in refuse(tmp_path / "gone.pdf")


def test_encrypted_with_password(tmp_path: Path) -> None:
    """A PDF that needs a password to open is refused and the reason says so."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(form(1)))
    writer.encrypt(user_password="hemligt", owner_password="hemligt", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    assert "encrypted with a password" in refuse(path)


def test_encrypted_without_open_password_renders(tmp_path: Path) -> None:
    """Permissions-only encryption (empty user password) does not stop a viewer, nor us."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(form(1)))
    writer.encrypt(user_password="", owner_password="ägare", algorithm="RC4-128")
    path = tmp_path / "restricted.pdf"
    writer.write(path)
    (page,) = list(render_pdf(path))
    assert page.pixels.any()


def test_zero_pages(tmp_path: Path) -> None:
    """A well-formed PDF with no pages is refused."""
    path = tmp_path / "empty.pdf"
    pypdf.PdfWriter().write(path)
    assert refuse(path) == "the document has no pages"


def test_max_pages_is_enforced_before_any_page(tmp_path: Path) -> None:
    """Five pages against a limit of three: refused before the first page is rendered."""
    reason = refuse(save(tmp_path, form(5)), RenderLimits(max_pages=3))
    assert reason == "the document has 5 pages, more than the limit of 3 pages per fax"


def test_max_pages_allows_exactly_the_limit(tmp_path: Path) -> None:
    """A document of exactly max_pages goes through."""
    assert len(list(render_pdf(save(tmp_path, form(3)), limits=RenderLimits(max_pages=3)))) == 3


def test_absurd_page_size_names_the_page_and_size(tmp_path: Path) -> None:
    """Page 3 of 2000 x 3000 mm: refused up front, naming the page, its size and the limit."""
    huge = (2000 * mm, 3000 * mm)
    reason = refuse(save(tmp_path, pdf((A4, blank), (A4, blank), (huge, blank))))
    assert reason.startswith("page 3 is 2000 x 3000 mm, larger than the limit of 1000000 mm²")


def test_long_strip_is_refused_by_length(tmp_path: Path) -> None:
    """A 20 mm x 5 m strip has a small area but would be a 5 m fax page."""
    reason = refuse(save(tmp_path, pdf(((20 * mm, 5000 * mm), blank))))
    assert reason.startswith("page 1 would be 5000 mm long on the fax")


def test_memory_limit_is_checked_before_rendering(tmp_path: Path) -> None:
    """A page whose bitmaps exceed max_memory_mb is refused before it is rendered."""
    reason = refuse(save(tmp_path, form(1)), RenderLimits(max_memory_mb=1))
    assert reason == "page 1 needs about 8 MB to render, more than the limit of 1 MB"


def test_time_limit_is_checked_per_page(tmp_path: Path) -> None:
    """In-process, a page that took longer than max_seconds_per_page stops the document after it."""
    reason = refuse(save(tmp_path, form(2)), RenderLimits(max_seconds_per_page=1e-9))
    assert reason.startswith("page 1 took ") and "longer than the limit of 1e-09 s" in reason


@pytest.mark.parametrize("field", ["max_page_area_mm2", "max_page_length_mm", "max_seconds_per_page", "max_memory_mb"])
def test_limits_must_be_positive(field: str) -> None:
    """A zero limit is a configuration mistake, caught when the limits are made."""
    with pytest.raises(ValueError, match=field):
        RenderLimits(**{field: 0})
    with pytest.raises(ValueError, match="max_pages"):
        RenderLimits(max_pages=0)
