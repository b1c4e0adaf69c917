"""The fax machine at the far end of the simulated line: T.30 answering station.

Its own small state machine, independent of ``drivers.t30`` (see ``wire.py`` for why).
It is pure: the emulated DCE hands it what the caller transmitted and sends back what it
returns. A ``RemoteProfile`` (``profiles.py``) says who the remote is, what it can do
and which faults it plays; ECM pages are put together by ``remote_ecm.py``, the
record of a call and page decoding live in ``received.py``.

Phases (T.30 Figure 5.2, called station): WAIT_DCS (phase B: DIS sent), WAIT_TCF,
WAIT_PAGE (phase C; in ECM also the PPS that follows), WAIT_PPM (phase D), WAIT_DCN
(after the response to EOP), DONE. RTN and RTP send the caller back to phase B for a new
DCS + TCF (T.30 5.3.6.1.5); EOM does too, with a new DIS.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from drivers.modem import Outcome
from drivers.page import FAX_WIDTH, Resolution
from drivers.simulator import wire
from drivers.simulator.profiles import Answer, RemoteProfile
from drivers.simulator.received import ReceivedCall, decode, flip_bits
from drivers.simulator.remote_ecm import EcmReceiver

#: TCF is good when at least this share of its octets are zero (T.30 leaves the test to the
#: receiver; efax and HylaFAX look at runs of zeros).
TCF_MIN_ZERO_SHARE = 0.9
#: ... and it lasted at least this share of 1.5 s at the announced rate.
TCF_MIN_LENGTH_SHARE = 0.8
#: The called station sends DIS at most this often while the caller says nothing (T.30
#: 5.3.2: repeated until T1; 35 s / T4 3 s would be ~11, three is enough for a test).
MAX_DIS_REPEATS = 3

_POST_PAGE = (wire.MPS, wire.EOP, wire.EOM)


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
    page_results: list[str] = field(default_factory=list)
    page_ok: bool = True  # the last page decoded cleanly
    pending: npt.NDArray[np.bool_] | None = None  # the page awaiting its post-page command
    page_transmissions: int = 0  # page data transmissions heard (for wedge/close faults)
    outcome: Outcome = Outcome.REMOTE_DISCONNECTED
    reason: str = "the caller hung up before the end of the document"
    faults: list[str] = field(default_factory=list)
    last_reply: list[bytes] = field(default_factory=list)
    last_command: int | None = None
    dis_sent: int = 0  # DIS sent since the last DCS
    dis_due: bool = True  # phase B at the start or after EOM: DIS when the caller listens
    rtn_done: set[int] = field(default_factory=set)
    bad_fcs_left: set[int] = field(default_factory=set)
    rnr_left: int = 0
    dcn_armed: bool = False
    ecm: EcmReceiver | None = None
    frames_resent: int = 0
    last_pps: wire.PartialPageSignal | None = None  # for RR, which repeats no FIF
    answered_pps: wire.PartialPageSignal | None = None  # the last PPS/EOR that got MCF/ERR
    crp_left: set[int] = field(default_factory=set)
    carrier_lost_left: set[int] = field(default_factory=set)
    fcerror_left: int = 0
    collisions_left: int = 0
    missed_left: set[int] = field(default_factory=set)
    ftt_answered: bool = False  # the last answer to a TCF was FTT

    def __post_init__(self) -> None:
        self.bad_fcs_left = {wire.CODES[name] for name in self.profile.bad_fcs}
        self.crp_left = {wire.CODES[name] for name in self.profile.crp}
        self.carrier_lost_left = {wire.CODES[name] for name in self.profile.carrier_lost}
        self.fcerror_left = self.profile.fcerror_frh
        self.collisions_left = self.profile.dis_collisions
        self.missed_left = set(self.profile.missed_post_page)
        self.rnr_left = self.profile.rnr_count
        self.dcn_armed = self.profile.dcn_after_page == 0
        if self.profile.answer is not Answer.FAX:
            self.applied(self.profile.answer.value)
            self.dis_due = False  # no fax machine: it never identifies itself

    @property
    def done(self) -> bool:
        return self.phase is _Phase.DONE

    @property
    def page_number(self) -> int:
        """Returns the 1-based number of the page being received (or next)."""
        return len(self.pages) + 1

    def applied(self, fault: str) -> None:
        """Notes that a scripted fault happened in this call (once per name)."""
        if fault not in self.faults:
            self.faults.append(fault)

    def identification(self) -> list[bytes]:
        """Returns [CSI] + DIS, the answering station's first transmission (phase B)."""
        self.dis_sent += 1
        frames = [wire.frame(wire.DIS, self.profile.dis())]
        if not self.profile.csi.strip():
            self.applied("blank_csi")
        if self.profile.send_csi:
            frames.insert(0, wire.frame(wire.CSI, wire.identity_fif(self.profile.csi), final=False))
        else:
            self.applied("send_csi")
        return frames

    def corrupt(self, frame: bytes) -> bool:
        """Returns whether to send ``frame`` with a bad FCS (``bad_fcs``: first time only)."""
        code = frame[2] & 0xFE if len(frame) > 2 else -1
        if code in self.bad_fcs_left:
            self.bad_fcs_left.discard(code)
            self.applied("bad_fcs")
            return True
        return False

    def carrier_lost(self, frame: bytes) -> bool:
        """Returns whether ``frame`` is lost after its flags (``carrier_lost``: first time only)."""
        code = frame[2] & 0xFE if len(frame) > 2 else -1
        if code in self.carrier_lost_left:
            self.carrier_lost_left.discard(code)
            self.applied("carrier_lost")
            return True
        return False

    def fcerror(self) -> bool:
        """Returns whether this +FRH=3 hears a signal that is not V.21 (``fcerror_frh``)."""
        if self.fcerror_left > 0:
            self.fcerror_left -= 1
            self.applied("fcerror_frh")
            return True
        return False

    def host_listening(self) -> list[bytes]:
        """Returns what the remote sends when the caller listens (+FRH) instead of
        answering: DIS (again) in phase B (T.30 5.3.2), else nothing. After RTN or RTP the
        caller speaks first (DCS), so the remote keeps quiet."""
        if self.phase is _Phase.WAIT_DCS and self.dis_due and self.dis_sent < MAX_DIS_REPEATS:
            return self.identification()
        return []

    def frames_received(self, frames: list[bytes]) -> list[bytes]:
        """Handles one transmission of the caller; returns the reply."""
        reply: list[bytes] = []
        for raw in frames:
            if len(raw) < 3 or raw[0] != wire.ADDRESS:
                continue
            fcf, fif = raw[2] & 0xFE, raw[3:]
            if fcf == wire.DCS and self.collisions_left > 0 and self.phase is _Phase.WAIT_DCS:
                # Our own DIS repeat went out over the caller's DCS: we heard nothing (T.30 5.3.2).
                self.collisions_left -= 1
                self.applied("dis_collisions")
                return self.identification()
            if fcf in self.crp_left:
                self.crp_left.discard(fcf)
                self.applied("crp")
                return [wire.frame(wire.CRP)]  # T.30 5.3.6.1.7: say it again
            if fcf == wire.DCN:
                self._finish_on_dcn()
                return []
            if fcf == wire.TSI:
                self.tsi = wire.read_identity(fif)
            elif fcf == wire.DCS:
                self.settings = wire.read_dcs(fif)
                self.phase = _Phase.WAIT_TCF
                self.dis_due, self.dis_sent = False, 0
                if self.settings is None or not self.settings.ecm:
                    self.ecm = None  # a new DCS without ECM (after EOM): pages come plain
            elif fcf == wire.CRP:
                reply = list(self.last_reply)  # T.30 5.3.6.1.7: repeat the last response
            elif self._misses(fcf, fif):
                return self._command_missed()
            elif fcf in _POST_PAGE and self.phase is _Phase.WAIT_PPM:
                reply = self._respond(self._dcn_instead("page") if self.dcn_armed else self._post_page(fcf))
            elif fcf in (wire.PPS, wire.EOR, wire.RR, wire.CTC) and self.ecm is not None:
                reply = self._respond(self._dcn_instead("page") if self.dcn_armed else self._ecm_command(fcf, fif))
            elif fcf == self.last_command and self.last_reply:
                reply = list(self.last_reply)  # the caller missed our response (T.30 5.3.2)
            if fcf not in (wire.TSI, wire.CRP):
                self.last_command = fcf
        return reply

    def training_reply_delay(self) -> float:
        """Returns how long after a TCF that is arriving now the answer comes (seconds of
        real time): ``ftt_silence`` after an FTT, else 0."""
        return self.profile.ftt_silence if self.ftt_answered and self.phase is _Phase.WAIT_TCF else 0.0

    def data_received(self, code: int, data: bytes) -> list[bytes]:
        """Handles TCF or page data sent with ``+FTM=code``; returns the reply, if any."""
        carrier = wire.MODULATION_CODES.get(code)
        settings = self.settings
        if settings is None or carrier != (settings.bit_rate, settings.modulation):
            return []  # wrong carrier: the remote hears nothing it can use
        if self.phase is _Phase.WAIT_TCF:
            return self._respond(self._dcn_instead("training") if self.dcn_armed else self._training(data, settings))
        if self.phase is _Phase.WAIT_PAGE:
            self.page_transmissions += 1
            if self.ecm is not None:
                self.ecm.receive(data)
            else:
                self._receive_page(data, settings)
        return []

    def finished(self, ended: datetime | None = None) -> ReceivedCall:
        """Returns the record of this call."""
        settings = self.settings
        resolution = None
        if settings is not None:
            resolution = Resolution.FINE if settings.fine else Resolution.NORMAL
        self._merge_ecm_faults()
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
            faults=tuple(self.faults),
            frames_resent=self.frames_resent + (self.ecm.frames_resent if self.ecm else 0),
            page_results=tuple(self.page_results),
        )

    # --- phase B --------------------------------------------------------------------

    def _respond(self, reply: list[bytes]) -> list[bytes]:
        """Returns ``reply``, kept to be repeated on CRP or a repeated command."""
        self.last_reply = reply
        return reply

    def _dcn_instead(self, what: str) -> list[bytes]:
        """The ``dcn_after_page`` fault: DCN instead of a response (T.30 5.3.6.1.8)."""
        self.applied("dcn_after_page")
        if what == "page":
            self.page_results.append("dcn")  # this page was never confirmed
        self.phase = _Phase.DONE
        self.outcome = Outcome.REMOTE_DISCONNECTED
        self.reason = f"the remote hung up after {len(self.pages)} pages (DCN)"
        return [wire.frame(wire.DCN)]

    def _training(self, data: bytes, settings: wire.DcsSettings) -> list[bytes]:
        reply = self._judge_training(data, settings)
        self.ftt_answered = reply[0][2] & 0xFE == wire.FTT
        if self.ftt_answered and self.profile.ftt_silence:
            self.phase = _Phase.WAIT_DCS  # SpanDSP judges a TCF only after a DCS
        return reply

    def _judge_training(self, data: bytes, settings: wire.DcsSettings) -> list[bytes]:
        ceiling = self.profile.ftt_above
        if ceiling is not None and settings.bit_rate > ceiling:
            self.applied("ftt_above")
            return [wire.frame(wire.FTT)]
        expected = settings.bit_rate * 1.5 / 8
        zeros = data.count(0)
        if len(data) < TCF_MIN_LENGTH_SHARE * expected or zeros < TCF_MIN_ZERO_SHARE * len(data):
            return [wire.frame(wire.FTT)]
        self.phase = _Phase.WAIT_PAGE
        if settings.ecm and self.ecm is None:
            self.ecm = self._new_ecm_page()
        return [wire.frame(wire.CFR)]

    # --- phases C and D without ECM -------------------------------------------------

    def _receive_page(self, data: bytes, settings: wire.DcsSettings) -> None:
        number = self.page_number
        if self.profile.bit_errors:
            self.applied("bit_errors")
            data = flip_bits(data, self.profile.bit_errors, f"{self.call_id}:{number}:{self.page_transmissions}")
        self.pending, error = decode(data, settings.coding)
        self.page_ok = error is None
        if error is not None:
            self.outcome, self.reason = Outcome.PAGE_REJECTED, f"page {number} undecodable: {error}"
        self.phase = _Phase.WAIT_PPM

    def _misses(self, fcf: int, fif: bytes) -> bool:
        """Returns whether this is the post-page command the ``missed_post_page`` fault loses."""
        if self.page_number not in self.missed_left:
            return False
        if fcf in _POST_PAGE:
            return self.phase is _Phase.WAIT_PPM
        if fcf == wire.PPS and self.ecm is not None and self.phase is _Phase.WAIT_PAGE:
            signal = wire.read_pps(fif)
            return signal is not None and signal.post_page != wire.NULL
        return False

    def _command_missed(self) -> list[bytes]:
        """The post-page command was lost: T2 runs out, the page is dropped and the remote
        goes back to phase B, sending DIS when the caller listens (T.30 Figure 5-2b)."""
        self.missed_left.discard(self.page_number)
        self.applied("missed_post_page")
        self.pending = None
        if self.ecm is not None:
            self.ecm = self._new_ecm_page()
        self.phase = _Phase.WAIT_DCS
        self.dis_due, self.dis_sent = True, 0
        return []

    def _post_page(self, fcf: int) -> list[bytes]:
        """Returns the response to MPS/EOP/EOM after a page without ECM (T.30 5.3.6.1.5)."""
        number = self.page_number
        if not self.page_ok or (number in self.profile.rtn_pages and number not in self.rtn_done):
            if self.page_ok:
                self.applied("rtn_pages")
                self.rtn_done.add(number)
                self.outcome, self.reason = Outcome.PAGE_REJECTED, f"page {number} rejected (RTN)"
            self.page_results.append("rtn")
            self.phase = _Phase.WAIT_DCS  # the caller retrains and sends the page again, or DCN
            return [wire.frame(wire.RTN)]
        response = wire.MCF
        if number in self.profile.rtp_pages:
            self.applied("rtp_pages")
            response = wire.RTP
        self._accept_page(self.pending, "rtp" if response == wire.RTP else "mcf", fcf)
        if response == wire.RTP and fcf != wire.EOP:
            self.phase = _Phase.WAIT_DCS  # RTP: a new DCS + TCF before the next page
        return [wire.frame(response)]

    def _accept_page(self, pixels: npt.NDArray[np.bool_] | None, result: str, fcf: int) -> None:
        self.pages.append(pixels if pixels is not None else np.zeros((0, FAX_WIDTH), dtype=np.bool_))
        self.page_results.append(result)
        self.pending = None
        if fcf == wire.EOP:
            self.phase = _Phase.WAIT_DCN
            if self.page_ok and "eor" not in self.page_results:  # no page left incomplete
                self.outcome, self.reason = Outcome.CONFIRMED, f"{len(self.pages)} pages received"
        elif fcf == wire.EOM:
            self.phase = _Phase.WAIT_DCS  # T.30 5.3.6.1.4: back to phase B, DIS again
            self.dis_due = True
        else:
            self.phase = _Phase.WAIT_PAGE
        if self.profile.dcn_after_page == len(self.pages):
            self.dcn_armed = True

    # --- ECM (T.30 Annex A) ---------------------------------------------------------

    def _new_ecm_page(self) -> EcmReceiver:
        return EcmReceiver(
            lost_frames=self.profile.ecm_lost_frames,
            bit_errors=self.profile.bit_errors,
            seed=f"{self.call_id}:{self.page_number}",
        )

    def _ecm_command(self, fcf: int, fif: bytes) -> list[bytes]:
        """Returns the response to PPS, EOR, RR or CTC (T.30 A.4, A.5)."""
        ecm = self.ecm
        assert ecm is not None
        if fcf == wire.CTC:
            rate = wire.DCS_RATES.get((wire.bit(fif, 11), wire.bit(fif, 12), wire.bit(fif, 13), wire.bit(fif, 14)))
            if rate is not None and self.settings is not None:
                self.settings = dataclasses.replace(self.settings, bit_rate=rate[0], modulation=rate[1])
            ecm.pprs_this_block = 0
            return [wire.frame(wire.CTR)]  # T.30 A.4.4: continue to correct, at CTC's rate
        if fcf == wire.RR:
            if self.last_command not in (wire.PPS, wire.EOR, wire.RR):
                return []
            signal = self.last_pps
        else:
            signal = wire.read_pps(fif)
            self.last_pps = signal
        if signal is None or self.phase is not _Phase.WAIT_PAGE or (signal == self.answered_pps and not ecm.block):
            return list(self.last_reply)  # a PPS repeated after our answer was lost (T.30 A.4)
        if self.rnr_left > 0:
            self.rnr_left -= 1
            self.applied("rnr_count")
            return [wire.frame(wire.RNR)]  # T.30 A.5.4: busy, ask again with RR
        missing = ecm.missing(signal.frames)
        if missing and fcf != wire.EOR:
            ecm.pprs_this_block += 1
            return [wire.frame(wire.PPR, wire.ppr_fif(missing))]
        ecm.close_block(signal.frames)
        self.answered_pps = signal
        response = wire.ERR if fcf == wire.EOR else wire.MCF
        if signal.post_page == wire.NULL:
            return [wire.frame(response)]  # more blocks of the same page follow
        self._merge_ecm_faults()
        self.pending, error = decode(bytes(ecm.page_data), self.settings.coding if self.settings else "MMR")
        self.page_ok = error is None
        if error is not None or missing:
            what = f"{len(missing)} frames missing (EOR)" if missing else f"undecodable: {error}"
            self.outcome, self.reason = Outcome.PAGE_REJECTED, f"page {self.page_number} {what}"
            self.page_ok = False
        self.frames_resent += ecm.frames_resent
        self._accept_page(self.pending, "eor" if missing else "mcf", signal.post_page)
        self.ecm = self._new_ecm_page()
        return [wire.frame(response)]

    def _merge_ecm_faults(self) -> None:
        for fault in sorted(self.ecm.faults if self.ecm else ()):
            self.applied(fault)

    def _finish_on_dcn(self) -> None:
        if self.phase is not _Phase.WAIT_DCN and self.outcome is not Outcome.PAGE_REJECTED:
            self.reason = f"the caller sent DCN after {len(self.pages)} pages, before EOP"
        self.phase = _Phase.DONE


__all__ = ["Answer", "AnsweringFax", "ReceivedCall", "RemoteProfile"]
