"""What the simulated remote received: the record of a call, and the page decoding it uses.

Apart from ``remote.py`` (which re-exports ``ReceivedCall``) to keep that file readable.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from drivers.modem import Outcome
from drivers.page import FAX_WIDTH, Resolution
from drivers.t4 import Coding, decode_page


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedCall:
    """One call as the simulated remote saw it."""

    call_id: int
    number: str
    remote_tsi: str | None  # the caller's TSI
    bit_rate: int | None
    resolution: Resolution | None
    coding: str | None
    ecm: bool
    pages: tuple[npt.NDArray[np.bool_], ...]  # the pages the remote accepted, in order
    outcome: Outcome
    reason: str
    started: datetime
    ended: datetime
    faults: tuple[str, ...] = ()  # the scripted faults that actually happened
    frames_resent: int = 0  # ECM: FCD frames received again after a PPR
    page_results: tuple[str, ...] = ()  # per page received: "mcf", "rtn", "rtp", "eor", "dcn"

    @property
    def page_outcomes(self) -> dict[str, int]:
        """Returns how many pages got each response, e.g. ``{"mcf": 2, "rtn": 1}``."""
        return dict(Counter(self.page_results))


def decode(data: bytes, coding: str) -> tuple[npt.NDArray[np.bool_] | None, str | None]:
    """Returns the page coded in ``data`` and None, or None and what was wrong."""
    try:
        return decode_page(data, Coding[coding], FAX_WIDTH), None
    except (ValueError, KeyError) as exc:
        return None, str(exc) or type(exc).__name__


def flip_bits(data: bytes, count: int, seed: str) -> bytes:
    """Returns ``data`` with ``count`` bits flipped at places the seed picks (line noise)."""
    if not data:
        return data
    damaged = bytearray(data)
    rng = random.Random(seed)
    for position in rng.sample(range(len(data) * 8), min(count, len(data) * 8)):
        damaged[position // 8] ^= 1 << (position % 8)
    return bytes(damaged)
