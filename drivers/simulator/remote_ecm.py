"""The ECM receiver of the simulated remote: T.30 Annex A partial pages.

In ECM the page travels as numbered FCD frames of 256 (or 64) octets, a partial page
(block) of at most 256 frames at a time, closed by RCP frames; the sender then asks with
PPS-NULL/MPS/EOP/EOM (FIF: post-page command, page, block, frames - 1). The receiver
answers MCF when it has every frame of the block, else PPR with a 256-bit map of the
frames to send again (T.30 A.4.3). Frames come as software HDLC on the high-speed
carrier (``hdlc.py``).

``EcmReceiver`` keeps one page: the frames of the current block, and the data of the
blocks already complete. Lost frames are a fault the profile scripts
(``ecm_lost_frames``, ``bit_errors``); they only hit a block's first transmission, so a
sender that resends gets through.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from drivers.simulator import hdlc, wire

#: PPRs for one block before a well-behaved sender sends CTC or EOR (T.30 A.4.4; SpanDSP
#: PPR_LIMIT_BEFORE_CTC_OR_EOR).
PPR_LIMIT = 4


@dataclass(slots=True, kw_only=True)
class EcmReceiver:
    """One page received in ECM; see the module docstring."""

    lost_frames: frozenset[int] = frozenset()
    bit_errors: int = 0
    seed: str = ""
    block: dict[int, bytes] = field(default_factory=dict)
    page_data: bytearray = field(default_factory=bytearray)
    first_transmission: bool = True
    frames_resent: int = 0
    pprs_this_block: int = 0
    faults: set[str] = field(default_factory=set)

    def receive(self, data: bytes) -> int:
        """Takes one high-speed transmission of FCD/RCP frames; returns how many good
        FCD frames it held (before any scripted loss)."""
        frames = [f.data for f in hdlc.decode(data) if f.fcs_ok and len(f.data) >= 4 and f.data[2] == wire.FCD]
        lost: set[int] = set()
        if self.first_transmission:
            lost |= {f[3] for f in frames} & self.lost_frames
            if lost:
                self.faults.add("ecm_lost_frames")
            if self.bit_errors:
                # A flipped bit spoils the FCS of the frame it lands in: the frame is lost.
                numbers = sorted({f[3] for f in frames})
                picked = random.Random(self.seed).sample(numbers, min(self.bit_errors, len(numbers)))
                lost |= set(picked)
                self.faults.add("bit_errors")
        for frame in frames:
            number = frame[3]
            if number in lost:
                continue
            if not self.first_transmission and number not in self.block:
                self.frames_resent += 1
            self.block[number] = frame[4:]
        self.first_transmission = False
        return len(frames)

    def missing(self, count: int) -> set[int]:
        """Returns the numbers of the block's frames 0..count-1 not yet received."""
        return {number for number in range(count) if number not in self.block}

    def close_block(self, count: int) -> None:
        """Appends the block's frames (in number order) to the page; the next block starts
        afresh. A frame still missing (EOR: the sender gave up) is simply absent."""
        for number in range(count):
            self.page_data += self.block.get(number, b"")
        self.block = {}
        self.first_transmission = True
        self.pprs_this_block = 0
