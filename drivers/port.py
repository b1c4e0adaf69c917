"""The serial port: the only module in faxd that uses pyserial.

``SerialPort`` opens a device path (``/dev/ttyUSB0``, a pty slave such as ``/dev/pts/7``)
or a pyserial URL (``loop://`` in tests), and offers reads that wait at most a given time,
measured on the monotonic clock.
"""

from __future__ import annotations

import os
import termios
import time

import serial

from drivers.quirks import FlowControl
from faxerrors import FaxError


class DriverError(FaxError):
    """The modem or its port misbehaved."""

    def where(self, device: str) -> str:
        """ " on DEVICE", for a message that wraps this error and must name the device once."""
        return f" on {device}"


class PortError(DriverError):
    """The serial port could not be opened, read or written."""

    def where(self, device: str) -> str:
        return ""  # its own message already names the device


class ModemTimeout(DriverError):
    """The modem did not answer a command in time."""


def _why(exc: BaseException) -> str:
    """The failure in words, without the device path (the caller's message names it once).
    termios.error (what pyserial's tcflush and tcsetattr raise on a port that went away) is
    no OSError and prints as a tuple: say it as OSError would. An OSError with an errno,
    pyserial's SerialException included, is said by its errno alone: its text repeats the
    path ("could not open port P: [Errno 2] No such file or directory: 'P'")."""
    if isinstance(exc, termios.error) and len(exc.args) == 2:
        return f"[Errno {exc.args[0]}] {exc.args[1]}"
    if isinstance(exc, OSError) and isinstance(exc.errno, int):
        return f"[Errno {exc.errno}] {os.strerror(exc.errno)}"
    return str(exc)


class SerialPort:
    """A serial port with monotonic-clock timeouts."""

    def __init__(
        self,
        device: str,
        *,
        speed: int = 115200,
        flow_control: FlowControl = FlowControl.RTSCTS,
        write_timeout: float = 60.0,
    ) -> None:
        """Opens ``device``. ``flow_control`` is how the modem paces page data: RTS/CTS
        (a pty ignores it), XON/XOFF (turned on only while data is sent: see
        ``pace_output``) or none. A write blocked longer than ``write_timeout`` (CTS or
        XOFF held by a wedged modem) fails instead of hanging.

        Raises ``PortError`` if the device cannot be opened.
        """
        self.device = device
        self.flow_control = flow_control
        try:
            self._serial = serial.serial_for_url(
                device,
                baudrate=speed,
                rtscts=flow_control is FlowControl.RTSCTS,
                xonxoff=False,
                timeout=0,
                write_timeout=write_timeout,
            )
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            raise PortError(f"cannot open modem port {device}: {_why(exc)}") from exc

    def read(self, timeout: float) -> bytes:
        """Returns the bytes that arrive within ``timeout`` seconds: as soon as there is at
        least one, or b"" when the time is up.

        Raises ``PortError`` if the device went away.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while True:
                waiting = self._serial.in_waiting
                if waiting:
                    return bytes(self._serial.read(waiting))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return b""
                # A blocking read of one byte is woken by the first byte to arrive.
                self._serial.timeout = remaining
                first = bytes(self._serial.read(1))
                self._serial.timeout = 0
                if first:
                    return first + bytes(self._serial.read(self._serial.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise PortError(f"reading modem port {self.device} failed: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Writes all of ``data``; blocks while the modem holds CTS off.

        No drain (tcdrain) after it: page data must reach the modem faster than the line
        takes it, or the modem underruns and fills mid scan line; waiting for the UART to
        empty between pieces would open exactly such gaps.

        Raises ``PortError`` if the device went away.
        """
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            raise PortError(f"writing modem port {self.device} failed: {exc}") from exc

    def pace_output(self, on: bool) -> None:
        """With XON/XOFF flow control: lets the modem's DC3/DC1 stop and restart our
        writes (``on``) or passes them on as data again. Received HDLC frames and page
        data may hold 0x11/0x13 octets, so the port honours them only while we send
        data (as HylaFAX switches its tty). Nothing to do for RTS/CTS or none.

        Raises ``PortError`` if the device went away.
        """
        if self.flow_control is not FlowControl.XONXOFF:
            return
        try:
            self._serial.xonxoff = on
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            raise PortError(f"setting XON/XOFF on modem port {self.device} failed: {_why(exc)}") from exc

    def discard_input(self) -> None:
        """Drops bytes a previous user of the port left unread.

        Raises ``PortError`` if the device went away.
        """
        try:
            self._serial.reset_input_buffer()
        except (serial.SerialException, OSError, termios.error) as exc:
            raise PortError(f"flushing modem port {self.device} failed: {_why(exc)}") from exc

    def close(self) -> None:
        self._serial.close()

    def fileno(self) -> int:
        """The device's file descriptor (for termios, as a file object offers it)."""
        return int(self._serial.fileno())

    @property
    def rtscts(self) -> bool:
        """Whether the port paces our writes by CTS now (as the OS driver was told)."""
        return bool(self._serial.rtscts)

    @property
    def xonxoff(self) -> bool:
        """Whether the port honours XON/XOFF from the modem now (see ``pace_output``)."""
        return bool(self._serial.xonxoff)
