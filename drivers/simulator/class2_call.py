"""The call of the simulator's Class 2 DCE: dialling, the page data and the post-page messages.

``Class2Call`` is the part of ``class2_dce.Class2Dce`` that dials (ATD), runs +FDT (DCS,
CONNECT, XON), takes the DLE-shielded page data from the host while spending its line time
(with XOFF/XON when +FLO=1), hands the page to the firmware's T.30 procedure
(``class2_line.CallerLine``), answers +FET or the in-band post-page message, and ends the
call on a hangup or a scripted line fault. It lives apart only to keep ``class2_dce.py``
readable; it is not used alone: ``Class2Dce`` provides the state and the methods declared
below.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

from drivers.modem import Outcome
from drivers.simulator import timing
from drivers.simulator.class2_line import BR_BPS, CallerLine, Hangup, PageStatus, Params, PostPage
from drivers.simulator.class2_personality import Personality
from drivers.simulator.remote import Answer, AnsweringFax, ReceivedCall, RemoteProfile

DLE, ETX, SUB, XON, XOFF = 0x10, 0x03, 0x1A, 0x11, 0x13
#: A host that stops sending page data this long underran the modem (hangup 43).
DATA_IDLE_SECONDS = 5.0
#: <DLE><char> that end a Class 2.0 page with its post-page message (T.32 8.3.3).
_IN_BAND = {ord(","): PostPage.MPS, ord(";"): PostPage.EOM, ord("."): PostPage.EOP}


class Mode(enum.Enum):
    COMMAND = "command"
    PAGE_DATA = "page_data"
    WEDGED = "wedged"


class Class2Call:
    """Dialling and page transfer for ``Class2Dce``: the state it keeps and the methods it provides."""

    personality: Personality
    call_count: int
    call: AnsweringFax | None
    _line: CallerLine | None
    _deadline: float | None
    _mode: Mode
    _fax_class: str
    _local_id: str
    _session: Params
    _bit_order: int
    _flow: int
    _page: bytearray
    _dle: bool
    _page_ended: bool
    _write: Callable[[bytes], None]
    _pause: Callable[[float], None]
    _profile_for: Callable[[str], RemoteProfile]
    _on_call_ended: Callable[[ReceivedCall], None]
    _close_line: Callable[[], None]
    _clock: Callable[[], float]

    def hang_up(self, reason: str) -> None:
        raise NotImplementedError

    def _result(self, code: str, *info: str) -> None:
        raise NotImplementedError

    def _hangup_line(self, code: int) -> str:
        raise NotImplementedError

    def _dial(self, dial: str) -> None:
        number = dial.upper().lstrip("TP").rstrip(";").strip()
        if self.call is not None or not number or self._fax_class == "0":
            self._result("ERROR")
            return
        self.call_count += 1
        profile = self._profile_for(number)
        call = AnsweringFax(profile=profile, call_id=self.call_count, number=number)
        if profile.wedge_after_page == 0 or profile.close_after_page == 0:
            self.call = call
            self._line_fault(profile)
            return
        answer = profile.answer
        unanswered = {Answer.BUSY: (Outcome.BUSY, "BUSY"), Answer.NO_ANSWER: (Outcome.NO_ANSWER, "NO ANSWER"),
                      Answer.NO_DIALTONE: (Outcome.NO_DIALTONE, "NO DIALTONE")}  # fmt: skip
        if answer in unanswered:
            if answer is not Answer.NO_DIALTONE:
                self._pause(timing.T0_SECONDS if answer is Answer.NO_ANSWER else timing.RING_SECONDS)
            call.outcome, call.reason = unanswered[answer][0], f"simulated {answer.value}"
            self._on_call_ended(call.finished())
            self._result(unanswered[answer][1])
            return
        self._pause(timing.RING_SECONDS)
        if answer is not Answer.FAX:
            # Answered, but no fax identified itself: T1 (hangup 11), or a voice that
            # answered without CED (5).
            self._pause(timing.VOICE_SECONDS if answer is Answer.VOICE else timing.T1_SECONDS)
            call.outcome = Outcome.NOT_A_FAX if answer is Answer.VOICE else Outcome.NO_CARRIER
            call.reason = f"simulated {answer.value}"
            self._on_call_ended(call.finished())
            self._result("NO CARRIER", self._hangup_line(5 if answer is Answer.VOICE else 11))
            return
        self.call = call
        self._line = CallerLine(call, tsi=self._local_id, pause=self._pause, ecm=self.personality.ecm)
        try:
            self._line.answer()
        except Hangup as hangup:
            self._end_call(hangup, final="NO CARRIER")
            return
        p = self.personality
        info = [p.connect]
        if self._line.csi is not None:
            info.append(f'{p.csi}:"{self._line.csi}"')
        info.append(f"{p.dis}:{self._line.offered.text()}")
        self._result("OK", *info)

    def _send_page(self) -> str:
        line = self._line
        if self.call is None or line is None:
            return "ERROR"
        p = self.personality
        if line.needs_training or line.session is None:
            try:
                line.train(self._session)
            except Hangup as hangup:
                self._end_call(hangup, final="ERROR")
                return ""
        assert line.session is not None
        self._write(f"\r\n{p.dcs}:{line.session.text()}\r\n".encode())
        self._result("CONNECT")
        self._mode, self._page, self._dle, self._page_ended = Mode.PAGE_DATA, bytearray(), False, False
        self._deadline = self._clock() + DATA_IDLE_SECONDS
        if p.xon_after_connect:
            self._write(bytes((XON,)))  # SP-2388: ready for data
        return ""

    def _data_bytes(self, data: bytes) -> bytes:
        """Takes DLE-shielded page data; returns what follows the end of the page."""
        start = len(self._page)
        for index, byte in enumerate(data):
            if not self._dle:
                if byte == DLE:
                    self._dle = True
                else:
                    self._page.append(byte)
                continue
            self._dle = False
            if byte == DLE:
                self._page.append(DLE)
            elif byte == SUB:
                self._page += bytes((DLE, DLE))
            elif byte == ETX or (self.personality.in_band_post_page and byte in _IN_BAND):
                self._throttle(len(self._page) - start)
                self._end_page(_IN_BAND.get(byte))
                return data[index + 1 :]
            # other <DLE><x> pairs carry no data (T.32 8.3.3): dropped
        self._throttle(len(self._page) - start)
        return b""

    def _throttle(self, octets: int) -> None:
        """Spends the line time of ``octets``; with +FLO=1 holds the host off meanwhile."""
        if octets <= 0 or self._line is None or self._line.session is None:
            return
        if self._flow == 1:
            self._write(bytes((XOFF,)))
        self._pause(octets * 8 / BR_BPS[self._line.session.br])
        if self._flow == 1:
            self._write(bytes((XON,)))

    def _end_page(self, in_band: PostPage | None) -> None:
        self._mode, self._deadline = Mode.COMMAND, None
        data = bytes(self._page)
        if self._bit_order & 1:
            data = data.translate(_REVERSED)
        call, line = self.call, self._line
        assert call is not None and line is not None
        line.page(data)
        self._page = bytearray()
        profile = call.profile
        if call.page_transmissions in (profile.wedge_after_page, profile.close_after_page):
            self._line_fault(profile)
            return  # the modem is gone: no OK
        self._page_ended = True
        if in_band is None:
            self._result("OK")
        else:
            self._result(self._post_page(in_band, in_band=True))

    def _post_page(self, message: PostPage, *, in_band: bool) -> str:
        line = self._line
        if line is None or not self._page_ended:
            return "ERROR"
        self._page_ended = False
        p = self.personality
        try:
            status = line.post_page(message)
        except Hangup as hangup:
            self._end_call(hangup, final="")
            return "ERROR" if in_band else "OK"
        info = [f"{p.page_status}:{int(status)}"]
        confirmed = status in (PageStatus.MCF, PageStatus.RTP, PageStatus.PIP)
        if message is PostPage.EOP and confirmed:
            line.disconnect()
            self.hang_up("EOP")
            info.append(self._hangup_line(0))
        self._write(b"".join(b"\r\n" + text.encode() + b"\r\n" for text in info))
        return "OK" if confirmed or not in_band else "ERROR"

    def _end_call(self, hangup: Hangup, *, final: str) -> None:
        """Reports a hangup status, ends the call; ``final`` is the result code, if any."""
        line = self._hangup_line(hangup.code)
        call = self.call
        if call is not None and not call.done:
            call.reason = f"the modem hung up: {hangup} ({hangup.code})"
        self.hang_up(str(hangup))
        if final:
            self._result(final, line)
        else:
            self._write(f"\r\n{line}\r\n".encode())

    def _line_fault(self, profile: RemoteProfile) -> None:
        """Wedges the modem or closes the pty, as the profile scripts."""
        call = self.call
        assert call is not None
        if profile.close_after_page == call.page_transmissions:
            call.applied("close_after_page")
            self.hang_up("the pty closed")
            self._close_line()
            return
        call.applied("wedge_after_page")
        self.hang_up("the modem wedged")
        self._mode = Mode.WEDGED
        seconds = profile.wedge_seconds
        self._deadline = math.inf if seconds is None else self._clock() + seconds


_REVERSED = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


__all__ = ["DATA_IDLE_SECONDS", "Class2Call", "Mode"]
