"""Reading untrusted PDFs (pypdf) in a child process under memory and time limits.

A PDF from the spool is hostile until read: a flate or XMP bomb, a page tree that
loops, objects nested thousands deep. pypdf has limits of its own, but a daemon that
parses in its own process is only as bounded as the worst file (1.25 GB was seen). So
the daemon never parses: `Inspector` keeps one child (``python -m spool.inspector``)
that runs `spool.inspection.inspect` on one document per request line and answers with
one JSON line. The child has an address-space limit (``max_memory_mb`` on top of what
its imports mapped) and a CPU backstop per document; the parent gives each document
``timeout_seconds`` and kills the child when it passes or when it dies, and the next
document gets a new child. A refusal ("not a PDF", "encrypted") leaves the child in
step. The cheap checks (type, size, signature) and the sidecar (small, bounded, JSON
only) stay in the parent: they need no parser.

The verdicts are `DocumentFacts` or `DocumentRejected` with a reason in our words, also
when the child runs out of memory or time: "stopped by the limit", never the library's
text.
"""

from __future__ import annotations

import json
import math
import os
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

from imaging.limits import lower_rlimit, mapped_bytes
from spool.inspection import DocumentFacts, DocumentRejected, check_file, inspect, parser_failure, read_sidecar

MAX_MEMORY_MB = 384
TIMEOUT_SECONDS = 30.0
STARTUP_SECONDS = 20.0  # interpreter and pypdf import, on a busy machine
MAX_RESPONSE_BYTES = 1 << 20


class Inspector:
    """pypdf in a kept, limited child process; one document at a time (a lock)."""

    def __init__(
        self,
        *,
        max_memory_mb: int = MAX_MEMORY_MB,
        timeout_seconds: float = TIMEOUT_SECONDS,
        max_documents: int = 1000,
    ) -> None:
        self.max_memory_mb = max_memory_mb
        self.timeout_seconds = timeout_seconds
        self.max_documents = max_documents
        self._process: subprocess.Popen[bytes] | None = None
        self._documents = 0
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _kill, [None])

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def inspect(self, path: Path, sidecar: Path | None, *, max_bytes: int, max_pages: int) -> DocumentFacts:
        """As `spool.inspection.inspect`, the parsing done in the child. Raises DocumentRejected."""
        check_file(path, max_bytes=max_bytes)
        with self._lock:
            answer = self._ask({"path": str(path), "max_bytes": max_bytes, "max_pages": max_pages})
        if "rejected" in answer:
            raise DocumentRejected(str(answer["rejected"]))
        fields: dict[str, object] = dict(answer["fields"])
        if sidecar is not None:
            fields.update(read_sidecar(sidecar))
        return DocumentFacts(pages=int(answer["pages"]), fields=fields, page_one_text=str(answer["page_one_text"]))

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- the child -----------------------------------------------------------------------

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        started = self._ready()
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        self._documents += 1
        timeout = self.timeout_seconds + (STARTUP_SECONDS if started else 0.0)
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
            line = _read_line(process.stdout.fileno(), time.monotonic() + timeout)
            answer = json.loads(line)
            if not isinstance(answer, dict):
                raise ValueError("not an object")
        except TimeoutError:
            self._stop()
            raise DocumentRejected(
                f"the PDF could not be read within {self.timeout_seconds:.0f} s (too complex, or hostile);"
                " the reader was stopped"
            ) from None
        except (OSError, EOFError, ValueError):
            code = self._stop()
            raise DocumentRejected(
                f"the PDF stopped the reader ({_exit_reason(code)}): it needs more than the limit of"
                f" {self.max_memory_mb} MB, or is hostile"
            ) from None
        if self._documents >= self.max_documents:
            self._stop()  # memory a long run may fragment is given back
        return answer

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is None:
            return False
        self._stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "spool.inspector", str(self.max_memory_mb), str(self.timeout_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_child_environment(),
        )
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _kill, [self._process])
        self._documents = 0
        return True

    def _stop(self) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        code = process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        return code


def _kill(holder: list[subprocess.Popen[bytes] | None]) -> None:
    process = holder[0]
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


def _read_line(fd: int, deadline: float) -> bytes:
    buffer = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError
            buffer += chunk
            if len(buffer) > MAX_RESPONSE_BYTES:
                raise ValueError("answer too long")
    return bytes(buffer[: buffer.index(b"\n")])


def _child_environment() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (root, environment.get("PYTHONPATH")) if p)
    return environment


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "no answer"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


# -- the child's side ----------------------------------------------------------------------


def serve(max_memory_mb: int, timeout_seconds: float) -> int:
    """Answer one request line at a time on stdin until it ends (run as the child)."""
    lower_rlimit(resource.RLIMIT_AS, mapped_bytes() + max_memory_mb * 2**20)
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        request = json.loads(line)
        used = resource.getrusage(resource.RUSAGE_SELF)
        lower_rlimit(resource.RLIMIT_CPU, math.ceil(used.ru_utime + used.ru_stime + 2 * timeout_seconds))
        out.write(json.dumps(answer(request)).encode() + b"\n")
        out.flush()
    return 0


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The verdict on one document: its facts, or {"rejected": reason in our words}."""
    try:
        facts = inspect(Path(request["path"]), None, max_bytes=request["max_bytes"], max_pages=request["max_pages"])
    except DocumentRejected as exc:
        return {"rejected": str(exc)}
    except MemoryError:
        return {"rejected": parser_failure(MemoryError())}
    return {"pages": facts.pages, "fields": dict(facts.fields), "page_one_text": facts.page_one_text}


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), float(sys.argv[2])))
