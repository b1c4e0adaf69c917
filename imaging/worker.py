"""A render child kept between documents: isolation without a new interpreter per fax.

`render_pdf_isolated` starts a fresh Python for every document. That is the safest
shape, but the start (interpreter, numpy, PDFium: about 0.2 s) is more than rendering a
one- to three-page care form takes, and most faxes are such forms. `RenderWorker` keeps
one child (``python -m imaging.child --serve``) and sends it one document after
another over its stdin, pages coming back framed as before. The child renders the next
page while the parent archives this one, so the two cores both work. Measured on the
benchmark's form corpus (35 pages in 11 documents, render + MMR archive, best of 5, on
the shared 2-core box): a new child per document 18.6 pages/s (0.48x Ghostscript's
tiffg3, one process per document), one kept child 96.6 pages/s (2.5x), in-process
90.6 pages/s.

The isolation holds the same way: the child has its address-space limit for life and a
CPU backstop per document, the parent's clock bounds each page, and a crash, hang or
protocol mistake kills the child; the next document gets a new one. A refusal ("E":
encrypted, too many pages, ...) leaves the child alive and in step. A caller that stops
reading a document halfway also loses the child (it is mid-document, out of step).
After `max_documents` documents the child is replaced anyway, so memory a long-running
PDFium may fragment is given back.

One worker serves one caller at a time (a runner thread per modem holds its own);
`render` raises RuntimeError if asked for a second document while one is being read.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from drivers.page import FaxPage, Resolution
from imaging.isolate import STARTUP_SECONDS, Refused, child_environment, receive_pages
from imaging.limits import RenderLimits

SERVE = ("-m", "imaging.child", "--serve")


class RenderWorker:
    """Renders documents in one long-lived child process; see the module docstring."""

    def __init__(
        self,
        *,
        max_documents: int = 100,
        startup_seconds: float = STARTUP_SECONDS,
        child: Sequence[str] = SERVE,
    ) -> None:
        if max_documents < 1:
            raise ValueError("max_documents must be at least 1")
        self.max_documents = max_documents
        self.startup_seconds = startup_seconds
        self._child = tuple(child)
        self._process: subprocess.Popen[bytes] | None = None
        self._memory_mb: int | None = None  # the address-space limit the child runs under
        self._documents = 0
        self._busy = False

    @property
    def pid(self) -> int | None:
        """The child's process id, or None when there is no child (tests, diagnostics)."""
        return self._process.pid if self._process is not None else None

    def render(
        self,
        path: Path,
        *,
        resolution: Resolution = Resolution.FINE,
        limits: RenderLimits = RenderLimits(),
    ) -> Iterator[FaxPage]:
        """As `render_pdf_isolated`: yield the pages of ``path``, rendered in the child.

        Raises `DocumentRenderError` (a refusal, or the child ran out of time or memory,
        or died) and RuntimeError if this worker is already reading a document.
        """
        if self._busy:
            raise RuntimeError("this RenderWorker is already rendering a document")
        self._busy = True
        try:
            yield from self._render(path, resolution, limits)
        finally:
            self._busy = False

    def close(self) -> None:
        """End the child (it exits when its stdin closes; killed if it does not)."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        process.stdout.close()

    def __enter__(self) -> RenderWorker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _render(self, path: Path, resolution: Resolution, limits: RenderLimits) -> Iterator[FaxPage]:
        started = self._ready(limits)
        process = self._process
        assert process is not None and process.stdin is not None
        request = {"path": str(path), "resolution": resolution.name, "limits": dataclasses.asdict(limits)}
        in_step = False
        try:
            try:
                process.stdin.write(json.dumps(request).encode() + b"\n")
                process.stdin.flush()
            except OSError:
                pass  # it died: receive_pages finds the end of its output and says so
            self._documents += 1
            yield from receive_pages(process, resolution, limits, self.startup_seconds if started else 0.0)
            in_step = True
        except Refused:
            in_step = True  # it said why and waits for the next request
            raise
        finally:
            if not in_step or self._documents >= self.max_documents:
                self._stop()

    def _ready(self, limits: RenderLimits) -> bool:
        """Make sure a child runs under ``limits``' memory limit; return whether it is new."""
        if self._process is not None and self._process.poll() is None and self._memory_mb == limits.max_memory_mb:
            return False
        self._stop()
        self._process = subprocess.Popen(
            [sys.executable, *self._child, json.dumps(dataclasses.asdict(limits))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_environment(),
        )
        self._memory_mb = limits.max_memory_mb
        self._documents = 0
        return True

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
