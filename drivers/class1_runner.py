"""``CallRunner``: carries out the T.30 engine's actions on a T.31 link during one call.

``drivers.class1.Class1Modem`` owns the modem (port, set-up, dial, hang-up); once the dial
has ended in CONNECT it hands the link to a ``CallRunner``, which feeds the sans-IO
``drivers.t30.T30Sender`` events and executes the actions it returns: frames, training,
page data (coded here from the ``FaxPage`` pixels, at the resolution the DCS announced)
and ECM blocks, until the engine says ``Disconnect``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog

from drivers.at_codec import modulation_code
from drivers.at_link import ProtocolTrace, T31Link
from drivers.modem import PageConfirmation, PageConfirmed
from drivers.page import FaxPage, Resolution
from drivers.port import DriverError
from drivers.t4 import Coding, encode_page
from drivers.t30.engine import T30Sender
from drivers.t30.errors import RemoteProtocolError
from drivers.t30.events import (
    Action,
    BlockSent,
    CallAnswered,
    ConfirmPage,
    Disconnect,
    Event,
    FramesReceived,
    ModemFailed,
    PageSent,
    ReceiveFrames,
    ReceiveTimeout,
    SendBlock,
    SendFrames,
    SendPage,
    SendTraining,
    Silence,
    TrainingSent,
)
from drivers.t30.frames import FCF, MAX_BLOCK_FRAMES, EORFrame, FCDFrame, Frame, PageCoding, PPSFrame, decode
from drivers.t30.hdlc import frame_block

_CODINGS = {PageCoding.MH: Coding.MH, PageCoding.MR: Coding.MR, PageCoding.MMR: Coding.MMR}


class CallRunner:
    """Executes the engine's actions on the link and feeds back the events they yield."""

    def __init__(
        self,
        link: T31Link,
        pages: Sequence[FaxPage],
        on_page_confirmed: PageConfirmed | None,
        log: structlog.typing.FilteringBoundLogger,
        trace: ProtocolTrace | None = None,
    ) -> None:
        self.link = link
        self._trace = trace
        self.pages = pages
        self.on_page_confirmed = on_page_confirmed
        self.log = log
        self.connected = True  # after ATD's CONNECT the DCE is receiving HDLC already
        self.last_was_receive = True
        self._coded: dict[tuple[int, PageCoding, bool, bool, int], bytes] = {}
        # How each page went on the line (rate, coding, ECM), for its confirmation.
        self._sent_as: dict[int, PageConfirmation] = {}

    def trace(self, text: str) -> None:
        """Writes a line to the call's protocol trace, if there is one."""
        if self._trace is not None:
            self._trace.line(text)

    def run(self, engine: T30Sender, first: Event | None = None) -> Disconnect:
        """Returns the engine's final ``Disconnect``; ``first`` is the first event to feed
        (``CallAnswered`` unless a test starts mid-call)."""
        event: Event = first or CallAnswered()
        while True:
            # The engine measures T1 and T5 with the time the event happened.
            actions = engine.handle(event, now=time.monotonic())
            ending = next((action for action in actions if isinstance(action, Disconnect)), None)
            next_event: Event | None = None
            try:
                for action in actions:
                    if isinstance(action, Disconnect):
                        return action
                    next_event = self.execute(action) or next_event
            except DriverError as exc:
                self.log.warning("modem.failed_mid_call", error=str(exc))
                if ending is not None:
                    return ending  # the call was ending anyway (a DCN that did not go out)
                next_event = ModemFailed(f"the modem failed during the call: {exc}")
            if next_event is None:
                raise AssertionError(f"the T.30 engine stopped without Disconnect: {actions}")
            event = next_event

    def execute(self, action: Action) -> Event | None:
        """Carries out one action; returns the event it yields, if any."""
        if isinstance(action, SendFrames):
            pause = self.link.quirks.eop_pause_ms
            if pause and any(_is_eop(frame) for frame in action.frames):
                # Quirk: some receivers miss an EOP right after the page carrier.
                self.link.silence(pause, after_receive=False)
            for frame in action.frames:
                self.log.debug("t30.frame_sent", fcf=frame.fcf.name)
                self.trace(f"T.30 sent {frame!r}")
            self.link.send_frames([frame.encode() for frame in action.frames])
            self.last_was_receive = False
            return None
        if isinstance(action, ReceiveFrames):
            return self.receive(action.timeout)
        if isinstance(action, Silence):
            self.link.silence(action.ms, after_receive=self.last_was_receive)
            return None
        if isinstance(action, SendTraining):
            rate = action.bit_rate
            zeros = bytes(int(rate.bps * action.seconds) // 8)
            # TCF is always sent with long training (T.30 5.3.2.2; SpanDSP t30.c).
            self.link.send_data(modulation_code(rate, long_training=True), zeros, bps=rate.bps)
            self.log.debug("t30.training_sent", bit_rate=rate.bps)
            self.last_was_receive = False
            return TrainingSent()
        if isinstance(action, SendPage):
            data = self.encode(action)
            # After a TCF or page at this rate V.17 may use short training (T.30 Annex C note).
            self.link.send_data(modulation_code(action.bit_rate, long_training=False), data, bps=action.bit_rate.bps)
            self._sent_as[action.index] = PageConfirmation(
                action.index, action.bit_rate.bps, action.coding.value, ecm=False
            )
            self.log.debug("modem.page_sent", page=action.index, octets=len(data))
            self.trace(f"page {action.index + 1} sent: {len(data)} octets {action.coding.value}")
            self.last_was_receive = False
            return PageSent(action.index)
        if isinstance(action, SendBlock):
            self._sent_as[action.index] = PageConfirmation(
                action.index, action.bit_rate.bps, action.coding.value, ecm=True
            )
            return self.send_block(action)
        if isinstance(action, ConfirmPage):
            self.log.info("t30.page_confirmed", page=action.index)
            if self.on_page_confirmed is not None:
                self.on_page_confirmed(self._sent_as.get(action.index, PageConfirmation(action.index)))
            return None
        raise AssertionError(f"unknown action {action!r}")

    def receive(self, timeout: float) -> Event:
        received = self.link.receive_frames(timeout, connected=self.connected)
        self.connected = False
        self.last_was_receive = True
        frames: list[Frame] = []
        for raw in received:
            if not raw.fcs_ok:
                self.log.debug("t30.frame_bad_fcs", octets=len(raw.data))
                continue
            try:
                frame = decode(raw.data)
            except RemoteProtocolError as exc:
                self.log.debug("t30.frame_undecodable", error=str(exc))
                continue
            self.log.debug("t30.frame_received", fcf=frame.fcf.name)
            self.trace(f"T.30 received {frame!r}")
            frames.append(frame)
        return FramesReceived(tuple(frames)) if frames else ReceiveTimeout()

    def encode(self, action: SendPage) -> bytes:
        """Returns page ``action.index`` coded for the line: resolution matched to the DCS,
        each line filled to the minimum scan time (T.4 4.1.3), RTC at the end.
        """
        min_bits = action.bit_rate.bps * action.min_scan_ms // 1000  # SpanDSP t30.c
        return self.coded(action.index, action.coding, fine=action.fine, superfine=action.superfine, min_bits=min_bits)

    def coded(self, index: int, coding: PageCoding, *, fine: bool, min_bits: int, superfine: bool = False) -> bytes:
        """Returns page ``index`` coded (and keeps it: ECM resends and RTN use it again).

        MR uses K = 8 at superfine, 4 at fine and 2 at normal resolution (T.4 4.2.1.3.4).
        """
        key = (index, coding, fine, superfine, min_bits)
        if key not in self._coded:
            target = Resolution.SUPERFINE if superfine else Resolution.FINE if fine else Resolution.NORMAL
            pixels = self.pages[index].rows_at(target)
            k = 8 if superfine else 4 if fine else 2
            self._coded[key] = encode_page(pixels, _CODINGS[coding], k=k, min_bits_per_line=min_bits)
        return self._coded[key]

    def send_block(self, action: SendBlock) -> BlockSent:
        """Sends one ECM block as HDLC frames after ``AT+FTM`` (T.4 Annex A); returns
        ``BlockSent`` with the block's frame count and whether it ends the page.

        No fill in ECM: the scan line time does not apply (T.30 Table 2 note).
        """
        data = self.coded(action.index, action.coding, fine=action.fine, superfine=action.superfine, min_bits=0)
        size = action.frame_size
        total = max(1, -(-len(data) // size))
        first = action.block * MAX_BLOCK_FRAMES
        count = min(MAX_BLOCK_FRAMES, total - first)
        if count <= 0:
            raise AssertionError(f"page {action.index} has no block {action.block}")
        numbers = range(count) if action.frames is None else action.frames
        frames = []
        for number in numbers:
            start = (first + number) * size
            # The last frame is padded with zeros to full size, as most receivers expect
            # (SpanDSP t30.c); zeros after RTC/EOFB are fill to the decoder.
            chunk = data[start : start + size].ljust(size, b"\0")
            frames.append(FCDFrame(number=number, data=chunk).encode())
        rcp = Frame(fcf=FCF.RCP, final=False).encode()  # 3 RCP (T.4 A.3.6.2)
        rate = action.bit_rate
        # About 200 ms of flags first, so the receiver's HDLC is in step before frame 0.
        opening = max(8, rate.bps // 40)
        stream = frame_block([*frames, rcp, rcp, rcp], opening_flags=opening)
        self.link.send_data(modulation_code(rate, long_training=action.long_training), stream, bps=rate.bps)
        page_end = first + count >= total
        self.log.debug("modem.block_sent", page=action.index, block=action.block, frames=len(frames))
        self.trace(
            f"ECM page {action.index + 1} block {action.block}: {len(frames)} of {count} frames "
            f"({size} octets), {len(stream)} octets on the line{', page end' if page_end else ''}"
        )
        self.last_was_receive = False
        return BlockSent(action.index, action.block, count, page_end)


def _is_eop(frame: Frame) -> bool:
    """Returns whether ``frame`` ends the document: EOP, or PPS/EOR carrying it."""
    if isinstance(frame, (PPSFrame, EORFrame)):
        return frame.post_message in (FCF.EOP, FCF.PRI_EOP)
    return frame.fcf in (FCF.EOP, FCF.PRI_EOP)


__all__ = ["CallRunner"]
