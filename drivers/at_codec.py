"""Sans-IO codec for the AT / T.31 (Class 1) DTE interface.

Nothing here reads a port or a clock: ``ModemReader`` is fed bytes and hands out events,
``stuff`` and ``Unstuffer`` frame data, and the driver decides when to wait. Like h11's
readers, every parser here gives the same events whether its input arrives whole or one
byte at a time.

T.31 facts used here (T.31 8.3, SpanDSP ``t31.c``):
- Result codes are lines framed by CR LF (verbose form, ``ATV1``).
- After ``CONNECT`` the data is DLE-shielded: a data DLE (0x10) is sent twice and the data
  ends with DLE ETX. Some DCEs send DLE SUB for two data DLEs.
- After ``AT+FRH=3`` a DCE delivers one HDLC frame *with its two FCS octets*, then DLE ETX,
  then ``OK`` if the FCS was good or ``ERROR`` if it was not.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from drivers.t30.frames import BitRate

DLE = 0x10
ETX = 0x03
SUB = 0x1A
CAN = 0x18  # aborts a receive command (T.31 8.3.4: any character aborts +FRH/+FRM)
END_OF_DATA = bytes((DLE, ETX))
FCS_LENGTH = 2
ADDRESS = 0xFF  # the first octet of every T.30 frame (T.30 5.3.4)


class ResultCode(enum.Enum):
    OK = "OK"
    CONNECT = "CONNECT"
    ERROR = "ERROR"
    NO_CARRIER = "NO CARRIER"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    NO_DIALTONE = "NO DIALTONE"
    FCERROR = "+FCERROR"  # T.31: carrier of the wrong modulation detected


_RESULT_TEXTS: dict[str, ResultCode] = {code.value: code for code in ResultCode}
_RESULT_TEXTS["NO DIAL TONE"] = ResultCode.NO_DIALTONE  # some DCEs spell it with a space


def parse_result(line: str) -> ResultCode | None:
    """Returns the result code a response line carries, or None for an information line."""
    text = line.strip().upper()
    if text.startswith("CONNECT"):
        return ResultCode.CONNECT  # "CONNECT 9600" on some DCEs
    return _RESULT_TEXTS.get(text)


# --- T.31 modulation codes ----------------------------------------------------------------

#: (rate, long training) -> +FTM/+FRM code (T.31 Table 1; SpanDSP t31.c).
_MODULATION_CODES: dict[tuple[BitRate, bool], int] = {
    (BitRate.V27TER_2400, True): 24,
    (BitRate.V27TER_4800, True): 48,
    (BitRate.V29_7200, True): 72,
    (BitRate.V29_9600, True): 96,
    (BitRate.V17_7200, True): 73,
    (BitRate.V17_9600, True): 97,
    (BitRate.V17_12000, True): 121,
    (BitRate.V17_14400, True): 145,
    (BitRate.V17_7200, False): 74,
    (BitRate.V17_9600, False): 98,
    (BitRate.V17_12000, False): 122,
    (BitRate.V17_14400, False): 146,
}


def modulation_code(rate: BitRate, *, long_training: bool) -> int:
    """Returns the ``+FTM`` code for ``rate``; only V.17 has a short-training code."""
    return _MODULATION_CODES.get((rate, long_training)) or _MODULATION_CODES[(rate, True)]


def rate_for_code(code: int) -> BitRate | None:
    """Returns the rate of a ``+FTM`` code, or None for codes faxd does not use (V.21, V.34)."""
    for (rate, _), known in _MODULATION_CODES.items():
        if known == code:
            return rate
    return None


def parse_modulations(line: str) -> frozenset[BitRate]:
    """Returns the rates in an ``AT+FTM=?`` answer such as ``24,48,72,73,74,96,97,98``."""
    rates = set()
    for item in line.replace("(", "").replace(")", "").split(","):
        code = item.strip()
        if code.isdigit() and (rate := rate_for_code(int(code))) is not None:
            rates.add(rate)
    return frozenset(rates)


# --- DLE shielding ------------------------------------------------------------------------


def stuff(data: bytes) -> bytes:
    """Returns ``data`` with each DLE doubled (T.31 8.3.3); add ``END_OF_DATA`` to finish."""
    return data.replace(b"\x10", b"\x10\x10")


class Unstuffer:
    """Undoes DLE shielding incrementally, up to and including DLE ETX.

    ``undoubled``: the DCE does not double a data DLE (a modem bug, quirk
    ``dle_undoubled``): a DLE followed by anything but ETX, DLE or SUB is then a data DLE
    and the octet after it, not a control pair to drop.
    """

    def __init__(self, *, undoubled: bool = False) -> None:
        self._pending_dle = False
        self._undoubled = undoubled

    def feed(self, data: bytes) -> tuple[bytes, int | None]:
        """Returns the payload in ``data`` and the index just past DLE ETX, or None if the
        data has not ended yet. Bytes after DLE ETX are not consumed.
        """
        out = bytearray()
        i = 0
        n = len(data)
        while i < n:
            if self._pending_dle:
                self._pending_dle = False
                code = data[i]
                i += 1
                if code == ETX:
                    return bytes(out), i
                if code == DLE:
                    out.append(DLE)
                elif code == SUB:
                    out += b"\x10\x10"
                elif self._undoubled:
                    out += bytes((DLE, code))
                # Any other DLE pair is a control code with no data in it: drop it.
                continue
            j = data.find(b"\x10", i)
            if j < 0:
                out += data[i:]
                break
            out += data[i:j]
            self._pending_dle = True
            i = j + 1
        return bytes(out), None


# --- reading responses --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    """A final result code line."""

    code: ResultCode
    text: str


@dataclass(frozen=True, slots=True)
class InfoText:
    """Any other response line: command echo, ``AT+FTM=?`` lists, identification."""

    text: str


@dataclass(frozen=True, slots=True)
class DataChunk:
    """Unshielded data received after ``CONNECT`` to ``+FRM``."""

    data: bytes


@dataclass(frozen=True, slots=True)
class DataEnd:
    """DLE ETX after ``+FRM`` data."""


@dataclass(frozen=True, slots=True)
class HdlcFrame:
    """One frame received after ``+FRH=3``, FCS stripped, with the result line that
    followed its DLE ETX: OK (good FCS), ERROR (bad FCS), NO CARRIER (carrier lost)."""

    data: bytes
    result: ResultCode

    @property
    def fcs_ok(self) -> bool:
        return self.result is ResultCode.OK and len(self.data) >= 3


ReaderEvent = Result | InfoText | DataChunk | DataEnd | HdlcFrame


class _Mode(enum.Enum):
    TEXT = "text"
    DATA = "data"
    HDLC_START = "hdlc_start"  # after CONNECT to +FRH: before the frame's address octet
    HDLC_LINE = "hdlc_line"  # a line (a result code) came instead of a frame
    HDLC = "hdlc"
    HDLC_RESULT = "hdlc_result"  # DLE ETX seen, waiting for OK/ERROR


class ModemReader:
    """Turns the bytes a DCE sends into events.

    In text mode it yields ``Result`` and ``InfoText``. After a ``CONNECT`` the driver calls
    ``expect_hdlc()`` or ``expect_data()``; buffered bytes are parsed lazily, so data that
    arrived in the same read as the CONNECT is not lost.
    """

    MAX_LINE = 512  # a line longer than this is noise, not a response

    def __init__(self, *, fcs_octets: int = FCS_LENGTH, dle_undoubled: bool = False) -> None:
        """``fcs_octets``: FCS octets a received HDLC frame carries (T.31: 2; quirk
        ``received_fcs_octets``); ``dle_undoubled``: see ``Unstuffer``."""
        self._fcs_octets = fcs_octets
        self._dle_undoubled = dle_undoubled
        self._buffer = bytearray()
        self._mode = _Mode.TEXT
        self._unstuffer = Unstuffer(undoubled=dle_undoubled)
        self._frame = bytearray()
        self._events: deque[ReaderEvent] = deque()
        # A line ended by CR: its LF may still come, and must not be taken for data.
        self._skip_lf = False
        self._line_start = False  # HDLC_START: a CR or LF came, so text may follow

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def expect_hdlc(self) -> None:
        """The next bytes are one DLE-shielded HDLC frame, then OK/ERROR.

        Before the frame's address octet (0xFF) a DCE may pass on HDLC flags or line
        noise, which are dropped; a CR LF there starts a result line instead of a frame
        (``NO CARRIER``, ``+FCERROR`` after CONNECT), which comes out as a ``Result``.
        """
        self._mode = _Mode.HDLC_START
        self._line_start = False
        self._unstuffer = Unstuffer(undoubled=self._dle_undoubled)
        self._frame = bytearray()

    def expect_data(self) -> None:
        """The next bytes are DLE-shielded page or TCF data up to DLE ETX."""
        self._mode = _Mode.DATA
        self._unstuffer = Unstuffer(undoubled=self._dle_undoubled)

    def take_pending(self) -> bytes:
        """Returns and forgets the bytes fed but not parsed yet: what followed the last
        event, e.g. the XON a Class 2 modem sends after CONNECT to ``+FDT``."""
        pending = bytes(self._buffer)
        self._buffer.clear()
        return pending

    def next_event(self) -> ReaderEvent | None:
        """Returns the next complete event, or None when more bytes are needed."""
        while not self._events:
            if not self._step():
                return None
        return self._events.popleft()

    def _step(self) -> bool:
        """Parses what it can; returns False if nothing could be done without more bytes."""
        if self._skip_lf and self._buffer:
            self._skip_lf = False
            if self._buffer[0] == 0x0A:
                del self._buffer[0]
                return True
        if self._mode is _Mode.HDLC_START:
            return self._hdlc_start()
        if self._mode in (_Mode.DATA, _Mode.HDLC):
            if not self._buffer:
                return False
            payload, end = self._unstuffer.feed(bytes(self._buffer))
            del self._buffer[: len(self._buffer) if end is None else end]
            if self._mode is _Mode.DATA:
                if payload:
                    self._events.append(DataChunk(payload))
                if end is not None:
                    self._events.append(DataEnd())
                    self._mode = _Mode.TEXT
            else:
                self._frame += payload
                if end is not None:
                    self._mode = _Mode.HDLC_RESULT
            return True
        line = self._take_line()
        if line is None:
            return False
        if self._mode is _Mode.HDLC_LINE:
            return self._hdlc_line(line)
        if not line:
            return True
        code = parse_result(line)
        if self._mode is _Mode.HDLC_RESULT and code is not None:
            self._mode = _Mode.TEXT
            fcs = self._fcs_octets
            frame = bytes(self._frame[: len(self._frame) - fcs]) if len(self._frame) >= fcs else b""
            self._events.append(HdlcFrame(frame, code))
            return True
        self._events.append(Result(code, line) if code is not None else InfoText(line))
        return True

    def _hdlc_start(self) -> bool:
        """Before the address octet: finds where the frame (or a result line) begins."""
        if not self._buffer:
            return False
        first = self._buffer[0]
        if first in (ADDRESS, DLE):
            self._mode = _Mode.HDLC
        elif first in (0x0D, 0x0A):
            self._line_start = True
            del self._buffer[0]
        elif self._line_start:
            self._mode = _Mode.HDLC_LINE
        else:
            del self._buffer[0]  # a flag (0x7E) or noise the DCE passed on: not the frame
        return True

    def _hdlc_line(self, line: str) -> bool:
        """A line after CR LF where a frame was expected: a result ends the receive."""
        code = parse_result(line)
        if code is None:
            self._mode = _Mode.HDLC_START  # text that is no result code: noise, keep looking
            return True
        self._mode = _Mode.TEXT
        self._events.append(Result(code, line))
        return True

    def _take_line(self) -> str | None:
        """Returns the next CR/LF-terminated line (maybe empty), or None if incomplete."""
        ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
        if ends:
            i = min(ends)
            self._skip_lf = self._buffer[i] == 0x0D
            raw = bytes(self._buffer[:i])
            del self._buffer[: i + 1]
            return raw.decode("ascii", errors="replace").strip()
        if len(self._buffer) > self.MAX_LINE:
            self._buffer.clear()
            return ""
        return None
