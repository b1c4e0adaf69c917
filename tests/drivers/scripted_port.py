"""A modem played from a transcript, for driver tests that need a DCE to misbehave exactly.

``ScriptedPort`` stands in for ``drivers.port.SerialPort``: each step of the script is what
the host must write next and what the modem answers, optionally after a delay on a fake
clock. Answers come out one byte per ``read`` (the driver must cope with any split), and a
``read`` with nothing due advances the fake clock to the next answer or by its timeout, so
T.30 timers of 35 s run in microseconds. ``install`` points ``drivers.at_link``'s and
``drivers.class1``'s clock at it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pytest

from drivers.quirks import FlowControl

#: ``Step.expect`` for page or TCF data: anything up to the DLE ETX that ends it.
DATA = b"<data>"


@dataclass(frozen=True, slots=True)
class Step:
    expect: bytes  # what the host writes (exactly), or DATA
    answer: bytes = b""  # what the modem sends back
    delay: float = 0.0  # seconds of fake time before the answer is readable


def ok(command: str) -> Step:
    return Step(f"AT{command}\r".encode(), b"\r\nOK\r\n")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@dataclass
class ScriptedPort:
    script: deque[Step]
    clock: FakeClock = field(default_factory=FakeClock)
    device: str = "scripted"
    flow_control: FlowControl = FlowControl.RTSCTS
    written: list[bytes] = field(default_factory=list)  # every write, as written
    unexpected: list[bytes] = field(default_factory=list)  # writes the script did not expect
    pacing: list[bool] = field(default_factory=list)  # pace_output calls
    _host: bytearray = field(default_factory=bytearray)
    _due: deque[tuple[float, bytes]] = field(default_factory=deque)

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))
        self._host += data
        while self.script:
            step = self.script[0]
            if step.expect == DATA:
                end = _data_end(self._host)
                if end is None:
                    return
                consumed = end
            elif self._host.startswith(step.expect):
                consumed = len(step.expect)
            elif len(self._host) < len(step.expect) and step.expect.startswith(bytes(self._host)):
                return  # the rest of the command is still to come
            else:
                self.unexpected.append(bytes(self._host))
                self._host.clear()
                return
            del self._host[:consumed]
            self.script.popleft()
            if step.answer:
                self._due.append((self.clock.now + step.delay, step.answer))
            if not self._host:
                return

    def read(self, timeout: float) -> bytes:
        if self._due and self._due[0][0] <= self.clock.now:
            when, data = self._due.popleft()
            if len(data) > 1:
                self._due.appendleft((when, data[1:]))
            return data[:1]
        until = self.clock.now + max(timeout, 0.0)
        if self._due and self._due[0][0] <= until:
            self.clock.now = self._due[0][0]
            return self.read(0)
        self.clock.now = until
        return b""

    def pace_output(self, on: bool) -> None:
        self.pacing.append(on)

    def discard_input(self) -> None:
        pass

    def close(self) -> None:
        pass

    def commands(self) -> list[str]:
        """The AT command lines the host wrote, in order."""
        text = b"".join(self.written)
        return [part.decode("ascii", "replace") for part in text.split(b"\r") if part.startswith(b"AT")]


def _data_end(data: bytearray) -> int | None:
    i = 0
    while (i := data.find(b"\x10", i)) >= 0 and i + 1 < len(data):
        if data[i + 1] == 0x03:
            return i + 2
        i += 2
    return None


def install(monkeypatch: pytest.MonkeyPatch, port: ScriptedPort) -> None:
    """Makes the driver modules read ``port``'s fake clock."""
    import drivers.at_link
    import drivers.class1

    monkeypatch.setattr(drivers.at_link, "time", port.clock)
    monkeypatch.setattr(drivers.class1, "time", port.clock)


def hdlc(frame: bytes, result: str = "OK") -> bytes:
    """What a DCE sends for one received frame: data (DLE doubled), a dummy FCS, DLE ETX,
    the result."""
    return (frame + b"\x00\x00").replace(b"\x10", b"\x10\x10") + b"\x10\x03" + f"\r\n{result}\r\n".encode()
