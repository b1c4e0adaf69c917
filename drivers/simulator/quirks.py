"""How the simulated modem itself misbehaves: ``ModemQuirks``, per simulated modem.

Real Class 1 modems are less kind than T.31 reads. What the remote fax machine and the
line do is a ``RemoteProfile`` (per dialled number, ``profiles.py``); what the modem in
the host's serial port does is this, per ``SimulatedModem``. All off by default, so the
default modem is the kind one the older tests expect. The field names are the keys of a
``[quirks]`` table in a profile file (``load_quirks``).

- ``tx_buffer = 4096``: the modem buffers this many octets of page data (+FTM) and sends
  them at the line rate. The host must be held back (flow control) or data is lost: the
  remote then gets a damaged page (RTN without ECM, PPR with it). Needs ``speed`` > 0 or
  the default serial model below: the buffer drains in line time, the host fills it at
  ``serial_bps``.
- ``flow_control = "rtscts"``: how the modem holds the host back until the host sets it
  (``AT+IFC``, ``AT+FLO``, ``AT&K``): ``none``, ``xonxoff`` (it sends XOFF at high water
  and XON when drained; octets the host sends after XOFF, beyond what was already on
  the way, are lost) or ``rtscts`` (it stops reading the pty, so the host's writes
  block, as when CTS drops; a pty has no CTS line, so a host cannot ignore it here).
- ``no_frs = true``: ``AT+FRS`` is ERROR, as on modems that lack it (HylaFAX's
  ``Class1SwitchingCmd`` exists for them).
- ``connect_delay = 0.5``: line seconds between ``AT+FTM``/``AT+FTH`` and CONNECT
  beyond the training or flags themselves (a late CONNECT; HylaFAX's
  ``Class1TMConnectDelay``). Host data before CONNECT is kept, as a real modem's buffer
  keeps it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FlowControl(enum.Enum):
    """How a DCE holds the DTE back (V.250 6.2.12)."""

    NONE = "none"
    XONXOFF = "xonxoff"
    RTSCTS = "rtscts"


#: The DTE-DCE serial rate the model assumes for a host writing page data.
SERIAL_BPS = 115_200


@dataclass(frozen=True, slots=True, kw_only=True)
class ModemQuirks:
    """How one simulated modem behaves beyond T.31; see the module docstring."""

    tx_buffer: int | None = None
    flow_control: FlowControl = FlowControl.RTSCTS
    no_frs: bool = False
    connect_delay: float = 0.0
    serial_bps: int = SERIAL_BPS

    def __post_init__(self) -> None:
        """Raises ValueError for a value no modem could have."""
        if self.tx_buffer is not None and not 256 <= self.tx_buffer <= 1 << 20:
            raise ValueError("tx_buffer: 256 octets to 1 MiB")
        if not 0 <= self.connect_delay <= 30:
            raise ValueError("connect_delay: 0 to 30 seconds")
        if self.serial_bps < 2400:
            raise ValueError("serial_bps: at least 2400")


KIND = ModemQuirks()

__all__ = ["KIND", "SERIAL_BPS", "FlowControl", "ModemQuirks"]
