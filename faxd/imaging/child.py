"""The body of the render child process (see `isolate`): ``python -m faxd.imaging.child
PATH RESOLUTION LIMITS_JSON``, pages framed on stdout."""

from __future__ import annotations

import json
import math
import resource
import sys
from pathlib import Path
from typing import BinaryIO

import numpy as np

from drivers.page import Resolution
from faxd.imaging.isolate import FRAME, ROWS
from faxd.imaging.limits import DocumentRenderError, RenderLimits
from faxd.imaging.render import render_pdf


def main(argv: list[str]) -> int:
    path, resolution, limits_json = argv
    limits = RenderLimits(**json.loads(limits_json))
    out = sys.stdout.buffer
    limit_self(limits)
    try:
        for page in render_pdf(Path(path), resolution=Resolution[resolution], limits=limits):
            send(out, b"P", ROWS.pack(page.height) + np.packbits(page.pixels).tobytes())
    except DocumentRenderError as exc:
        send(out, b"E", str(exc).encode())
        return 0
    except MemoryError:
        send(out, b"E", f"rendering needs more than the limit of {limits.max_memory_mb} MB".encode())
        return 0
    send(out, b"D", b"")
    return 0


def send(out: BinaryIO, kind: bytes, payload: bytes) -> None:
    out.write(FRAME.pack(kind, len(payload)) + payload)
    out.flush()


def limit_self(limits: RenderLimits) -> None:
    """Cap this process's address space at what it has mapped now plus ``max_memory_mb``,
    and its CPU time at a backstop; the parent's clock is the rule for time."""
    # On top of what the interpreter and libraries have mapped already: the limit is on
    # what rendering may add, not on numpy's and PDFium's start-up mappings.
    _lower(resource.RLIMIT_AS, _mapped_bytes() + limits.max_memory_mb * 2**20)
    _lower(resource.RLIMIT_CPU, math.ceil(limits.max_seconds_per_page * (limits.max_pages + 1)))


def _lower(kind: int, value: int) -> None:
    # Never above a hard limit already set (an unprivileged process cannot raise it).
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, hard))


def _mapped_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
