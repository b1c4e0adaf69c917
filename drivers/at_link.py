"""The T.31 (Class 1) command layer: AT commands and their responses over a serial port.

``T31Link`` turns "send these HDLC frames", "receive one V.21 transmission", "send this
data at 9600 bit/s" into the AT+FTH/+FRH/+FTM/+FTS/+FRS dialogues of T.31 8.3, with a
deadline on every wait so that a dead modem ends in ``ModemTimeout``, never in a hang.
Parsing is left to the sans-IO ``drivers.at_codec.ModemReader``: this module is the half of
the AT interface that waits on the port, ``at_codec`` the half that only turns bytes into events.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from drivers.at_codec import (
    CAN,
    END_OF_DATA,
    HdlcFrame,
    InfoText,
    ModemReader,
    ReaderEvent,
    Result,
    ResultCode,
    stuff,
)
from drivers.port import DriverError, ModemTimeout, SerialPort
from drivers.quirks import Class1Quirks
from drivers.t30.frames import CONTROL_FINAL

#: Once CONNECT has come, a V.21 frame of up to ~70 octets takes < 3 s (T.30 5.4.3.1, T2
#: "flagged"); allow some slack for a slow DTE link.
FRAME_TIMEOUT = 5.0
#: Page data is written in pieces of this much line time: big enough that the modem is
#: never left waiting on us between pieces (it would underrun and fill mid scan line),
#: small enough that each write finishes well inside the port's write timeout.
WRITE_CHUNK_SECONDS = 10
#: After +FCERROR, NO CARRIER or ERROR in answer to +FRH=3 we pause this long before
#: asking again (HylaFAX does the same, Class1.c++): the remote's carrier may not have
#: started yet, or a burst of noise was taken for the wrong modulation.
RECEIVE_RETRY_PAUSE = 0.2


class ModemError(DriverError):
    """The modem answered a command with something T.31 does not allow there."""


class ProtocolTrace:
    """A per-call protocol trace file: one line per AT command, response, frame and data
    transfer, stamped with seconds since the call started (wall time in the header).

    For people debugging a line; never the journal. Page data itself is not written,
    only its size.
    """

    def __init__(self, path: Path, *, title: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("x", encoding="utf-8")  # never overwrite another call's
        self._start = time.monotonic()
        self._file.write(f"# {title}, started {datetime.now(UTC).isoformat(timespec='milliseconds')}\n")

    def line(self, text: str) -> None:
        """Writes one stamped line."""
        if not self._file.closed:
            self._file.write(f"{time.monotonic() - self._start:9.3f} {text}\n")

    def close(self) -> None:
        self._file.close()


class T31Link:
    """Class 1 commands on one open port."""

    def __init__(
        self,
        port: SerialPort,
        *,
        command_timeout: float = 5.0,
        quirks: Class1Quirks | None = None,
        line_time_factor: float = 1.5,
    ) -> None:
        self.port = port
        self.command_timeout = command_timeout
        # The wait for OK after page data allows this many times its line time.
        self.line_time_factor = line_time_factor
        self.quirks = quirks or Class1Quirks()
        self.reader = self.new_reader()
        self.info: list[str] = []  # information lines of the last command
        self.trace: ProtocolTrace | None = None

    def _trace(self, text: str) -> None:
        if self.trace is not None:
            self.trace.line(text)

    def new_reader(self) -> ModemReader:
        """Returns a fresh reader that knows this modem's quirks."""
        quirks = self.quirks
        return ModemReader(fcs_octets=quirks.received_fcs_octets, dle_undoubled=quirks.dle_undoubled)

    # --- basic commands -------------------------------------------------------------

    def command(self, text: str, *, timeout: float | None = None) -> Result:
        """Sends ``AT<text>`` and returns its final result; information lines go to ``info``.

        Raises ``ModemTimeout`` if no result comes in time.
        """
        self.info = []
        # Whatever has arrived by now answers an earlier, abandoned command (a late OK after
        # a timeout): drop it, or every later command would read its predecessor's result.
        self.port.read(0)
        self.reader = self.new_reader()
        self.port.write(f"AT{text}\r".encode("ascii"))
        self._trace(f"> AT{text}")
        seconds = self.command_timeout if timeout is None else timeout
        result = self.wait_result(time.monotonic() + seconds)
        if result is None:
            raise ModemTimeout(f"the modem did not answer AT{text} within {seconds:g} s")
        return result

    def expect(self, text: str, code: ResultCode, *, timeout: float | None = None) -> None:
        """Sends ``AT<text>``; raises ``ModemError`` unless the result is ``code``."""
        result = self.command(text, timeout=timeout)
        if result.code is not code:
            raise ModemError(f"the modem answered AT{text} with {result.text}, expected {code.value}")

    def wait_result(self, deadline: float) -> Result | None:
        """Returns the next result code before ``deadline``, or None."""
        while (event := self.next_event(deadline)) is not None:
            if isinstance(event, Result):
                self._trace(f"< {event.text}")
                return event
            if isinstance(event, InfoText):
                self._trace(f"< {event.text}")
                self.info.append(event.text)
        return None

    def next_event(self, deadline: float) -> ReaderEvent | None:
        """Returns the next parsed event before the monotonic ``deadline``, or None."""
        while (event := self.reader.next_event()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.reader.feed(self.port.read(min(remaining, 0.5)))
        return event

    # --- T.31 8.3 operations --------------------------------------------------------

    def send_frames(self, frames: Sequence[bytes]) -> None:
        """Sends frames in one V.21 transmission (``AT+FTH=3``, T.31 8.3.3).

        After each frame the DCE says CONNECT (ready for the next) or, after the final one,
        OK once the carrier is off. Raises ``ModemError``/``ModemTimeout`` otherwise.
        """
        self.expect("+FTH=3", ResultCode.CONNECT)
        for frame in frames:
            final = len(frame) > 1 and frame[1] == CONTROL_FINAL
            self.port.write(stuff(frame) + END_OF_DATA)
            self._trace(f"> HDLC {frame.hex(' ')} <DLE><ETX>")
            # 300 bit/s: each octet takes 27 ms on the line before the DCE answers.
            timeout = self.command_timeout + len(frame) * 8 / 300
            result = self.wait_result(time.monotonic() + timeout)
            wanted = ResultCode.OK if final else ResultCode.CONNECT
            if result is None:
                raise ModemTimeout("the modem did not confirm an HDLC frame")
            if result.code is not wanted:
                raise ModemError(f"the modem answered an HDLC frame with {result.text}, expected {wanted.value}")

    def receive_frames(self, timeout: float, *, connected: bool = False) -> list[HdlcFrame]:
        """Returns the frames of one V.21 transmission, up to its final frame.

        ``connected`` means the DCE already said CONNECT (after ``ATD``). Frames with a bad
        FCS are included with ``fcs_ok=False``. Returns what it has (maybe nothing) when
        ``timeout`` passes with no frame, or the carrier ends early.

        ``+FCERROR``, ``NO CARRIER`` or ``ERROR`` before the first frame (in answer to
        ``+FRH=3`` or after its CONNECT) do not end the wait: the remote's carrier has not
        started, or noise was taken for another modulation. As HylaFAX does, we pause
        briefly and ask again until ``timeout`` (the T.30 timer the engine gave) runs out.
        """
        frames: list[HdlcFrame] = []
        deadline = time.monotonic() + timeout
        while True:
            if not connected:
                self.port.write(b"AT+FRH=3\r")
                self._trace("> AT+FRH=3")
                result = self.wait_result(deadline)
                if result is None:
                    self.abort_receive()
                    return frames
                if result.code is not ResultCode.CONNECT:
                    if frames or not self._retry_pause(deadline):
                        return frames  # after a frame: the transmission is over
                    continue
            self.reader.expect_hdlc()
            event = self.next_event(max(deadline, time.monotonic() + FRAME_TIMEOUT))
            while isinstance(event, InfoText):
                event = self.next_event(max(deadline, time.monotonic() + FRAME_TIMEOUT))
            if isinstance(event, Result):
                # A result where a frame should be (T.31 8.3.5: the carrier was lost).
                self._trace(f"< {event.text} (after CONNECT)")
                if frames or not self._retry_pause(deadline):
                    return frames
                connected = False
                continue
            if not isinstance(event, HdlcFrame):
                if event is None:
                    self.abort_receive()
                return frames
            frames.append(event)
            self._trace(f"< HDLC {event.data.hex(' ')} <DLE><ETX> {event.result.value}")
            if event.result not in (ResultCode.OK, ResultCode.ERROR):
                return frames  # NO CARRIER after the frame: the transmission is over
            if event.fcs_ok and event.data[1] == CONTROL_FINAL:
                return frames
            connected = False  # T.31 8.3.5: the DTE asks again for the next frame
            deadline = max(deadline, time.monotonic() + FRAME_TIMEOUT)

    def _retry_pause(self, deadline: float) -> bool:
        """Waits ``RECEIVE_RETRY_PAUSE`` before +FRH=3 is issued again; returns False (no
        wait) when the deadline would pass first."""
        until = time.monotonic() + RECEIVE_RETRY_PAUSE
        if until >= deadline:
            return False
        self.quiet(until)
        return True

    def quiet(self, until: float) -> None:
        """Lets the line stay quiet until the monotonic time ``until``; whatever the DCE
        says meanwhile answers nothing we asked and is dropped."""
        while (remaining := until - time.monotonic()) > 0:
            stray = self.port.read(remaining)
            if stray:
                self._trace(f"< (ignored while waiting) {stray!r}")
        self.reader = self.new_reader()

    def send_data(self, code: int, data: bytes, *, bps: int) -> None:
        """Sends TCF or page data with ``AT+FTM=<code>`` (T.31 8.3.2).

        The DCE says OK once the last bit left and the carrier is off.
        Raises ``ModemError``/``ModemTimeout``.
        """
        self.expect(f"+FTM={code}", ResultCode.CONNECT)
        if self.quirks.tm_connect_delay_ms:
            # Some DCEs lose the first octets written right after CONNECT (quirk).
            self.quiet(time.monotonic() + self.quirks.tm_connect_delay_ms / 1000)
        payload = stuff(data) + END_OF_DATA
        self._trace(f"> data: {len(data)} octets ({len(data) * 8 / bps:.2f} s at {bps} bit/s) <DLE><ETX>")
        chunk = bps * WRITE_CHUNK_SECONDS // 8
        # With XON/XOFF the modem paces us by DC3/DC1 only while we send data; at any
        # other time those octets are frame data and the port must pass them on.
        self.port.pace_output(True)
        try:
            for start in range(0, len(payload), chunk):
                self.port.write(payload[start : start + chunk])
        finally:
            self.port.pace_output(False)
        # Without flow control all of it may sit in the DCE's buffer: allow its line time.
        line_seconds = len(data) * 8 / bps
        result = self.wait_result(time.monotonic() + self.command_timeout + self.line_time_factor * line_seconds)
        if result is None:
            raise ModemTimeout(f"the modem did not finish sending {len(data)} octets at {bps} bit/s")
        if result.code is not ResultCode.OK:
            raise ModemError(f"the modem answered the end of data with {result.text}, expected OK")

    def silence(self, ms: int, *, after_receive: bool) -> None:
        """Keeps the line quiet for ``ms`` (T.31 8.3.1 / 8.3.4).

        After receiving we use ``+FRS`` (wait until the remote's carrier has been gone that
        long); after sending, ``+FTS`` (stop sending and wait).
        """
        tens = max(1, math.ceil(ms / 10))
        if not after_receive:
            self.expect(f"+FTS={tens}", ResultCode.OK)
            return
        switching = self.quirks.switching_command
        if switching:
            self.expect(switching.format(tens=tens), ResultCode.OK)
        else:
            # No +FRS on this modem (quirk): keep quiet on the host for the same time.
            self._trace(f"  (host pause {tens * 10} ms instead of +FRS)")
            self.quiet(time.monotonic() + tens / 100)

    def abort_receive(self) -> None:
        """Stops a pending +FRH/+FRM: any character aborts it, the DCE then says OK."""
        self.port.write(bytes((CAN,)))
        self._trace("> <CAN> (abort receive)")
        self.wait_result(time.monotonic() + 1.0)
        self.reader = self.new_reader()  # whatever was half-parsed belongs to the aborted receive

    def hang_up(self) -> None:
        """Goes on hook; best effort, a modem that is gone raises ``DriverError``."""
        self.command("H0")
