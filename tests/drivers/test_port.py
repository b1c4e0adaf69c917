"""The serial port on a real pty whose other end goes away, as a modem unplugged does."""

from __future__ import annotations

import os
import pty

import pytest

from drivers.port import PortError, SerialPort
from faxerrors import FaxError


def test_a_port_whose_device_went_away_fails_with_a_port_error_in_words() -> None:
    """Each operation on a pty whose master was closed raises PortError (a FaxError, which
    the driver turns into "modem unavailable"), saying what failed as an OSError would;
    never termios.error, whose text is a tuple such as "(5, 'Input/output error')"."""
    master, slave = pty.openpty()
    port = SerialPort(os.ttyname(slave))
    os.close(master)
    try:
        for operation in (port.discard_input, lambda: port.write(b"AT\r"), lambda: port.read(0.1)):
            with pytest.raises(PortError) as failed:
                operation()
            assert isinstance(failed.value, FaxError)
            assert "[Errno 5] Input/output error" in str(failed.value), str(failed.value)
    finally:
        port.close()
        os.close(slave)
