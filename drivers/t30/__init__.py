"""The T.30 fax procedure as a pure, sans-IO state machine (stdlib and faxd's error root only,
no I/O, no clock).

See ``engine.py`` for how a driver uses it, ``state.py`` for the rules.
"""

from drivers.t30.engine import T30Sender
from drivers.t30.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from drivers.t30.negotiation import StationCheck
from drivers.t30.session import Policy
from drivers.t30.state import State
from faxerrors import FaxError

__all__ = [
    "FaxError",
    "LocalProtocolError",
    "Policy",
    "ProtocolError",
    "RemoteProtocolError",
    "State",
    "StationCheck",
    "T30Sender",
]
