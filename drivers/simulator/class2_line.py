"""The T.30 calling procedure a Class 2 modem runs in its own firmware, for the simulator.

A Class 2 / 2.0 / 2.1 DCE does T.30 itself: the host only says "dial", "send this page"
and "that was the last page"; the modem exchanges DIS, DCS, TCF, the post-page messages
and DCN with the remote, and reports what happened in ``+F`` responses. ``CallerLine``
is that firmware: it talks to the same simulated remote (``AnsweringFax``) the Class 1
personality puts behind its line, in frames and page data, and returns to the AT side
(``class2_call.py``) values in the Class 2 parameter scale (``Params``: vr, br, wd, ln, df,
ec, bf, st of T.32 8.5.1 / SP-2388 +FDCC) and hangup status codes (T.32 Table 23).

Like ``wire.py`` this does not use ``drivers.t30``: the simulator stays an independent
check of the driver. With ``ecm`` (the 2.0 and 2.1 personalities) the firmware also sends
pages in error correction mode (T.30 Annex A) when the host's ``ec`` and the remote's DIS
both allow it, and MMR then (``df`` 3, T.6 needs ECM): the page data the host wrote goes
out as numbered FCD frames of 256 octets in partial pages of up to 256 frames, each asked
for with PPS (NULL between the partial pages of a page, then MPS/EOM/EOP); frames the
remote names in PPR are sent again, at most ``PPR_LIMIT`` times per partial page. The
SP-2388 personality keeps ``ec`` 0.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from drivers.simulator import hdlc, timing, wire
from drivers.simulator.remote import AnsweringFax
from faxerrors import FaxError

#: +FDCS/+FCS "br" -> (bit/s); and the T.31 code the remote hears that rate as, per
#: modulation the remote offers (V.17 where it can, else V.29, else V.27ter).
BR_BPS = {0: 2400, 1: 4800, 2: 7200, 3: 9600, 4: 12000, 5: 14400}
_CODES = {
    (2400, "V.27ter"): 24,
    (4800, "V.27ter"): 48,
    (7200, "V.29"): 72,
    (9600, "V.29"): 96,
    (7200, "V.17"): 73,
    (9600, "V.17"): 97,
    (12000, "V.17"): 121,
    (14400, "V.17"): 145,
}
#: DCS bits (11, 12, 13, 14) per (bit/s, modulation), T.30 Table 2.
_DCS_RATE_BITS = {value: key for key, value in wire.DCS_RATES.items()}
#: Scan time: the "st" value <-> DIS/DCS bits (21, 22, 23) in ms (T.32 Table 21 / T.30 Table 2).
ST_MS = {0: 0, 1: 5, 3: 10, 5: 20, 7: 40}
_MS_ST = {ms: st for st, ms in ST_MS.items()}
#: Width and length values <-> DIS bits (17, 18) / (19, 20).
_WD_BITS = {0: (0, 0), 1: (1, 0), 2: (0, 1)}
_LN_BITS = {0: (0, 0), 1: (1, 0), 2: (0, 1)}

#: Tries of a command that got no (usable) response, T.30 5.3.2 (three, then hang up).
TRIES = 3
#: ECM: octets of page data per FCD frame, frames per partial page (T.30 A.3.1), and PPRs
#: for one partial page before this firmware gives up (T.30 A.4.4 allows 4, then CTC/EOR).
ECM_FRAME_OCTETS = 256
ECM_BLOCK_FRAMES = 256
PPR_LIMIT = 4
#: RNR answers to RR before the firmware gives up (T.30 A.5.4: T5, 60 s; counted here).
RNR_LIMIT = 20


class PostPage(enum.IntEnum):
    """+FET / <DLE><char> post-page message values (T.32 8.3.3; SP-2388 +FET)."""

    MPS = 0
    EOM = 1
    EOP = 2


class PageStatus(enum.IntEnum):
    """+FPTS / +FPS values: the remote's post-page response (T.32 8.4.2.13)."""

    MCF = 1
    RTN = 2
    RTP = 3
    PIN = 4
    PIP = 5


@dataclass(frozen=True, slots=True)
class Params:
    """The eight T.30 session parameters in Class 2 form (T.32 8.5.1.1)."""

    vr: int = 1
    br: int = 5
    wd: int = 0
    ln: int = 2
    df: int = 0
    ec: int = 0
    bf: int = 0
    st: int = 0

    def text(self) -> str:
        return ",".join(
            str(value) for value in (self.vr, self.br, self.wd, self.ln, self.df, self.ec, self.bf, self.st)
        )

    def updated(self, text: str) -> Params | None:
        """Returns these params with the fields given in ``text`` ("1,5,,2": empty keeps),
        or None if a value is not a number."""
        names = ("vr", "br", "wd", "ln", "df", "ec", "bf", "st")
        fields = text.split(",")
        if len(fields) > len(names):
            return None
        values = {}
        for name, field in zip(names, fields, strict=False):
            field = field.strip()
            if not field:
                continue
            if not field.isdigit():
                return None
            values[name] = int(field)
        return replace(self, **values)


class Hangup(FaxError):
    """The firmware ended the call; ``code`` is the T.32 hangup status (+FHNG/+FHS)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


def remote_params(dis: bytes) -> Params:
    """Returns what a DIS offers, in Class 2 form (reported as +FDIS/+FIS)."""
    rates = (wire.bit(dis, 11), wire.bit(dis, 12), wire.bit(dis, 13), wire.bit(dis, 14))
    br = {(0, 1, 0, 0): 1, (1, 0, 0, 0): 3, (1, 1, 0, 0): 3, (1, 1, 0, 1): 5}.get(rates, 0)
    wd = next((value for value, bits in _WD_BITS.items() if bits == (wire.bit(dis, 17), wire.bit(dis, 18))), 0)
    ln = next((value for value, bits in _LN_BITS.items() if bits == (wire.bit(dis, 19), wire.bit(dis, 20))), 0)
    scan = (wire.bit(dis, 21), wire.bit(dis, 22), wire.bit(dis, 23))
    ms = next((ms for ms, bits in wire.SCAN_BITS.items() if bits == scan), 20)
    extended = wire.bit(dis, 24) == 1
    ecm = extended and wire.bit(dis, 27) == 1
    df = 3 if ecm and wire.bit(dis, 31) else (1 if wire.bit(dis, 16) else 0)
    return Params(vr=wire.bit(dis, 15), br=br, wd=wd, ln=ln, df=df, ec=2 if ecm else 0, bf=0, st=_MS_ST[ms])


class CallerLine:
    """The modem's T.30 caller for one call; ``pause`` spends line time."""

    def __init__(self, remote: AnsweringFax, *, tsi: str, pause: Callable[[float], None], ecm: bool = False) -> None:
        self.remote = remote
        self.tsi = tsi
        self.ecm = ecm  # this firmware can send in ECM (T.30 Annex A)
        self._pause = pause
        self._page_counter = -1  # ECM: the PPS page counter of the page in progress
        self._blocks: list[list[bytes]] = []  # ECM: the partial pages of the page in progress
        self._ecm_failure: Hangup | None = None  # a partial page before the last one failed
        self.csi: str | None = None
        self.dis: bytes = b""
        self.session: Params | None = None
        self.modulation = "V.27ter"
        self.needs_training = True  # a DCS + TCF before the next page (start, RTN, RTP, EOM)
        self.needs_dis = False  # after EOM: phase B again, the remote sends DIS first
        self.page_data = bytearray()

    # --- phase B ---------------------------------------------------------------------

    def answer(self) -> None:
        """Reads the remote's first transmission (CSI, DIS). Raises ``Hangup``."""
        self._identify(self.remote.identification())

    def _identify(self, frames: list[bytes]) -> None:
        for _ in range(TRIES):
            self._pause(timing.V21_PREAMBLE_SECONDS + sum(timing.v21_seconds(f) for f in frames))
            if frames and not any(self.remote.corrupt(frame) for frame in frames):
                break
            self._pause(timing.T4_SECONDS)
            frames = self.remote.host_listening()
        else:
            raise Hangup(11, "no DIS from the remote (T1)")
        for raw in frames:
            if raw[2] & 0xFE == wire.CSI:
                self.csi = wire.read_identity(raw[3:])
            elif raw[2] & 0xFE == wire.DIS:
                self.dis = raw[3:]
        if not self.dis:
            raise Hangup(11, "no DIS from the remote (T1)")

    @property
    def offered(self) -> Params:
        return remote_params(self.dis)

    def train(self, host: Params) -> Params:
        """DCS + TCF at the best common rate, falling back on FTT (T.30 5.3.2.3); returns
        the session parameters (+FDCS/+FCS). Raises ``Hangup``."""
        if self.needs_dis:
            self._identify(self.remote.host_listening())
            self.needs_dis = False
        remote = self.offered
        mods = _modulations(self.dis)
        ecm = self.ecm and host.ec > 0 and remote.ec > 0
        mr = host.df >= 1 and wire.bit(self.dis, 16) == 1
        session = Params(
            vr=min(host.vr, remote.vr),
            br=min(host.br, remote.br),
            wd=min(host.wd, remote.wd),
            ln=min(host.ln, remote.ln),
            df=3 if ecm and host.df == 3 and remote.df == 3 else (1 if mr else 0),
            ec=host.ec if ecm else 0,
            bf=0,
            st=0 if ecm else remote.st,  # the receiver's minimum scan time rules; none in ECM
        )
        while True:
            bps = BR_BPS[session.br]
            modulation = next(m for m in ("V.17", "V.29", "V.27ter") if m in mods and (bps, m) in _CODES)
            reply = self._command(
                [wire.frame(wire.TSI, wire.identity_fif(self.tsi), final=False), self._dcs(session, bps, modulation)],
                tcf=(bps, modulation),
            )
            if reply == wire.CFR:
                self.session, self.modulation, self.needs_training = session, modulation, False
                return session
            if reply == wire.FTT and session.br > 0:
                session = replace(session, br=session.br - 1)
                continue
            if reply == wire.DCN:
                raise Hangup(21, "the remote sent DCN in phase B")
            raise Hangup(
                27 if reply == wire.FTT else 25,
                "failure to train" if reply == wire.FTT else "DCS sent three times without response",
            )

    def _dcs(self, session: Params, bps: int, modulation: str) -> bytes:
        bits = [10] + [n for n, on in zip((11, 12, 13, 14), _DCS_RATE_BITS[(bps, modulation)], strict=True) if on]
        bits += [15] if session.vr else []
        bits += [16] if session.df == 1 else []
        bits += [n for n, on in zip((17, 18), _WD_BITS[session.wd], strict=True) if on]
        bits += [n for n, on in zip((19, 20), _LN_BITS[session.ln], strict=True) if on]
        bits += [n for n, on in zip((21, 22, 23), wire.SCAN_BITS[ST_MS.get(session.st, 20)], strict=True) if on]
        if session.ec:
            # Octet 4: ECM (27) with 256-octet frames (28 clear), T.6 (31) with MMR.
            bits += [24, 27] + ([31] if session.df == 3 else [])
            return wire.frame(wire.DCS, wire.with_bits(bits, 4))
        return wire.frame(wire.DCS, wire.with_bits(bits, 3))

    def _command(self, frames: list[bytes], *, tcf: tuple[int, str] | None = None) -> int | None:
        """Sends a command (and TCF) up to three times; returns the response's FCF."""
        reply = self._exchange(frames, tcf=tcf)
        return None if reply is None else reply[2] & 0xFE

    def _exchange(self, frames: list[bytes], *, tcf: tuple[int, str] | None = None) -> bytes | None:
        """Sends a command (and TCF) up to three times; returns the response frame."""
        for _ in range(TRIES):
            self._pause(timing.V21_PREAMBLE_SECONDS + sum(timing.v21_seconds(f) for f in frames))
            reply = self.remote.frames_received(frames)
            if tcf is not None:
                bps, modulation = tcf
                code = _CODES[(bps, modulation)]
                self._pause(timing.training_seconds(code) + 1.5)
                reply = self.remote.data_received(code, bytes(int(bps * 1.5) // 8))
            for _ in range(TRIES):
                if not reply:
                    break
                self._pause(timing.V21_PREAMBLE_SECONDS + sum(timing.v21_seconds(f) for f in reply))
                if not any(self.remote.corrupt(frame) for frame in reply):
                    return reply[-1]
                reply = self.remote.frames_received([wire.frame(wire.CRP)])  # T.30 5.3.6.1.7
            self._pause(timing.T4_SECONDS)
        return None

    # --- phases C and D ----------------------------------------------------------------

    @property
    def code(self) -> int:
        """The T.31 code of the session's rate, as the remote hears the page carrier."""
        assert self.session is not None
        return _CODES[(BR_BPS[self.session.br], self.modulation)]

    def page(self, data: bytes) -> None:
        """Gives the remote the page data the host sent (phase C). In ECM: every partial
        page but the last is sent and confirmed (PPS-NULL) here, the last one's frames
        too; its PPS carries the post-page message (``post_page``)."""
        assert self.session is not None
        if not self.session.ec:
            self.remote.data_received(self.code, data)
            return
        self._page_counter = (self._page_counter + 1) % 256
        chunks = [data[start : start + ECM_FRAME_OCTETS] for start in range(0, len(data), ECM_FRAME_OCTETS)]
        chunks = chunks or [b""]
        self._blocks = [chunks[start : start + ECM_BLOCK_FRAMES] for start in range(0, len(chunks), ECM_BLOCK_FRAMES)]
        self._ecm_failure = None
        for number, block in enumerate(self._blocks[:-1]):
            self._send_frames(block, range(len(block)))
            try:
                self._close_block(number, wire.NULL, PostPage.MPS)
            except Hangup as failure:
                self._ecm_failure = failure  # reported with the page's post-page message
                return
        self._send_frames(self._blocks[-1], range(len(self._blocks[-1])))

    def _send_frames(self, block: list[bytes], numbers: Iterable[int], *, resend: bool = False) -> None:
        """Sends FCD frames ``numbers`` of a partial page and three RCP (T.30 A.3)."""
        frames = [wire.frame(wire.FCD, bytes((number,)) + block[number], final=False) for number in numbers]
        data = hdlc.encode([*frames, *[wire.frame(wire.RCP, final=False)] * 3])
        if resend:  # the first transmission's line time was spent as the host sent it
            assert self.session is not None
            self._pause(timing.training_seconds(self.code) + len(data) * 8 / BR_BPS[self.session.br])
        self.remote.data_received(self.code, data)

    def _close_block(self, number: int, post: int, message: PostPage) -> int:
        """Sends PPS for partial page ``number`` until the remote has every frame; returns
        the response's FCF. Raises ``Hangup``."""
        block = self._blocks[number]
        fif = bytes((post, self._page_counter, number % 256, len(block) - 1))
        command = [wire.frame(wire.PPS, fif)]
        for _ in range(PPR_LIMIT + 1):
            reply = self._exchange(command)
            for _ in range(RNR_LIMIT):
                if reply is None or reply[2] & 0xFE != wire.RNR:
                    break
                reply = self._exchange([wire.frame(wire.RR)])  # T.30 A.5.4: busy; ask again
            if reply is None:
                silent = {PostPage.MPS: 52, PostPage.EOP: 54, PostPage.EOM: 56}[message]
                raise Hangup(silent, f"no response to PPS-{message.name if post else 'NULL'} repeated three times")
            if reply[2] & 0xFE != wire.PPR:
                return reply[2] & 0xFE
            missing = [n for n in range(len(block)) if n // 8 < len(reply) - 3 and reply[3 + n // 8] >> (n % 8) & 1]
            self._send_frames(block, missing, resend=True)
        raise Hangup(50, f"the remote still missed frames after {PPR_LIMIT} PPRs")

    def post_page(self, message: PostPage) -> PageStatus:
        """Sends MPS/EOM/EOP (T.30 5.3.6.1.5), in ECM as the last partial page's PPS;
        returns the remote's response. Raises ``Hangup`` (52/54/56 no response, 53/55/57
        DCN or an invalid response, 50 frames still missing after ``PPR_LIMIT`` PPRs)."""
        fcf = {PostPage.MPS: wire.MPS, PostPage.EOM: wire.EOM, PostPage.EOP: wire.EOP}[message]
        if self.session is not None and self.session.ec:
            if self._ecm_failure is not None:
                raise self._ecm_failure
            reply: int | None = self._close_block(len(self._blocks) - 1, fcf, message)
        else:
            reply = self._command([wire.frame(fcf)])
        if reply is None:
            silent = {PostPage.MPS: 52, PostPage.EOP: 54, PostPage.EOM: 56}[message]
            raise Hangup(silent, f"no response to {message.name} repeated three times")
        status = {
            wire.MCF: PageStatus.MCF,
            wire.RTN: PageStatus.RTN,
            wire.RTP: PageStatus.RTP,
            wire.PIN: PageStatus.PIN,
            wire.PIP: PageStatus.PIP,
        }.get(reply)
        if status is None:
            invalid = {PostPage.MPS: 53, PostPage.EOP: 55, PostPage.EOM: 57}[message]
            raise Hangup(invalid, f"{wire.NAMES.get(reply, hex(reply))} in response to {message.name}")
        if status in (PageStatus.RTN, PageStatus.RTP):
            self.needs_training = True  # T.30 5.3.6.1.5: retrain before the next page
        if message is PostPage.EOM and status is not PageStatus.RTN:
            self.needs_training = self.needs_dis = True  # back to phase B: DIS, DCS, TCF
        return status

    def disconnect(self) -> None:
        """Sends DCN (phase E)."""
        self._pause(timing.V21_PREAMBLE_SECONDS)
        self.remote.frames_received([wire.frame(wire.DCN)])


def _modulations(dis: bytes) -> frozenset[str]:
    rates = (wire.bit(dis, 11), wire.bit(dis, 12), wire.bit(dis, 13), wire.bit(dis, 14))
    for mods, bits in wire.DIS_RATES.items():
        if bits == rates:
            return mods
    return frozenset({"V.27ter"})


__all__ = ["CallerLine", "Hangup", "PageStatus", "Params", "PostPage", "remote_params"]
