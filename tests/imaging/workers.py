"""Render children that misbehave on purpose: ``python -m tests.imaging.workers crash|hang|hog ...``
(the one-document child's arguments or the serving child's; the limits come last in both)."""

from __future__ import annotations

import json
import os
import sys
import threading

from imaging import RenderLimits
from imaging.child import limit_self, send


def crash() -> None:
    os.abort()  # as a segfault in PDFium would end it


def hang() -> None:
    threading.Event().wait()  # as a renderer stuck in a loop


def hog(limits: RenderLimits) -> None:
    limit_self(limits)
    try:
        blocks = [bytearray(2**20) for _ in range(limits.max_memory_mb * 4)]
    except MemoryError:
        send(sys.stdout.buffer, b"E", b"out of memory, as the limit says")
        return
    send(sys.stdout.buffer, b"E", f"allocated {len(blocks)} MB: the limit did not hold".encode())


if __name__ == "__main__":
    behaviour, limits_json = sys.argv[1], sys.argv[-1]
    if behaviour == "crash":
        crash()
    elif behaviour == "hang":
        hang()
    else:
        hog(RenderLimits(**json.loads(limits_json)))
