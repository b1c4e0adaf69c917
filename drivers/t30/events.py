"""What crosses the boundary of the sans-IO T.30 engine: events in, actions out.

The driver executes the actions of one ``handle`` call in order. Every batch ends with
exactly one action that waits for the line, and the driver feeds back the event it yields:

=====================  =====================================================
action                 event fed back
=====================  =====================================================
``ReceiveFrames``      ``FramesReceived`` or ``ReceiveTimeout``
``SendTraining``       ``TrainingSent``
``SendPage``           ``PageSent``
``SendBlock``          ``BlockSent`` (ECM, T.30 Annex A)
``Disconnect``         none: the call is over, the driver hangs up
=====================  =====================================================

``SendFrames``, ``Silence`` and ``ConfirmPage`` complete without an event. Whatever the
action, a modem that stops working is reported as ``ModemFailed``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.t30.frames import BitRate, Frame, PageCoding


class CallOutcome(enum.StrEnum):
    """How a call ended, with the same codes as ``drivers.modem.Outcome``.

    The engine may not import the driver layer, so it keeps its own copy; a test checks
    that every code here exists there.
    """

    CONFIRMED = "confirmed"
    NOT_A_FAX = "not_a_fax"
    TRAINING_FAILED = "training_failed"
    STATION_MISMATCH = "station_mismatch"
    REMOTE_DISCONNECTED = "remote_disconnected"
    PAGE_REJECTED = "page_rejected"
    PROTOCOL_ERROR = "protocol_error"
    MODEM_ERROR = "modem_error"


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The dial ended in CONNECT: V.21 flags from the answering fax are on the line."""


@dataclass(frozen=True, slots=True)
class FramesReceived:
    """One transmission of the remote, up to its final frame; frames with a bad FCS left out."""

    frames: tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class ReceiveTimeout:
    """Nothing valid was received before the action's timeout."""


@dataclass(frozen=True, slots=True)
class TrainingSent:
    """The TCF has been sent."""


@dataclass(frozen=True, slots=True)
class PageSent:
    """All data of page ``index`` (0-based) has left the modem."""

    index: int


@dataclass(frozen=True, slots=True)
class BlockSent:
    """The frames of ECM block ``block`` of page ``page`` and three RCP have left the modem.

    ``frame_count`` is how many frames the whole block has (1..256, whatever was resent);
    ``page_end`` says whether it is the page's last block.
    """

    page: int
    block: int
    frame_count: int
    page_end: bool


@dataclass(frozen=True, slots=True)
class ModemFailed:
    """The modem stopped doing what it is told; no more actions can be executed."""

    reason: str


Event = CallAnswered | FramesReceived | ReceiveTimeout | TrainingSent | PageSent | BlockSent | ModemFailed
EVENT_TYPES: tuple[type[Event], ...] = (
    CallAnswered,
    FramesReceived,
    ReceiveTimeout,
    TrainingSent,
    PageSent,
    BlockSent,
    ModemFailed,
)


# --- actions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendFrames:
    """Send these frames in one V.21 transmission (``AT+FTH=3``); the last one is final."""

    frames: tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class ReceiveFrames:
    """Receive one V.21 transmission (``AT+FRH=3``) up to its final frame."""

    timeout: float  # seconds to wait for the first frame


@dataclass(frozen=True, slots=True)
class SendTraining:
    """Send TCF: zeros for ``seconds`` at ``bit_rate`` (T.30 5.3.2.2)."""

    bit_rate: BitRate
    seconds: float


@dataclass(frozen=True, slots=True)
class SendPage:
    """Encode page ``index`` with these settings and send it at ``bit_rate``."""

    index: int
    bit_rate: BitRate
    coding: PageCoding
    min_scan_ms: int  # each coded line lasts at least this long (T.4 4.1.3 fill)
    fine: bool  # vertical resolution the DCS announced: 7.7 lines/mm
    superfine: bool = False  # ... or 15.4 lines/mm


@dataclass(frozen=True, slots=True)
class SendBlock:
    """Send ECM block ``block`` of page ``index`` as HDLC frames at ``bit_rate``
    (T.4 Annex A): the page coded with ``coding`` is cut into ``frame_size``-octet FCD
    frames, 256 to a block; the block's frames ``frames`` (None: all of them) are sent,
    then three RCP. ``long_training`` after CTC/CTR (T.30 A.4.4).
    """

    index: int
    block: int
    frames: tuple[int, ...] | None
    bit_rate: BitRate
    coding: PageCoding
    frame_size: int
    fine: bool
    long_training: bool = False
    superfine: bool = False


@dataclass(frozen=True, slots=True)
class Silence:
    """Keep the line quiet for ``ms`` before the next carrier (T.30 5.3.1)."""

    ms: int


@dataclass(frozen=True, slots=True)
class ConfirmPage:
    """The remote confirmed page ``index`` (MCF or RTP): record it now."""

    index: int


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The call is over: hang up. Any DCN was sent in a ``SendFrames`` before this."""

    outcome: CallOutcome
    reason: str


@dataclass(frozen=True, slots=True)
class LineMemory:
    """What one call showed about a remote's line (``T30Sender.line_memory``): the
    fastest rate that got CFR, the rate a page got RTN at, whether ECM needed CTC/EOR.
    The driver keeps it per number so the next call starts where the line works."""

    trained_bps: int | None = None
    rtn_bps: int | None = None
    ecm_trouble: bool = False
    ecm: bool | None = None


Action = SendFrames | ReceiveFrames | SendTraining | SendPage | SendBlock | Silence | ConfirmPage | Disconnect
