"""The fax machine at the far end of the simulated line: T.30 answering station.

Its own small state machine, independent of ``drivers.t30`` (see ``wire.py`` for why).
It is pure: the emulated DCE hands it what the caller transmitted and sends back what it
returns. A ``RemoteProfile`` says who the remote is and what it can do; later issues add
fault scripts (busy, FTT, RTN on page k, wrong CSI, ...) as fields of the profile.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from drivers.modem import Outcome
from drivers.page import FAX_WIDTH, Resolution
from drivers.simulator import wire
from drivers.t4 import Coding, decode_page

#: TCF is good when at least this share of its octets are zero (T.30 leaves the test to the
#: receiver; efax and HylaFAX look at runs of zeros).
TCF_MIN_ZERO_SHARE = 0.9
#: ... and it lasted at least this share of 1.5 s at the announced rate.
TCF_MIN_LENGTH_SHARE = 0.8


class Answer(enum.Enum):
    """What happens when the number is dialled."""

    FAX = "fax"
    BUSY = "busy"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteProfile:
    """Who answers a number and what it can do."""

    csi: str = "040 628 04 99"
    answer: Answer = Answer.FAX
    modulations: frozenset[str] = frozenset({"V.27ter", "V.29", "V.17"})
    fine: bool = True
    min_scan_ms: int = 0  # one of wire.SCAN_BITS

    def dis(self) -> bytes:
        """Returns the FIF of this remote's DIS (T.30 Table 2)."""
        rates = wire.DIS_RATES[self.modulations]
        scan = wire.SCAN_BITS[self.min_scan_ms]
        bits = [10]  # can receive
        bits += [n for n, on in zip((11, 12, 13, 14), rates, strict=True) if on]
        bits += [15] if self.fine else []
        bits += [19]  # A4 and B4 length
        bits += [n for n, on in zip((21, 22, 23), scan, strict=True) if on]
        return wire.with_bits(bits, 3)


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
    pages: tuple[npt.NDArray[np.bool_], ...]
    outcome: Outcome
    reason: str
    started: datetime
    ended: datetime


class _Phase(enum.Enum):
    WAIT_DCS = "wait_dcs"
    WAIT_TCF = "wait_tcf"
    WAIT_PAGE = "wait_page"
    WAIT_PPM = "wait_ppm"
    WAIT_DCN = "wait_dcn"
    DONE = "done"


@dataclass(slots=True)
class AnsweringFax:
    """The answering side of one call. Methods return the frames to send back (one
    V.21 transmission, last frame final), or an empty list for silence."""

    profile: RemoteProfile
    call_id: int
    number: str
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    phase: _Phase = _Phase.WAIT_DCS
    tsi: str | None = None
    settings: wire.DcsSettings | None = None
    pages: list[npt.NDArray[np.bool_]] = field(default_factory=list)
    page_ok: bool = True  # the last page decoded cleanly
    outcome: Outcome = Outcome.REMOTE_DISCONNECTED
    reason: str = "the caller hung up before the end of the document"

    @property
    def done(self) -> bool:
        return self.phase is _Phase.DONE

    def identification(self) -> list[bytes]:
        """Returns CSI + DIS, the answering station's first transmission (phase B)."""
        return [
            wire.frame(wire.CSI, wire.identity_fif(self.profile.csi), final=False),
            wire.frame(wire.DIS, self.profile.dis()),
        ]

    def frames_received(self, frames: list[bytes]) -> list[bytes]:
        """Handles one transmission of the caller; returns the reply."""
        reply: list[bytes] = []
        for raw in frames:
            if len(raw) < 3 or raw[0] != wire.ADDRESS:
                continue
            fcf, fif = raw[2] & 0xFE, raw[3:]
            if fcf == wire.DCN:
                self._finish_on_dcn()
                return []
            if fcf == wire.TSI:
                self.tsi = wire.read_identity(fif)
            elif fcf == wire.DCS:
                self.settings = wire.read_dcs(fif)
                self.phase = _Phase.WAIT_TCF
            elif fcf in (wire.MPS, wire.EOP) and self.phase is _Phase.WAIT_PPM and not self.page_ok:
                # A page we could not decode: RTN, as a machine with bad copy would (T.30 5.3.6.1.5).
                reply = [wire.frame(wire.RTN)]
                self.phase = _Phase.WAIT_DCN
            elif fcf in (wire.MPS, wire.EOP) and self.phase is _Phase.WAIT_PPM:
                # EOM (another document) is not simulated yet: the caller hears no reply.
                reply = [wire.frame(wire.MCF)]
                if fcf == wire.EOP:
                    self.phase = _Phase.WAIT_DCN
                    self.outcome, self.reason = Outcome.CONFIRMED, f"{len(self.pages)} pages received"
                else:
                    self.phase = _Phase.WAIT_PAGE
            elif (fcf, self.phase) in ((wire.MPS, _Phase.WAIT_PAGE), (wire.EOP, _Phase.WAIT_DCN)) and self.pages:
                reply = [wire.frame(wire.MCF)]  # the caller missed our MCF and repeats (T.30 5.3.2)
        return reply

    def data_received(self, code: int, data: bytes) -> list[bytes]:
        """Handles TCF or page data sent with ``+FTM=code``; returns the reply, if any."""
        carrier = wire.MODULATION_CODES.get(code)
        settings = self.settings
        if settings is None or carrier != (settings.bit_rate, settings.modulation):
            return []  # wrong carrier: the remote hears nothing it can use
        if self.phase is _Phase.WAIT_TCF:
            return [wire.frame(wire.CFR if self._training_ok(data, settings.bit_rate) else wire.FTT)]
        if self.phase is _Phase.WAIT_PAGE:
            self._receive_page(data, settings)
        return []

    def finished(self, ended: datetime | None = None) -> ReceivedCall:
        """Returns the record of this call."""
        settings = self.settings
        resolution = None
        if settings is not None:
            resolution = Resolution.FINE if settings.fine else Resolution.NORMAL
        return ReceivedCall(
            call_id=self.call_id,
            number=self.number,
            remote_tsi=self.tsi,
            bit_rate=settings.bit_rate if settings else None,
            resolution=resolution,
            coding=settings.coding if settings else None,
            ecm=settings.ecm if settings else False,
            pages=tuple(self.pages),
            outcome=self.outcome,
            reason=self.reason,
            started=self.started,
            ended=ended or datetime.now(UTC),
        )

    def _training_ok(self, data: bytes, bit_rate: int) -> bool:
        expected = bit_rate * 1.5 / 8
        zeros = data.count(0)
        ok = len(data) >= TCF_MIN_LENGTH_SHARE * expected and zeros >= TCF_MIN_ZERO_SHARE * len(data)
        if ok:
            self.phase = _Phase.WAIT_PAGE
        return ok

    def _receive_page(self, data: bytes, settings: wire.DcsSettings) -> None:
        try:
            pixels = decode_page(data, Coding[settings.coding], FAX_WIDTH)
            self.page_ok = True
        except (ValueError, KeyError) as exc:
            self.outcome, self.reason = Outcome.PAGE_REJECTED, f"page {len(self.pages) + 1} undecodable: {exc}"
            self.page_ok = False
            pixels = np.zeros((0, FAX_WIDTH), dtype=np.bool_)
        self.pages.append(pixels)
        self.phase = _Phase.WAIT_PPM

    def _finish_on_dcn(self) -> None:
        if self.phase is not _Phase.WAIT_DCN and self.outcome is not Outcome.PAGE_REJECTED:
            self.reason = f"the caller sent DCN after {len(self.pages)} pages, before EOP"
        self.phase = _Phase.DONE
