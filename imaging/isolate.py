"""Rendering in a child process, so a PDF that crashes or hangs PDFium cannot take the
daemon with it.

The child (`imaging.child`) is a fresh interpreter started with subprocess, not
multiprocessing: multiprocessing's "spawn" re-runs the parent's ``__main__`` in the child,
and "fork" copies a threaded daemon with whatever locks its threads held. The child sets
hard limits on itself once its imports are done: address space (`max_memory_mb` above
what it has mapped by then) and CPU time (a backstop). The parent gives each page
`max_seconds_per_page` and kills the child when that passes.

Pages come back over the child's stdout one at a time, packed 8 pels a byte (216 bytes
a row): the pipe holds 64 KiB, so the child waits for the parent to take a page before
it renders far ahead, and memory stays a page or two deep on both sides. The child's
stderr is the daemon's, so its traceback, if it has one, lands in the daemon's log.

Framing (`child.py` writes it): one kind byte, a 4-byte big-endian length, the payload.
"P": 4-byte row count, then the packed rows; "E": the reason, UTF-8; "D": done.
"""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from drivers.page import FAX_WIDTH, FaxPage, Resolution
from imaging.limits import DocumentRenderError, RenderLimits

#: Time for the child to start and import before the first page's clock starts
#: (measured: about 0.3 s on an idle machine).
STARTUP_SECONDS = 20.0

CHILD = ("-m", "imaging.child")
FRAME = struct.Struct(">cI")
ROWS = struct.Struct(">I")


class _Timeout(Exception):
    pass


def render_pdf_isolated(
    path: Path,
    *,
    resolution: Resolution = Resolution.FINE,
    limits: RenderLimits = RenderLimits(),
    startup_seconds: float = STARTUP_SECONDS,
    child: Sequence[str] = CHILD,
) -> Iterator[FaxPage]:
    """As `render_pdf`, rendered in a child process under ``limits``.

    Raises `DocumentRenderError` also when the renderer runs out of time or memory, or
    dies. ``startup_seconds`` is added to the first page's time. ``child`` is the
    interpreter arguments that run the child (tests use it to crash or hang on purpose).
    """
    arguments = [str(path), resolution.name, json.dumps(dataclasses.asdict(limits))]
    process = subprocess.Popen(
        [sys.executable, *child, *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=child_environment(),
    )
    assert process.stdout is not None
    try:
        yield from receive_pages(process, resolution, limits, startup_seconds)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


class Refused(DocumentRenderError):
    """The renderer refused the document and said why; it is still alive and in step."""


def receive_pages(
    process: subprocess.Popen[bytes], resolution: Resolution, limits: RenderLimits, startup_seconds: float
) -> Iterator[FaxPage]:
    """Yield the pages of one document as ``process`` sends them, until it says done.

    Raises `Refused` when the renderer refuses the document, and `DocumentRenderError`
    when it runs out of time (``startup_seconds`` more for the first page) or dies; then
    it is killed here. Stopping the process otherwise is the caller's.
    """
    assert process.stdout is not None
    number = 1
    deadline = time.monotonic() + startup_seconds + limits.max_seconds_per_page
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while True:
                kind, payload = _read_frame(process.stdout, selector, deadline)
                if kind == b"P":
                    (rows,) = ROWS.unpack_from(payload)
                    packed = np.frombuffer(payload, np.uint8, offset=ROWS.size)
                    pixels = np.unpackbits(packed).reshape(rows, FAX_WIDTH).astype(np.bool_)
                    yield FaxPage(pixels, resolution)
                    number += 1
                    # The clock starts when we ask for the next page, not while the caller
                    # was busy with this one (sending it can take a minute).
                    deadline = time.monotonic() + limits.max_seconds_per_page
                elif kind == b"E":
                    raise Refused(payload.decode("utf-8", "replace"))
                elif kind == b"D":
                    return
                else:
                    process.kill()
                    raise DocumentRenderError(f"the renderer sent something unexpected at page {number}")
    except _Timeout:
        process.kill()
        raise DocumentRenderError(
            f"page {number} took longer than {limits.max_seconds_per_page:.3g} s to render; the renderer was stopped"
        ) from None
    except EOFError:
        process.kill()
        raise DocumentRenderError(
            f"the renderer stopped unexpectedly at page {number} ({_exit_reason(process.wait())})"
        ) from None


def _read_frame(stream: IO[bytes], selector: selectors.BaseSelector, deadline: float) -> tuple[bytes, bytes]:
    kind, length = FRAME.unpack(_read_exactly(stream, selector, FRAME.size, deadline))
    return kind, _read_exactly(stream, selector, length, deadline)


def _read_exactly(stream: IO[bytes], selector: selectors.BaseSelector, size: int, deadline: float) -> bytes:
    chunks = bytearray()
    descriptor = stream.fileno()
    while len(chunks) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not selector.select(remaining):
            raise _Timeout
        # os.read, not stream.read: a buffered read would block until all of `size` came.
        chunk = os.read(descriptor, min(size - len(chunks), 1 << 20))
        if not chunk:
            raise EOFError
        chunks += chunk
    return bytes(chunks)


def child_environment() -> dict[str, str]:
    # The child must import the same faxd as we did, installed or not.
    root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (root, environment.get("PYTHONPATH")) if p)
    return environment


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"
