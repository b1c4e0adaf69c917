"""The simulated modem's transmit buffer for page data (+FTM), and its flow control.

A real Class 1 modem takes page data from the serial port faster than the line carries
it (115200 bit/s in, 14400 out), into a buffer of a few KB. Unless the host is held back
the buffer overflows and data is lost: the page arrives damaged. ``TransmitBuffer``
keeps that account in line time, without sleeping itself: ``arrive`` says what of the
octets just read is kept and lost and whether to send XOFF; ``drain_seconds`` says how
long the line needs before the host may go on. The DCE spends that time (``pause``).

- ``NONE``: nothing holds the host back. While the host writes, the line drains
  ``bps / 8`` octets per second of serial time (10 bits an octet at ``serial_bps``);
  whatever does not fit is lost.
- ``RTSCTS``: the DCE reads no more than there is room for (``room``), so the host's
  writes block in the kernel, as when CTS drops. Nothing is lost.
- ``XONXOFF``: at three quarters full the DCE sends XOFF and notes how many octets the
  host had already written (``in_flight``: they were on the way, a real UART's FIFO and
  driver buffer); it lets the line drain to a quarter, sends XON, and counts what the host
  wrote meanwhile (``after_xoff``): octets sent while XOFF was in force are lost. A host
  that honours XOFF (a tty with IXON: the kernel stops its output) loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.simulator.quirks import FlowControl

XON, XOFF = 0x11, 0x13
#: Octets a host may still send after XOFF without losing them (see ``after_xoff``).
XOFF_SLACK = 1024


@dataclass(slots=True)
class Arrival:
    """What became of octets that reached the buffer."""

    kept: int  # the first ``kept`` octets go on the line
    lost: int  # the rest were lost
    send_xoff: bool = False  # XONXOFF: the buffer is at high water


class TransmitBuffer:
    """One +FTM transmission's buffer; see the module docstring."""

    def __init__(self, *, capacity: int, bps: int, serial_bps: int, mode: FlowControl) -> None:
        self.capacity = capacity
        self.bps = bps
        self.serial_bps = serial_bps
        self.mode = mode
        self.level = 0.0  # octets waiting for the line
        self.lost = 0  # octets lost in this transmission
        self.xoffs = 0  # XOFFs sent
        self._in_flight = 0  # XONXOFF: octets on the way when XOFF went
        self._keep = 0  # ... still to read; they are good
        self._drop = 0  # ... then octets sent in spite of XOFF; they are lost

    @property
    def high_water(self) -> int:
        return self.capacity * 3 // 4

    @property
    def low_water(self) -> int:
        return self.capacity // 4

    def room(self) -> int:
        """Returns how many octets fit now (RTSCTS reads no more than this; at least 1)."""
        return max(1, self.capacity - int(self.level))

    def arrive(self, octets: int, in_flight: int = 0) -> Arrival:
        """Accounts ``octets`` read from the host; ``in_flight`` is what the host has
        written and the DCE not read yet (XONXOFF: what is still on the way at XOFF)."""
        # While these octets crossed the serial port, the line went on draining.
        self.level = max(0.0, self.level - octets * 10 / self.serial_bps * self.bps / 8)
        kept = min(octets, self._keep)
        self._keep -= kept
        dropped = min(octets - kept, self._drop)
        self._drop -= dropped
        rest = octets - kept - dropped
        self.level += kept + rest
        self.lost += dropped
        if self.mode is FlowControl.NONE and self.level > self.capacity:
            over = min(rest, int(self.level - self.capacity))
            self.level -= over
            self.lost += over
            return Arrival(octets - dropped - over, dropped + over)
        if self.mode is FlowControl.XONXOFF and self.level >= self.high_water and not self._keep:
            self.xoffs += 1
            self._in_flight = in_flight
            return Arrival(octets - dropped, dropped, send_xoff=True)
        return Arrival(octets - dropped, dropped)

    def drain_seconds(self) -> float:
        """Returns the line seconds until the buffer is down to its low-water mark (all of
        it for the end of a transmission, ``finish``), and books the drain."""
        octets = max(0.0, self.level - self.low_water)
        self.level -= octets
        return octets * 8 / self.bps

    def finish_seconds(self) -> float:
        """Returns the line seconds the rest of the buffer takes, and books them."""
        octets, self.level = self.level, 0.0
        return octets * 8 / self.bps

    def must_wait(self) -> bool:
        """Returns whether RTS/CTS holds the host back now: the buffer is full."""
        return self.mode is FlowControl.RTSCTS and self.level >= self.capacity

    def after_xoff(self, in_flight_now: int) -> None:
        """XONXOFF, after the drain: the host has ``in_flight_now`` octets written and not
        read. What it wrote beyond what was on the way at XOFF, it wrote while told to stop."""
        # XOFF takes effect only once the host's kernel has processed it: what arrives in
        # that window (XOFF_SLACK) is not the host's fault, as a UART's FIFO is not.
        self._keep = min(in_flight_now, self._in_flight + XOFF_SLACK)
        self._drop = in_flight_now - self._keep


__all__ = ["XOFF", "XON", "Arrival", "FlowControl", "TransmitBuffer"]
