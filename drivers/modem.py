"""What the queue runner sees of a fax modem, whatever its class.

The runner asks a ``FaxModem`` to place one call and gets back a ``CallResult``: a value,
never an exception, for everything the line or the remote can do (busy, no answer,
training failed, ...). Exceptions are left for bugs and for a modem that cannot be
used at all (``ModemUnavailable``), which the runner reports as ``modem.down``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drivers.page import FaxPage

# The engine owns the call policy and its station check (drivers.t30 may import nothing
# from drivers); drivers and the daemon take them from here.
from drivers.t30.negotiation import StationCheck as StationCheck
from drivers.t30.session import Policy as Policy
from faxerrors import FaxError


class Outcome(enum.StrEnum):
    """How one call ended. Stable codes: they are stored in the confirmation log."""

    CONFIRMED = "confirmed"  # every page got MCF
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_DIALTONE = "no_dialtone"
    NO_CARRIER = "no_carrier"
    NOT_A_FAX = "not_a_fax"
    TRAINING_FAILED = "training_failed"
    STATION_MISMATCH = "station_mismatch"
    REMOTE_DISCONNECTED = "remote_disconnected"
    PAGE_REJECTED = "page_rejected"
    PROTOCOL_ERROR = "protocol_error"
    MODEM_ERROR = "modem_error"


@dataclass(frozen=True, slots=True)
class Station:
    """Our own identity on the line."""

    tsi: str  # at most 20 characters: digits, '+', space (T.30 Table 3)
    header_name: str


@dataclass(frozen=True, slots=True)
class CallRequest:
    number: str  # the dial string, already checked against the directory
    pages: Sequence[FaxPage]  # cover sheet first
    expected_remote_id: str | None = None  # CSI the directory expects, if it knows one
    # How the call behaves where T.30 leaves the choice to us (station check, ECM, lowest
    # and first rate, resends...): one value from the configuration through the runner to
    # the engine; see drivers.t30.session.Policy.
    policy: Policy = Policy()


@dataclass(frozen=True, slots=True)
class CallResult:
    outcome: Outcome
    reason: str  # words a person can act on
    remote_id: str | None = None  # the CSI as received, stripped
    pages_sent: int = 0
    pages_confirmed: int = 0  # pages that got MCF, counted from the first page of the request
    bit_rate: int | None = None
    warnings: tuple[str, ...] = ()  # the call went on, but a person should know (station check "warn")
    ecm: bool | None = None  # whether error correction (T.30 Annex A) was used; None before DCS
    coding: str | None = None  # "MH", "MR" or "MMR"; None before DCS
    trace_path: Path | None = None  # the protocol trace of this call, if the driver wrote one
    # What the line took, for the per-destination memory (faxd/line_memory.py):
    trained_bps: int | None = None  # the fastest rate that got CFR
    rtn_bps: int | None = None  # the rate a page got RTN at
    ecm_trouble: bool = False  # ECM blocks needed CTC or EOR

    @property
    def confirmed(self) -> bool:
        return self.outcome is Outcome.CONFIRMED


@dataclass(frozen=True, slots=True)
class PageConfirmation:
    """One page the remote confirmed (MCF), with how it went on the line: what the
    confirmation log records per page (a rate can change between pages after RTN)."""

    index: int  # 0-based within the request's pages (the cover sheet is 0)
    bit_rate: int | None = None  # bit/s the page data was sent at
    coding: str | None = None  # "MH", "MR" or "MMR"
    ecm: bool | None = None  # sent in error-correction mode (T.30 Annex A)


#: Called as soon as the remote confirmed a page (MCF), so the log holds confirmed pages
#: even if the daemon dies mid-call.
PageConfirmed = Callable[[PageConfirmation], None]


class ModemUnavailable(FaxError):
    """The modem cannot be used: port missing, no answer to AT, wedged."""


class FaxModem(Protocol):
    name: str

    def send(self, request: CallRequest, on_page_confirmed: PageConfirmed | None = None) -> CallResult:
        """Place one call and send the pages; returns how it ended."""
        ...

    def probe(self) -> None:
        """Check that the modem is there and answers; raises ModemUnavailable if not."""
        ...

    def close(self) -> None: ...
