"""An emulated T.31 Class 1 DCE: the AT side of the simulated modem.

``EmulatedDce`` is fed the bytes the host writes to the pty and answers through a
``write`` callback, as a Class 1 modem would (T.31 8.3; behaviour modelled on SpanDSP's
``t31.c``). Behind it sits an ``AnsweringFax`` per call. Line time is spent through a
``pause`` callback, so the pty thread decides how real the pace is (``speed``).

Modes: COMMAND (AT lines, echo), HDLC_TX (+FTH: frames from the host), DATA_TX (+FTM:
TCF or page data from the host), RECEIVE_WAIT (+FRH/+FRM with nothing on the line: any
character aborts, T.31 8.3.4).
"""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Callable

from drivers.at import CAN, END_OF_DATA, Unstuffer, stuff
from drivers.modem import Outcome
from drivers.simulator import wire
from drivers.simulator.remote import Answer, AnsweringFax, ReceivedCall, RemoteProfile

#: V.21 channel 2 runs at 300 bit/s; a transmission starts with ~1 s of flags (T.30 5.3.1).
V21_BPS = 300
PREAMBLE_SECONDS = 1.0
RING_SECONDS = 4.0  # ringing until the remote answers, at speed 1.0

_FTM_CODES = "24,48,72,73,74,96,97,98,121,122,145,146"
_IDENTITY = {"+FMI?": "faxd", "+FMM?": "faxd simulated Class 1 modem", "+FMR?": "1.0"}


class _Mode(enum.Enum):
    COMMAND = "command"
    HDLC_TX = "hdlc_tx"
    DATA_TX = "data_tx"
    RECEIVE_WAIT = "receive_wait"


class EmulatedDce:
    """A Class 1 modem whose line leads to a simulated answering fax machine."""

    def __init__(
        self,
        *,
        write: Callable[[bytes], None],
        pause: Callable[[float], None],
        profile_for: Callable[[str], RemoteProfile],
        on_call_ended: Callable[[ReceivedCall], None],
    ) -> None:
        """``profile_for`` returns the remote that answers a dialled number."""
        self._write = write
        self._pause = pause
        self._profile_for = profile_for
        self._on_call_ended = on_call_ended
        self.call_count = 0
        self.call: AnsweringFax | None = None
        self._mode = _Mode.COMMAND
        self._reset()

    # --- input ----------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Handles bytes the host wrote."""
        while data:
            if self._mode is _Mode.COMMAND:
                data = self._command_bytes(data)
            elif self._mode is _Mode.RECEIVE_WAIT:
                self._mode = _Mode.COMMAND
                self._respond("OK")  # T.31 8.3.4: any character aborts the receive
                data = data[1:]
            else:
                data = self._data_bytes(data)

    def hang_up(self, reason: str) -> None:
        """Ends the call in progress, if any (ATH, ATZ, host gone)."""
        if self.call is not None:
            call, self.call = self.call, None
            if not call.done and call.outcome is not Outcome.CONFIRMED:
                call.reason = f"{call.reason} ({reason})"
            self._on_call_ended(call.finished())
        self._rx_queue.clear()

    # --- command mode ---------------------------------------------------------------

    def _reset(self) -> None:
        self._mode = _Mode.COMMAND
        self._echo = True
        self._line = bytearray()
        self._unstuffer = Unstuffer()
        self._tx_frame = bytearray()
        self._tx_frames: list[bytes] = []
        self._tx_data = bytearray()
        self._tx_code = 0
        # Transmissions of the remote not yet read by the host: lists of frames.
        self._rx_queue: deque[list[bytes]] = deque()
        self._in_burst = False  # the host is reading a transmission frame by frame

    def _command_bytes(self, data: bytes) -> bytes:
        """Collects a command line; returns the bytes left after it if the mode changed."""
        for index, byte in enumerate(data):
            if self._echo:
                self._write(bytes((byte,)))
            if byte == 0x0D:
                line = self._line.decode("ascii", errors="replace")
                self._line.clear()
                self._execute(line)
                if self._mode is not _Mode.COMMAND:
                    return data[index + 1 :]
            elif byte == 0x08:
                del self._line[-1:]
            elif byte not in (0x0A, CAN) and len(self._line) < 256:
                self._line.append(byte)
        return b""

    def _respond(self, *lines: str) -> None:
        self._write(b"".join(b"\r\n" + line.encode("ascii") + b"\r\n" for line in lines))

    def _execute(self, line: str) -> None:
        text = line.strip().upper().replace(" ", "")
        if not text.startswith("AT"):
            return  # V.250 5.2.1: a line without the AT prefix is ignored
        body = text[2:]
        info: list[str] = []
        while body:
            if body[0] == "D":
                self._dial(body[1:])
                return
            if body[0] == "+":
                command, _, body = body.partition(";")
                result = self._extended(command, info)
                if result != "OK":
                    if result:
                        self._respond(*info, result)
                    return
                continue
            match = re.match(r"(&?[A-Z])(\d*)(=\d*|\?)?", body)
            if match is None:
                self._respond("ERROR")
                return
            body = body[match.end() :]
            letter, value = match.group(1), match.group(2)
            if letter == "Z":
                self.hang_up("ATZ")
                self._reset()
            elif letter == "E":
                self._echo = value != "0"
            elif letter == "H":
                self.hang_up("ATH")
            elif letter == "I":
                info.append(_IDENTITY["+FMM?"])
            elif letter == "A":
                self._respond("ERROR")  # answering calls is not simulated
                return
        self._respond(*info, "OK")

    def _extended(self, command: str, info: list[str]) -> str:
        """Runs one +F command; returns "OK", "ERROR", or "" if it already responded."""
        name, _, value = command.partition("=")
        if command in _IDENTITY:
            info.append(_IDENTITY[command])
        elif command == "+FCLASS?":
            info.append("1")
        elif name == "+FCLASS":
            if value == "?":
                info.append("0,1,1.0")
            elif value not in ("0", "1", "1.0"):
                return "ERROR"
        elif value == "?" and name in ("+FTM", "+FRM"):
            info.append(_FTM_CODES)
        elif value == "?" and name in ("+FTH", "+FRH"):
            info.append("3")
        elif name in ("+FTS", "+FRS") and value.isdigit():
            self._pause(int(value) / 100)
        elif name == "+FTH" and value == "3" and self.call is not None:
            self._tx_frames = []
            self._start_tx(_Mode.HDLC_TX)
            return ""
        elif name == "+FTM" and value.isdigit() and int(value) in wire.MODULATION_CODES and self.call:
            self._tx_code = int(value)
            self._tx_data = bytearray()
            self._start_tx(_Mode.DATA_TX)
            return ""
        elif name in ("+FRH", "+FRM") and self.call is not None:
            if self._rx_queue and name == "+FRM":
                return "+FCERROR"  # the remote is sending V.21, not a high-speed carrier
            if self._rx_queue:
                self._deliver_frame()
            else:
                self._mode = _Mode.RECEIVE_WAIT
            return ""
        elif name not in ("+FAR", "+FCL", "+FIT", "+FDD", "+FLO"):
            return "ERROR"
        return "OK"

    # --- calls ----------------------------------------------------------------------

    def _dial(self, dial: str) -> None:
        number = dial.lstrip("TP").rstrip(";")
        if self.call is not None or not number:
            self._respond("ERROR")
            return
        self.call_count += 1
        profile = self._profile_for(number)
        call = AnsweringFax(profile=profile, call_id=self.call_count, number=number)
        self._pause(RING_SECONDS)
        if profile.answer is not Answer.FAX:
            call.outcome = Outcome.BUSY if profile.answer is Answer.BUSY else Outcome.NO_ANSWER
            call.reason = f"simulated {profile.answer.value}"
            self._on_call_ended(call.finished())
            self._respond({Answer.BUSY: "BUSY", Answer.NO_ANSWER: "NO ANSWER"}[profile.answer])
            return
        self.call = call
        self._rx_queue.append(call.identification())
        # After ATD the DCE reports CONNECT on V.21 flags and is receiving HDLC (T.31 8.3.5).
        self._deliver_frame()

    def _deliver_frame(self) -> None:
        """Sends the host the next frame of the remote's transmission (+FRH=3)."""
        frames = self._rx_queue[0]
        first = not self._in_burst
        frame = frames.pop(0)
        self._in_burst = bool(frames)
        if not frames:
            self._rx_queue.popleft()
        self._write(b"\r\nCONNECT\r\n")
        self._pause((PREAMBLE_SECONDS if first else 0.0) + (len(frame) + 4) * 8 / V21_BPS)
        self._write(stuff(frame + wire.fcs(frame)) + END_OF_DATA)
        self._respond("OK")  # good FCS; for a final frame, the carrier has dropped

    def _start_tx(self, mode: _Mode) -> None:
        self._mode = mode
        self._unstuffer = Unstuffer()
        self._tx_frame = bytearray()
        self._respond("CONNECT")

    # --- transmit modes -------------------------------------------------------------

    def _data_bytes(self, data: bytes) -> bytes:
        """Takes shielded data in HDLC_TX/DATA_TX; returns the bytes after DLE ETX."""
        payload, end = self._unstuffer.feed(data)
        if self._mode is _Mode.DATA_TX:
            self._tx_data += payload
            bps = wire.MODULATION_CODES[self._tx_code][0]
            self._pause(len(payload) * 8 / bps)
        else:
            self._tx_frame += payload
        if end is None:
            return b""
        rest = data[end:]
        if self._mode is _Mode.DATA_TX:
            self._end_data()
        else:
            self._end_frame()
        return rest

    def _end_frame(self) -> None:
        frame = bytes(self._tx_frame)
        self._tx_frame = bytearray()
        self._unstuffer = Unstuffer()
        self._pause((len(frame) + 4) * 8 / V21_BPS)
        final = len(frame) < 2 or frame[1] == wire.CONTROL_FINAL
        if frame:
            self._tx_frames.append(frame)
        if not final:
            self._respond("CONNECT")  # ready for the next frame of this transmission
            return
        self._mode = _Mode.COMMAND
        call = self.call
        if call is not None:
            reply = call.frames_received(self._tx_frames)
            if reply:
                self._rx_queue.append(reply)
            if call.done:
                self.hang_up("DCN")
        self._respond("OK")

    def _end_data(self) -> None:
        self._mode = _Mode.COMMAND
        if self.call is not None:
            reply = self.call.data_received(self._tx_code, bytes(self._tx_data))
            if reply:
                self._rx_queue.append(reply)
        self._tx_data = bytearray()
        self._respond("OK")
