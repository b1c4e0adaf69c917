"""The T.30 fax procedure as a pure, sans-IO state machine (stdlib only, no I/O, no clock).

See ``engine.py`` for how a driver uses it, ``state.py`` for the rules.
"""

from drivers.t30.engine import T30Sender
from drivers.t30.errors import FaxError, LocalProtocolError, ProtocolError, RemoteProtocolError
from drivers.t30.negotiation import StationCheck
from drivers.t30.state import State

__all__ = [
    "FaxError",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "State",
    "StationCheck",
    "T30Sender",
]
