"""The body of the render child process (see `isolate`): ``python -m imaging.child
PATH RESOLUTION LIMITS_JSON``, pages framed on stdout.

``python -m imaging.child --serve LIMITS_JSON`` is the long-lived child of
`imaging.worker.RenderWorker`: it reads one request a line on stdin (JSON: path,
resolution, limits) and answers each as the one-document child does, until stdin ends.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from pathlib import Path
from typing import BinaryIO

import numpy as np

from drivers.page import Resolution
from imaging.isolate import FRAME, ROWS
from imaging.limits import DocumentRenderError, RenderLimits, lower_rlimit, mapped_bytes
from imaging.render import render_pdf


def main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        return serve(RenderLimits(**json.loads(argv[1])))
    path, resolution, limits_json = argv
    limits = RenderLimits(**json.loads(limits_json))
    limit_self(limits)
    render_one(Path(path), Resolution[resolution], limits)
    return 0


def serve(limits: RenderLimits) -> int:
    """Render documents as requests come in on stdin, under the memory limit of
    ``limits`` for the whole process and a fresh CPU budget for each document."""
    lower_rlimit(resource.RLIMIT_AS, mapped_bytes() + limits.max_memory_mb * 2**20)
    for line in sys.stdin.buffer:
        request = json.loads(line)
        document_limits = RenderLimits(**request["limits"])
        # RLIMIT_CPU counts the process's whole life: the backstop is what this
        # document may use on top of what the earlier ones have used.
        used = resource.getrusage(resource.RUSAGE_SELF)
        lower_rlimit(resource.RLIMIT_CPU, math.ceil(used.ru_utime + used.ru_stime + _cpu_backstop(document_limits)))
        render_one(Path(request["path"]), Resolution[request["resolution"]], document_limits)
    return 0


def render_one(path: Path, resolution: Resolution, limits: RenderLimits) -> None:
    """Send the pages of one document, then "D"; or "E" with the reason it cannot go."""
    out = sys.stdout.buffer
    try:
        for page in render_pdf(path, resolution=resolution, limits=limits):
            send(out, b"P", ROWS.pack(page.height) + np.packbits(page.pixels).tobytes())
    except DocumentRenderError as exc:
        send(out, b"E", str(exc).encode())
        return
    except MemoryError:
        send(out, b"E", f"rendering needs more than the limit of {limits.max_memory_mb} MB".encode())
        return
    send(out, b"D", b"")


def send(out: BinaryIO, kind: bytes, payload: bytes) -> None:
    out.write(FRAME.pack(kind, len(payload)) + payload)
    out.flush()


def limit_self(limits: RenderLimits) -> None:
    """Cap this process's address space at what it has mapped now plus ``max_memory_mb``,
    and its CPU time at a backstop; the parent's clock is the rule for time."""
    # On top of what the interpreter and libraries have mapped already: the limit is on
    # what rendering may add, not on numpy's and PDFium's start-up mappings.
    lower_rlimit(resource.RLIMIT_AS, mapped_bytes() + limits.max_memory_mb * 2**20)
    lower_rlimit(resource.RLIMIT_CPU, math.ceil(_cpu_backstop(limits)))


def _cpu_backstop(limits: RenderLimits) -> float:
    return limits.max_seconds_per_page * (limits.max_pages + 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
