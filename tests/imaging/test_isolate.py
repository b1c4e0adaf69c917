"""Rendering in a child process: same pages, and a crash, hang or memory hog ends as DocumentRenderError."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pypdf
import pytest

from drivers.page import Resolution
from imaging import DocumentRenderError, RenderLimits, render_pdf, render_pdf_isolated
from tests.imaging.pdfs import form, save


def worker(behaviour: str) -> tuple[str, ...]:
    return ("-m", "tests.imaging.workers", behaviour)


@pytest.mark.parametrize("resolution", list(Resolution))
def test_isolated_pages_equal_in_process_pages(tmp_path: Path, resolution: Resolution) -> None:
    """The child's pages are the same bitmaps as rendering in-process."""
    path = save(tmp_path, form(3))
    isolated = list(render_pdf_isolated(path, resolution=resolution))
    local = list(render_pdf(path, resolution=resolution))
    assert len(isolated) == 3
    for a, b in zip(isolated, local, strict=True):
        assert a.resolution is resolution
        assert np.array_equal(a.pixels, b.pixels)


def test_isolated_passes_on_the_reason(tmp_path: Path) -> None:
    """A refusal inside the child arrives as the same readable DocumentRenderError."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(form(1)))
    writer.encrypt(user_password="hemligt", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    with pytest.raises(DocumentRenderError, match="encrypted with a password"):
        list(render_pdf_isolated(path))


def test_crash_in_the_renderer_is_a_render_error(tmp_path: Path) -> None:
    """A renderer killed by a signal is reported, not propagated."""
    with pytest.raises(DocumentRenderError, match="stopped unexpectedly at page 1 .killed by SIGABRT"):
        list(render_pdf_isolated(save(tmp_path, form(1)), child=worker("crash")))


def test_hung_renderer_is_stopped(tmp_path: Path) -> None:
    """A renderer that sends nothing within the page time is killed."""
    limits = RenderLimits(max_seconds_per_page=0.5)
    with pytest.raises(DocumentRenderError, match="page 1 took longer than 0.5 s"):
        list(render_pdf_isolated(save(tmp_path, form(1)), limits=limits, startup_seconds=0.5, child=worker("hang")))


def test_memory_limit_holds_in_the_child(tmp_path: Path) -> None:
    """The child's address-space limit stops allocation beyond max_memory_mb."""
    with pytest.raises(DocumentRenderError, match="out of memory, as the limit says"):
        list(render_pdf_isolated(save(tmp_path, form(1)), limits=RenderLimits(max_memory_mb=64), child=worker("hog")))


def test_stopping_early_ends_the_child(tmp_path: Path) -> None:
    """A consumer that stops after one page leaves no renderer behind."""
    before = children()
    pages = render_pdf_isolated(save(tmp_path, form(4)))
    assert next(pages).pixels.any()
    assert len(children()) == len(before) + 1
    pages.close()  # type: ignore[attr-defined]  # a generator
    assert children() == before


def children() -> set[int]:
    """This process's child processes (the kernel's list, so none is missed)."""
    path = Path(f"/proc/self/task/{os.getpid()}/children")
    return {int(pid) for pid in path.read_text().split()}
