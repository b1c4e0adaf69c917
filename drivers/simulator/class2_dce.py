"""An emulated Class 2 / 2.0 / 2.1 fax DCE: the AT side of the simulator's Class 2 personalities.

Drop-in for ``dce.EmulatedDce`` (same constructor, ``receive``, ``deadline``, ``expire``,
``hang_up``, ``call``, ``call_count``), so ``SimulatedModem`` runs either on its pty. The
T.30 procedure to the remote is the modem's own (``class2_line.CallerLine``); the host
sees what a Class 2 modem's firmware reports:

- Class 2 (EIA/TIA SP-2388, "+FCLASS=2"): ``+FCON``, ``+FCSI:``, ``+FDIS:``, ``+FDCS:``,
  ``+FPTS:``, ``+FHNG:`` (decimal); ``+FDT`` answers CONNECT and then XON (DC1) when the
  modem is ready for data; the page ends with <DLE><ETX> and ``AT+FET=n`` gives MPS (0),
  EOM (1) or EOP (2).
- Class 2.0 (EIA-592 / ITU-T T.32, "+FCLASS=2.0") and 2.1 (T.32 with V.34, "+FCLASS=2.1"):
  ``+FCO``, ``+FCI:``, ``+FIS:``, ``+FCS:``, ``+FPS:``, ``+FHS:`` (two digits); no XON after
  CONNECT; the page ends with <DLE> and the post-page message in one: ``,`` MPS, ``;``
  EOM, ``.`` EOP (T.32 8.3.3), answered with ``+FPS:`` and OK (page confirmed) or ERROR.

The differences are the ``Personality`` rows below, data rather than branches. Page data
is DLE-shielded (<DLE><DLE> a data DLE; <DLE><SUB> two, T.32 8.3.3); ``+FBOR``/``+FBO``
bit 0 set means the host sends phase C data in reversed bit order. ``+FLO=1`` (XON/XOFF)
makes the modem throttle the host with XOFF ... XON around each stretch of line time, so
a host that loses or sticks on flow control shows it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.modem import Outcome
from drivers.simulator import timing
from drivers.simulator.class2_line import BR_BPS, CallerLine, Hangup, PageStatus, Params, PostPage
from drivers.simulator.remote import Answer, AnsweringFax, ReceivedCall, RemoteProfile

DLE, ETX, SUB, XON, XOFF = 0x10, 0x03, 0x1A, 0x11, 0x13
#: A host that stops sending page data this long underran the modem (hangup 43).
DATA_IDLE_SECONDS = 5.0
#: <DLE><char> that end a Class 2.0 page with its post-page message (T.32 8.3.3).
_IN_BAND = {ord(","): PostPage.MPS, ord(";"): PostPage.EOM, ord("."): PostPage.EOP}


@dataclass(frozen=True, slots=True)
class Personality:
    """One Class 2 dialect as the modem speaks it."""

    fax_class: str
    classes: str  # the +FCLASS=? answer
    connect: str
    csi: str
    dis: str
    dcs: str
    page_status: str
    hangup: str
    capabilities: str  # the command that sets capabilities (+FDCC / +FCC)
    session: str  # the command that sets the session parameters (+FDIS / +FIS)
    local_id: str
    bit_order: str
    abort: str
    identity: tuple[str, str, str]  # manufacturer, model, revision queries
    xon_after_connect: bool
    in_band_post_page: bool
    hangup_format: str
    #: +FDCC=? / +FCC=?: what the modem can do; a value outside it answers ERROR.
    capability_ranges: str = "(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)"
    #: The firmware sends in ECM (and so MMR) when the session allows (class2_line.py).
    ecm: bool = False


_CLASS2 = Personality(
    fax_class="2", classes="0,2", connect="+FCON", csi="+FCSI", dis="+FDIS", dcs="+FDCS",
    page_status="+FPTS", hangup="+FHNG", capabilities="+FDCC", session="+FDIS", local_id="+FLID",
    bit_order="+FBOR", abort="+FK", identity=("+FMFR", "+FMDL", "+FREV"),
    xon_after_connect=True, in_band_post_page=False, hangup_format="{:d}",
)  # fmt: skip
_CLASS20 = Personality(
    fax_class="2.0", classes="0,2.0", connect="+FCO", csi="+FCI", dis="+FIS", dcs="+FCS",
    page_status="+FPS", hangup="+FHS", capabilities="+FCC", session="+FIS", local_id="+FLI",
    bit_order="+FBO", abort="+FKS", identity=("+FMI", "+FMM", "+FMR"),
    xon_after_connect=False, in_band_post_page=True, hangup_format="{:02d}",
    # T.32: ec 1 is T.30 Annex A ECM (either frame size; 2 and 3 are Annex C, V.34 only),
    # df 3 is MMR. SP-2388's ec counts differently (1: 64-octet, 2: 256-octet frames).
    capability_ranges="(0,1),(0-5),(0-2),(0-2),(0,1,3),(0,1),(0),(0-7)", ecm=True,
)  # fmt: skip
PERSONALITIES = {
    "2": _CLASS2,
    "2.0": _CLASS20,
    "2.1": dataclasses.replace(_CLASS20, fax_class="2.1", classes="0,2.0,2.1"),
}
IDENTITY = ("faxd", "faxd simulated Class {} modem", "1.0")
_EXTENDED = re.compile(r'\+[A-Z]+(?:=\?|\?|=(?:"[^"]*"|[^;]*))?')


class _Mode(enum.Enum):
    COMMAND = "command"
    PAGE_DATA = "page_data"
    WEDGED = "wedged"


class Class2Dce:
    """A Class 2 / 2.0 / 2.1 modem whose line leads to the simulated answering fax."""

    def __init__(
        self,
        *,
        write: Callable[[bytes], None],
        pause: Callable[[float], None],
        profile_for: Callable[[str], RemoteProfile],
        on_call_ended: Callable[[ReceivedCall], None],
        close_line: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        receive_timeout: float = 10.0,
        fax_class: str = "2",
    ) -> None:
        self.personality = PERSONALITIES[fax_class]
        self._write = write
        self._pause = pause
        self._profile_for = profile_for
        self._on_call_ended = on_call_ended
        self._close_line = close_line or (lambda: None)
        self._clock = clock
        self.receive_timeout = receive_timeout  # unused: a Class 2 modem has no +FRH wait
        self.call_count = 0
        self.call: AnsweringFax | None = None
        self._line: CallerLine | None = None
        self._deadline: float | None = None
        self._mode = _Mode.COMMAND
        self._reset()

    # --- the pty thread's interface ---------------------------------------------------

    @property
    def deadline(self) -> float | None:
        return self._deadline

    def receive(self, data: bytes) -> None:
        """Handles bytes the host wrote."""
        while data:
            if self._mode is _Mode.WEDGED:
                return  # a hung firmware swallows everything
            data = self._command_bytes(data) if self._mode is _Mode.COMMAND else self._data_bytes(data)
        if self._mode is _Mode.PAGE_DATA:
            self._deadline = self._clock() + DATA_IDLE_SECONDS
        elif self._mode is _Mode.COMMAND:
            self._deadline = None

    def expire(self) -> None:
        """The host stopped mid-page (underrun, hangup 43), or a wedge ends."""
        if self._deadline is None or self._clock() < self._deadline:
            return
        self._deadline = None
        if self._mode is _Mode.PAGE_DATA:
            self._mode = _Mode.COMMAND
            self._end_call(Hangup(43, "DTE to DCE data underflow"), final="ERROR")
        elif self._mode is _Mode.WEDGED:
            self._reset()  # back as after a power cycle

    def hang_up(self, reason: str) -> None:
        """Ends the call in progress, if any (ATH, ATZ, +FK, host gone)."""
        if self.call is not None:
            call, self.call = self.call, None
            if self._line is not None and not call.done:
                self._line.disconnect()
            if not call.done and call.outcome is not Outcome.CONFIRMED:
                call.reason = f"{call.reason} ({reason})"
            self._on_call_ended(call.finished())
        self._line = None
        self._page_ended = False

    # --- responses --------------------------------------------------------------------

    def _result(self, code: str, *info: str) -> None:
        self._write(b"".join(b"\r\n" + line.encode("ascii") + b"\r\n" for line in info))
        if self._verbose:
            self._write(b"\r\n" + code.encode("ascii") + b"\r\n")
        else:
            self._write({"OK": b"0", "CONNECT": b"1", "ERROR": b"4", "NO CARRIER": b"3", "BUSY": b"7",
                         "NO DIALTONE": b"6", "NO ANSWER": b"8"}.get(code, b"4") + b"\r")  # fmt: skip

    def _hangup_line(self, code: int) -> str:
        return f"{self.personality.hangup}:{self.personality.hangup_format.format(code)}"

    # --- command mode -----------------------------------------------------------------

    def _reset(self) -> None:
        self._mode = _Mode.COMMAND
        self._echo = True
        self._verbose = True
        self._text = bytearray()
        self._fax_class = "0"
        self._capabilities = Params()
        self._session = Params()
        self._local_id = ""
        self._bit_order = 0
        self._flow = 0  # +FLO: 0 none, 1 XON/XOFF, 2 RTS/CTS
        self._registers: dict[str, str] = {}
        self._page = bytearray()
        self._dle = False
        self._page_ended = False

    def _command_bytes(self, data: bytes) -> bytes:
        for index, byte in enumerate(data):
            if self._echo:
                self._write(bytes((byte,)))
            if byte == 0x0D:
                line = self._text.decode("ascii", errors="replace")
                self._text.clear()
                self._execute(line)
                if self._mode is not _Mode.COMMAND:
                    return data[index + 1 :]
            elif byte == 0x08:
                del self._text[-1:]
            elif byte not in (0x0A, 0x18, XON, XOFF) and len(self._text) < 256:
                self._text.append(byte)
        return b""

    def _execute(self, line: str) -> None:
        """Runs one command line (V.250 5.2): basic commands, then ``+F`` commands."""
        text = line.strip()
        if text[:2].upper() != "AT":
            return
        body, info = text[2:], list[str]()
        while body:
            head = body[0].upper()
            if head == "D":
                self._dial(body[1:].strip())
                return
            if head == "+":
                match = _EXTENDED.match(body.upper() if '"' not in body else _upper_outside_quotes(body))
                if match is None:
                    self._result("ERROR")
                    return
                reply = self._extended(match.group(0), info)
                body = body[match.end() :].lstrip(";")
            else:
                basic = re.match(r"(&?[A-Za-z])(\d*)(=\d*|\?)?", body)
                if basic is None:
                    self._result("ERROR")
                    return
                body = body[basic.end() :]
                reply = self._basic(basic.group(1).upper(), basic.group(2), basic.group(3) or "", info)
            if reply != "OK":
                if reply:
                    self._result(reply, *info)
                return
        self._result("OK", *info)

    def _basic(self, letter: str, number: str, rest: str, info: list[str]) -> str:
        if letter in ("Z", "&F"):
            self.hang_up("ATZ")
            self._reset()
        elif letter == "E":
            self._echo = number != "0"
        elif letter == "V":
            self._verbose = number != "0"
        elif letter == "H":
            self.hang_up("ATH")
        elif letter == "I":
            info.append(
                IDENTITY[1].format(self.personality.fax_class) if number in ("", "0", "3", "4") else IDENTITY[0]
            )
        elif letter == "S" and number and rest == "?":
            info.append("000")
        elif letter == "A":
            return "ERROR"  # answering is not simulated
        return "OK"

    def _extended(self, command: str, info: list[str]) -> str:
        """Runs one +F command; returns the result ("" when it answered itself)."""
        name, equals, value = command.partition("=")
        query = name.endswith("?")
        name = name.rstrip("?")
        p = self.personality
        if name == "+FCLASS":
            if query:
                info.append(self._fax_class)
            elif value == "?":
                info.append(p.classes)
            elif value in p.classes.split(","):
                self._fax_class = value
            else:
                return "ERROR"
            return "OK"
        if not name.startswith("+F"):
            if query:
                info.append(self._registers.get(name, "0"))
            elif value != "?":
                self._registers[name] = value  # +IFC, +ICF, +IPR (V.250 6.2): kept, a pty has no lines
            return "OK"
        if self._fax_class not in ("2", "2.0", "2.1"):
            return "ERROR"  # the fax commands exist in a fax class only
        identity = dict(zip(p.identity, (IDENTITY[0], IDENTITY[1].format(p.fax_class), IDENTITY[2]), strict=True))
        if name in identity:
            info.append(identity[name])
        elif name in (p.capabilities, p.session):
            current = self._capabilities if name == p.capabilities else self._session
            if query:
                info.append(current.text())
            elif value == "?":
                info.append(p.capability_ranges)
            else:
                updated = current.updated(value)
                if updated is None or updated.br not in BR_BPS or not _within(updated, p.capability_ranges):
                    return "ERROR"
                if name == p.capabilities:
                    self._capabilities = updated
                self._session = updated  # +FCC also sets the session (T.32 8.5.1.1)
        elif name == p.local_id:
            if query:
                info.append(f'"{self._local_id}"')
            elif value == "?":
                info.append("(20),(32-127)")
            else:
                self._local_id = value.strip('"')[:20]
        elif name == p.bit_order:
            if value == "?":
                info.append("(0-3)")
            elif query:
                info.append(str(self._bit_order))
            elif value in ("0", "1", "2", "3"):
                self._bit_order = int(value)
            else:
                return "ERROR"
        elif name == "+FLO":
            if value == "?":
                info.append("(0-2)")
            elif query:
                info.append(str(self._flow))
            elif value in ("0", "1", "2"):
                self._flow = int(value)
            else:
                return "ERROR"
        elif name == "+FDT":
            return self._send_page()
        elif name == "+FET" and not query and value in ("0", "1", "2"):
            return self._post_page(PostPage(int(value)), in_band=False)
        elif name == p.abort:
            if self.call is not None:
                self._write(f"\r\n{self._hangup_line(2)}\r\n".encode())  # call aborted by +FK
                self.hang_up(p.abort)
        elif name in ("+FDR", "+FET", "+FPTS", "+FPS", "+FK", "+FKS") or name in ("+FDCC", "+FCC", "+FDIS", "+FIS"):
            return "ERROR"  # receiving is not simulated; or the other dialect's name
        elif query:
            info.append(self._registers.get(name, "0"))
        elif value == "?":
            info.append("(0-1)")
        else:
            self._registers[name] = value  # +FCR, +FNR, +FIP, +FPP, +FCQ, +FCT, +FAA, ...: kept
        return "OK"

    # --- the call ---------------------------------------------------------------------

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
        self._mode, self._page, self._dle, self._page_ended = _Mode.PAGE_DATA, bytearray(), False, False
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
        self._mode, self._deadline = _Mode.COMMAND, None
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
        self._mode = _Mode.WEDGED
        seconds = profile.wedge_seconds
        self._deadline = math.inf if seconds is None else self._clock() + seconds


def _within(params: Params, ranges: str) -> bool:
    """Returns whether every value of ``params`` is one ``ranges`` ("(0,1),(0-5),...") allows."""
    values = (params.vr, params.br, params.wd, params.ln, params.df, params.ec, params.bf, params.st)
    for value, group in zip(values, re.findall(r"\(([^)]*)\)", ranges), strict=False):
        allowed: set[int] = set()
        for item in group.split(","):
            low, _, high = item.partition("-")
            allowed.update(range(int(low, 16), int(high or low, 16) + 1))
        if value not in allowed:
            return False
    return True


_REVERSED = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


def _upper_outside_quotes(text: str) -> str:
    parts = text.split('"')
    return '"'.join(part if index % 2 else part.upper() for index, part in enumerate(parts))


__all__ = ["PERSONALITIES", "Class2Dce", "Personality"]
