"""``ScriptedHost``: a bare Class 1 DTE, for driving the simulator step by step.

Tests (and anyone commissioning fax software against the simulator) use it to play the
calling side command by command, including the parts our driver does not do: a T.30
procedure written out by hand, ECM frames, a broken frame. It knows T.31 framing (CR LF
result lines, DLE shielding, an HDLC frame followed by OK or ERROR) and nothing of T.30.

Every read has a deadline; nothing sleeps. ``TimeoutError`` means the modem said nothing
in time, which for a wedged modem is the expected answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from drivers.at_codec import END_OF_DATA, Unstuffer, stuff
from drivers.port import SerialPort
from drivers.quirks import FlowControl

RESULTS = ("OK", "CONNECT", "ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "+FCERROR")


@dataclass(frozen=True, slots=True)
class Received:
    """One frame after +FRH=3 (FCS included, as T.31 delivers it) and the result after it."""

    frame: bytes
    result: str  # OK (good FCS), ERROR (bad FCS), NO CARRIER

    @property
    def body(self) -> bytes:
        """Returns the frame without its two FCS octets."""
        return self.frame[:-2]


class ScriptedHost:
    """A Class 1 host on a pty, one command at a time."""

    def __init__(self, path: str, *, timeout: float = 5.0) -> None:
        self.port = SerialPort(path, flow_control=FlowControl.NONE)
        self.timeout = timeout
        self._buffer = bytearray()

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> ScriptedHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- lines and results ------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def command(self, text: str, *, timeout: float | None = None) -> tuple[list[str], str]:
        """Sends ``AT<text>``; returns the information lines and the result code."""
        self.write(f"AT{text}\r".encode("ascii"))
        return self.result(timeout=timeout)

    def result(self, *, timeout: float | None = None) -> tuple[list[str], str]:
        """Returns the lines up to the next result code, and that code.

        Raises ``TimeoutError`` if none comes in time."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        info: list[str] = []
        while True:
            line = self._line(deadline)
            if line in RESULTS:
                return info, line
            if line:
                info.append(line)

    def _line(self, deadline: float) -> str:
        while True:
            for end in (b"\r\n", b"\r"):
                index = self._buffer.find(end)
                if index >= 0:
                    line = bytes(self._buffer[:index]).decode("ascii", errors="replace").strip()
                    del self._buffer[: index + len(end)]
                    return line
            self._fill(deadline)

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the simulated modem said nothing in time")
        self._buffer += self.port.read(min(remaining, 0.5))

    # --- T.31 operations --------------------------------------------------------------

    def dial(self, number: str) -> str | Received:
        """``ATDT``; returns the first frame if the remote's V.21 came (CONNECT), else the
        result code (BUSY, NO CARRIER, ...)."""
        self.write(f"ATDT{number}\r".encode("ascii"))
        _, code = self.result(timeout=self.timeout)
        return self._frame() if code == "CONNECT" else code

    def receive_frame(self) -> str | Received:
        """``AT+FRH=3``; returns the frame, or the result if no frame came."""
        _, code = self.command("+FRH=3")
        return self._frame() if code == "CONNECT" else code

    def receive_transmission(self) -> list[Received]:
        """Returns the frames up to a final one (control 0x13 with good FCS) or no carrier."""
        frames: list[Received] = []
        while True:
            got = self.receive_frame()
            if isinstance(got, str):
                return frames
            frames.append(got)
            final = len(got.frame) > 1 and got.frame[1] == 0x13
            if got.result == "NO CARRIER" or (got.result == "OK" and final):
                return frames  # a bad FCS (ERROR) or a non-final frame: ask for the next

    def _frame(self) -> Received:
        deadline = time.monotonic() + self.timeout
        unstuffer = Unstuffer()
        frame = bytearray()
        while True:
            payload, end = unstuffer.feed(bytes(self._buffer))
            frame += payload
            if end is not None:
                del self._buffer[:end]
                break
            self._buffer.clear()
            self._fill(deadline)
        _, code = self.result()
        return Received(bytes(frame), code)

    def send_frames(self, frames: list[bytes]) -> str:
        """Sends frames in one +FTH=3 transmission; returns the result after the last."""
        _, code = self.command("+FTH=3")
        if code != "CONNECT":
            return code
        for frame in frames:
            self.write(stuff(frame) + END_OF_DATA)
            _, code = self.result()
            if code != "CONNECT":
                return code
        return code

    def send_data(self, code: int, data: bytes) -> str:
        """Sends TCF or page data with +FTM=<code>; returns the result after DLE ETX."""
        _, result = self.command(f"+FTM={code}")
        if result != "CONNECT":
            return result
        self.write(stuff(data) + END_OF_DATA)
        return self.result()[1]
