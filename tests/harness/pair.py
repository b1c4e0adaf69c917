"""``CallPair``: the T.30 sender against the simulator's answering fax, in one process.

Like h11's ``ConnectionPair``, both ends are pure state machines, so a whole call runs
without a pty, a modem or a clock: the pair carries out the sender's actions by handing
the bytes they would put on the line to ``drivers.simulator.remote.AnsweringFax`` and
feeding the engine what the remote answers. What each side said is kept in a transcript.

The sender is ``drivers.t30.T30Sender``; the remote is an independent T.30 implementation
(``drivers/simulator/wire.py``), with every fault of ``RemoteProfile``. What the pair does
not have is a modem: no AT commands, no DLE shielding, no timing. Those are what the pty
tests are for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from drivers.at_codec import modulation_code
from drivers.page import FaxPage, Resolution
from drivers.simulator.profiles import Answer, RemoteProfile
from drivers.simulator.remote import AnsweringFax, ReceivedCall
from drivers.t4 import Coding, encode_page
from drivers.t30 import T30Sender
from drivers.t30.errors import RemoteProtocolError
from drivers.t30.events import (
    Action,
    BlockSent,
    CallAnswered,
    ConfirmPage,
    Disconnect,
    Event,
    FramesReceived,
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
from drivers.t30.frames import FCF, MAX_BLOCK_FRAMES, FCDFrame, Frame, PageCoding, decode
from drivers.t30.hdlc import frame_block

_CODINGS = {PageCoding.MH: Coding.MH, PageCoding.MR: Coding.MR, PageCoding.MMR: Coding.MMR}
#: A call that needs more engine steps than this is looping, not faxing.
MAX_STEPS = 2000


@dataclass(frozen=True, slots=True)
class PairResult:
    """How the call ended on both sides."""

    disconnect: Disconnect  # the sender's last action
    received: ReceivedCall  # the remote's record: pages it accepted, faults that fired
    transcript: tuple[str, ...]  # "caller: TSI DCS", "remote: CFR", "caller: page 1 MH" ...
    confirmed: tuple[int, ...]  # the pages the sender was told to record as confirmed (0-based)


@dataclass
class CallPair:
    """One call: ``engine`` sends ``pages`` to a remote that behaves as ``profile`` says."""

    engine: T30Sender
    pages: Sequence[FaxPage]
    profile: RemoteProfile = field(default_factory=RemoteProfile)
    number: str = "0406280499"
    transcript: list[str] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.profile.answer is not Answer.FAX:
            raise ValueError("the pair starts at CONNECT: the remote must be a fax machine")
        self.remote = AnsweringFax(profile=self.profile, call_id=1, number=self.number)
        self._to_caller: list[bytes] = self.remote.identification()

    def run(self) -> PairResult:
        """Runs the call to the sender's ``Disconnect``; returns both sides' view of it.

        Raises ``AssertionError`` if the engine stops without ``Disconnect`` or loops.
        """
        event: Event = CallAnswered()
        for _ in range(MAX_STEPS):
            next_event: Event | None = None
            for action in self.engine.handle(event):
                if isinstance(action, Disconnect):
                    return PairResult(action, self.remote.finished(), tuple(self.transcript), tuple(self.confirmed))
                next_event = self._execute(action) or next_event
            if next_event is None:
                raise AssertionError("the engine's actions wait for nothing and end in no Disconnect")
            event = next_event
        raise AssertionError(f"no Disconnect after {MAX_STEPS} engine steps")

    # --- the sender's actions, carried out on the remote ------------------------------

    def _execute(self, action: Action) -> Event | None:
        if isinstance(action, SendFrames):
            self._say("caller", " ".join(frame.fcf.name for frame in action.frames))
            self._answer(self.remote.frames_received([frame.encode() for frame in action.frames]))
            return None
        if isinstance(action, ReceiveFrames):
            return self._receive()
        if isinstance(action, SendTraining):
            self._say("caller", f"TCF {action.bit_rate.bps}")
            zeros = bytes(int(action.bit_rate.bps * action.seconds) // 8)
            self._answer(self.remote.data_received(modulation_code(action.bit_rate, long_training=True), zeros))
            return TrainingSent()
        if isinstance(action, SendPage):
            self._say("caller", f"page {action.index + 1} {action.coding.value}")
            min_bits = action.bit_rate.bps * action.min_scan_ms // 1000
            data = self._coded(action.index, action.coding, fine=action.fine, min_bits=min_bits)
            code = modulation_code(action.bit_rate, long_training=False)
            self._answer(self.remote.data_received(code, data))
            return PageSent(action.index)
        if isinstance(action, SendBlock):
            return self._send_block(action)
        if isinstance(action, Silence):
            return None
        if isinstance(action, ConfirmPage):
            self.confirmed.append(action.index)
            return None
        raise AssertionError(f"unknown action {action!r}")

    def _receive(self) -> Event:
        raw = self._to_caller or self.remote.host_listening()
        self._to_caller = []
        frames: list[Frame] = []
        for data in raw:
            if self.remote.corrupt(data):
                continue  # a bad FCS: the modem would say ERROR and the driver drop it
            try:
                frames.append(decode(data))
            except RemoteProtocolError:
                continue
        if not frames:
            return ReceiveTimeout()
        self._say("remote", " ".join(frame.fcf.name for frame in frames))
        return FramesReceived(tuple(frames))

    def _send_block(self, action: SendBlock) -> BlockSent:
        data = self._coded(action.index, action.coding, fine=action.fine, min_bits=0)
        size = action.frame_size
        total = max(1, -(-len(data) // size))
        first = action.block * MAX_BLOCK_FRAMES
        count = min(MAX_BLOCK_FRAMES, total - first)
        numbers = range(count) if action.frames is None else action.frames
        fcd = [
            FCDFrame(number=n, data=data[(first + n) * size : (first + n + 1) * size].ljust(size, b"\0")).encode()
            for n in numbers
        ]
        rcp = Frame(fcf=FCF.RCP, final=False).encode()
        stream = frame_block([*fcd, rcp, rcp, rcp], opening_flags=8)
        self._say("caller", f"page {action.index + 1} block {action.block}: {len(fcd)} of {count} frames")
        self._answer(
            self.remote.data_received(modulation_code(action.bit_rate, long_training=action.long_training), stream)
        )
        return BlockSent(action.index, action.block, count, first + count >= total)

    def _coded(self, index: int, coding: PageCoding, *, fine: bool, min_bits: int) -> bytes:
        pixels = _at_resolution(self.pages[index], fine=fine)
        return encode_page(pixels, _CODINGS[coding], k=4 if fine else 2, min_bits_per_line=min_bits)

    def _answer(self, reply: list[bytes]) -> None:
        if reply:
            self._to_caller = reply

    def _say(self, side: str, what: str) -> None:
        self.transcript.append(f"{side}: {what}")


def _at_resolution(page: FaxPage, *, fine: bool) -> npt.NDArray[np.bool_]:
    if fine and page.resolution is Resolution.NORMAL:
        return np.repeat(page.pixels, 2, axis=0)
    if not fine and page.resolution is Resolution.FINE:
        return page.pixels[::2]
    return page.pixels
