"""``FakeModem``: a ``FaxModem`` that plays back scripted results, for queue-runner tests.

No port, no pty, no T.30: each ``send`` takes the next item of the script. A ``CallResult``
is returned (after reporting its ``pages_confirmed`` through ``on_page_confirmed``, as a
real driver would page by page); an exception is raised, so a test can script
``ModemUnavailable``. Every request is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from drivers.modem import CallRequest, CallResult, Outcome, PageConfirmation, PageConfirmed


class FakeModem:
    """A scripted ``FaxModem``; when the script runs out, every page is confirmed."""

    def __init__(self, name: str = "fake0", script: Iterable[CallResult | Exception] = ()) -> None:
        self.name = name
        self.requests: list[CallRequest] = []
        self.closed = False
        self._script: deque[CallResult | Exception] = deque(script)
        self._lock = threading.Lock()

    def send(self, request: CallRequest, on_page_confirmed: PageConfirmed | None = None) -> CallResult:
        """Returns the next scripted result; raises the next scripted exception."""
        with self._lock:
            self.requests.append(request)
            step = self._script.popleft() if self._script else None
        if isinstance(step, Exception):
            raise step
        if step is None:
            count = len(request.pages)
            step = CallResult(Outcome.CONFIRMED, f"all {count} pages confirmed", None, count, count, 14400)
        if on_page_confirmed is not None:
            for index in range(step.pages_confirmed):
                on_page_confirmed(PageConfirmation(index, step.bit_rate, step.coding, step.ecm))
        return step

    def probe(self) -> None:
        """A fake modem is always there."""

    def close(self) -> None:
        self.closed = True
