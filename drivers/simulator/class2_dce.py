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

The differences are the ``Personality`` rows (``class2_personality.py``), data rather than
branches; dialling and the page transfer are ``class2_call.py``. Page data
is DLE-shielded (<DLE><DLE> a data DLE; <DLE><SUB> two, T.32 8.3.3); ``+FBOR``/``+FBO``
bit 0 set means the host sends phase C data in reversed bit order. ``+FLO=1`` (XON/XOFF)
makes the modem throttle the host with XOFF ... XON around each stretch of line time, so
a host that loses or sticks on flow control shows it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from drivers.modem import Outcome
from drivers.simulator.class2_call import DATA_IDLE_SECONDS, XOFF, XON, Class2Call
from drivers.simulator.class2_call import Mode as _Mode
from drivers.simulator.class2_line import BR_BPS, CallerLine, Hangup, Params, PostPage
from drivers.simulator.class2_personality import IDENTITY, PERSONALITIES, Personality
from drivers.simulator.remote import AnsweringFax, ReceivedCall, RemoteProfile

_EXTENDED = re.compile(r'\+[A-Z]+(?:=\?|\?|=(?:"[^"]*"|[^;]*))?')


class Class2Dce(Class2Call):
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


def _upper_outside_quotes(text: str) -> str:
    parts = text.split('"')
    return '"'.join(part if index % 2 else part.upper() for index, part in enumerate(parts))


__all__ = ["PERSONALITIES", "Class2Dce", "Personality"]
