"""A render child kept between documents: same pages, one process, and it is replaced when it fails."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import numpy as np
import pypdf
import pytest

from imaging import DocumentRenderError, RenderLimits, RenderWorker, render_pdf
from tests.imaging.pdfs import form, save


def encrypted(tmp_path: Path) -> Path:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(form(1)))
    writer.encrypt(user_password="hemligt", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    return path


def test_documents_share_one_child_and_get_the_same_pages(tmp_path: Path) -> None:
    """Two documents come from the same child, pixel for pixel as rendered in-process."""
    first, second = save(tmp_path, form(2), "a.pdf"), save(tmp_path, form(3), "b.pdf")
    with RenderWorker() as worker:
        pages = list(worker.render(first))
        pid = worker.pid
        more = list(worker.render(second))
        assert worker.pid == pid is not None
    assert worker.pid is None
    for got, expected in zip(pages + more, [*render_pdf(first), *render_pdf(second)], strict=True):
        assert np.array_equal(got.pixels, expected.pixels)


def test_a_refusal_keeps_the_child(tmp_path: Path) -> None:
    """A document the child refuses is reported, and the child goes on with the next."""
    with RenderWorker() as worker:
        with pytest.raises(DocumentRenderError, match="encrypted with a password"):
            list(worker.render(encrypted(tmp_path)))
        pid = worker.pid
        assert len(list(worker.render(save(tmp_path, form(1))))) == 1
        assert worker.pid == pid


def test_a_child_killed_mid_document_is_an_error_and_replaced(tmp_path: Path) -> None:
    """A child that dies halfway fails that document; the next document gets a new child."""
    document = save(tmp_path, form(3))
    with RenderWorker() as worker:
        pages = worker.render(document)
        next(pages)
        dead = worker.pid
        assert dead is not None
        os.kill(dead, signal.SIGKILL)
        with pytest.raises(DocumentRenderError, match="stopped unexpectedly at page 2 .killed by SIGKILL"):
            list(pages)
        assert len(list(worker.render(document))) == 3
        assert worker.pid not in (None, dead)


def test_a_hung_child_is_stopped(tmp_path: Path) -> None:
    """A child that sends nothing within the page time is killed; the error says which page."""
    limits = RenderLimits(max_seconds_per_page=0.5)
    with RenderWorker(startup_seconds=0.5, child=("-m", "tests.imaging.workers", "hang")) as worker:
        with pytest.raises(DocumentRenderError, match="page 1 took longer than 0.5 s"):
            list(worker.render(save(tmp_path, form(1)), limits=limits))
        assert worker.pid is None


def test_stopping_halfway_ends_the_child(tmp_path: Path) -> None:
    """A reader that stops after one page leaves the child out of step: it is ended."""
    with RenderWorker() as worker:
        pages = worker.render(save(tmp_path, form(4)))
        next(pages)
        pid = worker.pid
        pages.close()  # type: ignore[attr-defined]  # a generator
        assert worker.pid is None
        assert pid is not None and not Path(f"/proc/{pid}").exists()


def test_child_is_replaced_after_max_documents_and_on_new_memory_limit(tmp_path: Path) -> None:
    """A fresh child every max_documents documents, and when the memory limit changes."""
    document = save(tmp_path, form(1))
    with RenderWorker(max_documents=2) as worker:
        list(worker.render(document))
        first = worker.pid
        list(worker.render(document))
        assert worker.pid is None  # its second document was its last
        list(worker.render(document))
        second = worker.pid
        list(worker.render(document, limits=RenderLimits(max_memory_mb=512)))
        assert len({first, second, worker.pid}) == 3


def test_one_document_at_a_time(tmp_path: Path) -> None:
    """Asking for a second document while reading one is a caller's mistake."""
    document = save(tmp_path, form(2))
    with RenderWorker() as worker:
        pages = worker.render(document)
        next(pages)
        with pytest.raises(RuntimeError, match="already rendering"):
            next(worker.render(document))
        assert len(list(pages)) == 1
