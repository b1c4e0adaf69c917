"""The AT command interpreter of the emulated DCE (V.250 5 syntax, T.31 8 commands).

``CommandLine.execute`` runs one command line against an ``EmulatedDce``: basic commands
(``Z``, ``&F``, ``E``, ``V``, ``H``, ``I``, ``Sn=v``, ...) and ``+F`` extended commands,
left to right; the first that fails ends the line with ERROR (V.250 5.2.1). ``D`` takes
the rest of the line and is returned to the DCE, which places the call.

What a Class 1 DCE must answer (T.31 8.2, 8.3): ``+FCLASS=?`` the service classes,
``+FTM=?``/``+FRM=?`` the high-speed modulations, ``+FTH=?``/``+FRH=?`` only 3 (V.21
HDLC: ECM frames are framed by the host and sent with +FTM), ``+FTS``/``+FRS`` silence
in 10 ms units. An unknown command is ERROR.

Flow control (V.250 6.2.12 ``+IFC=<by DTE>,<by DCE>``, T.31 8.5.1 ``+FLO``, and the
``&K`` of most modem families): 0 none, 1 XON/XOFF, 2 RTS/CTS for ``+IFC`` and ``+FLO``;
``&K0`` none, ``&K3`` RTS/CTS, ``&K4`` XON/XOFF. What the DCE does with it is the
``Dce``'s business (``set_flow_control``).

The interpreter knows the DCE only through the ``Dce`` protocol below, so this module
and ``dce.py`` do not import each other.
"""

from __future__ import annotations

import enum
import re
from typing import Protocol

from drivers.simulator.quirks import FlowControl

#: T.31 Table 1 codes this modem offers for +FTM/+FRM: V.27ter, V.29, V.17 long/short.
MODULATIONS = "24,48,72,73,74,96,97,98,121,122,145,146"
IDENTITY = {"+FMI": "faxd", "+FMM": "faxd simulated Class 1 modem", "+FMR": "1.0"}
#: Extended commands accepted and ignored: flow control, adaptive receive, DTE inactivity,
#: double escape, Class 1 flow control options (T.31 8.5), character framing (V.250 6.2).
_ACCEPTED = ("+FAR", "+FCL", "+FIT", "+FDD", "+FLO", "+FPR", "+IFC", "+ICF", "+IPR")
_BASIC = re.compile(r"(&?[A-Z])(\d*)(=\d*|\?)?")


class Reply(enum.Enum):
    """What one command did: a result still to give, or ``DONE`` if it answered itself."""

    OK = "OK"
    ERROR = "ERROR"
    FCERROR = "+FCERROR"
    DONE = ""


class Dce(Protocol):
    """What the command interpreter needs of a DCE."""

    echo: bool
    verbose: bool

    def result(self, code: str, *info: str) -> None:
        """Writes information lines and a final result code."""

    def factory_reset(self) -> None:
        """ATZ / AT&F."""

    def hang_up(self, reason: str) -> None:
        """ATH: ends the call in progress, if any."""

    def silence(self, tens: int) -> Reply:
        """+FTS=n: stops transmitting and waits n x 10 ms."""

    def receive_silence(self, tens: int) -> Reply:
        """+FRS=n: waits for n x 10 ms of silence on the line."""

    def start_hdlc_tx(self) -> Reply:
        """+FTH=3."""

    def start_data_tx(self, code: int) -> Reply:
        """+FTM=code."""

    def start_receive(self, hdlc: bool, code: int) -> Reply:
        """+FRH=3 (``hdlc``) or +FRM=code."""

    def set_flow_control(self, mode: FlowControl) -> None:
        """+IFC, +FLO, &K: how the DCE holds the DTE back."""


#: +IFC/+FLO values, and the &K numbers, for each flow control (V.250 6.2.12, T.31 8.5.1).
_IFC = {"0": FlowControl.NONE, "1": FlowControl.XONXOFF, "2": FlowControl.RTSCTS}
_AND_K = {"0": FlowControl.NONE, "3": FlowControl.RTSCTS, "4": FlowControl.XONXOFF}


class CommandLine:
    """Executes AT command lines for one DCE."""

    def __init__(self, dce: Dce) -> None:
        self._dce = dce
        self._registers: dict[int, int] = {}

    def execute(self, line: str) -> str | None:
        """Runs ``line``; returns the dial string if it ends in ``D``, else None."""
        text = line.strip().upper().replace(" ", "")
        if not text.startswith("AT"):
            return None  # V.250 5.2.1: a line without the AT prefix is ignored
        body = text[2:]
        info: list[str] = []
        while body:
            if body[0] == "D":
                return body[1:]
            if body[0] == "+":
                command, _, body = body.partition(";")
                reply = self._extended(command, info)
            else:
                match = _BASIC.match(body)
                if match is None:
                    reply = Reply.ERROR
                else:
                    body = body[match.end() :]
                    reply = self._basic(match.group(1), match.group(2), match.group(3) or "", info)
            if reply is not Reply.OK:
                if reply is not Reply.DONE:
                    self._dce.result(reply.value, *info)
                return None
        self._dce.result("OK", *info)
        return None

    def _basic(self, letter: str, number: str, rest: str, info: list[str]) -> Reply:
        dce = self._dce
        if letter in ("Z", "&F"):
            dce.factory_reset()
            self._registers.clear()
        elif letter == "E":
            dce.echo = number != "0"
        elif letter == "V":
            dce.verbose = number != "0"
        elif letter == "H":
            dce.hang_up("ATH")
        elif letter == "I":
            info.append(IDENTITY["+FMM"] if number in ("", "0") else f"{IDENTITY['+FMI']} {IDENTITY['+FMR']}")
        elif letter == "S" and number:
            if rest == "?":
                info.append(f"{self._registers.get(int(number), 0):03d}")
            elif rest.startswith("="):
                self._registers[int(number)] = int(rest[1:] or 0)
        elif letter in ("A", "O"):
            return Reply.ERROR  # answering calls and data mode are not simulated
        elif letter == "&K":
            if number not in _AND_K:
                return Reply.ERROR
            dce.set_flow_control(_AND_K[number])
        return Reply.OK  # Q, X, L, M, &C, &D ...: accepted, nothing to simulate

    def _extended(self, command: str, info: list[str]) -> Reply:
        """Runs one +F command (T.31 8)."""
        name, equals, value = command.partition("=")
        name = name.rstrip("?")
        query = command.endswith("?") and not equals
        dce = self._dce
        if name in IDENTITY:
            info.append(IDENTITY[name])
        elif name == "+FCLASS":
            if query:
                info.append("1")
            elif value == "?":
                info.append("0,1,1.0")
            elif value not in ("0", "1", "1.0"):
                return Reply.ERROR
        elif value == "?" and name in ("+FTM", "+FRM"):
            info.append(MODULATIONS)
        elif value == "?" and name in ("+FTH", "+FRH"):
            info.append("3")
        elif value == "?" and name in ("+FTS", "+FRS"):
            info.append("0-255")
        elif name in ("+FTS", "+FRS"):
            if not value.isdigit() or int(value) > 255:
                return Reply.ERROR
            return dce.silence(int(value)) if name == "+FTS" else dce.receive_silence(int(value))
        elif name in ("+IFC", "+FLO") and not query and value != "?":
            # +IFC=<by DTE>,<by DCE>: the second is how the DCE holds the DTE back. +FLO=n sets both.
            by_dce = value.split(",")[-1] if name == "+IFC" else value
            if by_dce not in _IFC:
                return Reply.ERROR
            dce.set_flow_control(_IFC[by_dce])
        elif name in ("+FTH", "+FRH"):
            if value != "3":
                return Reply.ERROR  # HDLC on the high-speed carriers is not offered (+FTH=?)
            return dce.start_hdlc_tx() if name == "+FTH" else dce.start_receive(True, 3)
        elif name in ("+FTM", "+FRM"):
            if not value.isdigit():
                return Reply.ERROR
            return dce.start_data_tx(int(value)) if name == "+FTM" else dce.start_receive(False, int(value))
        elif name in _ACCEPTED:
            if query:
                info.append("0")
        else:
            return Reply.ERROR
        return Reply.OK
