"""Exceptions of the T.30 layer.

``FaxError`` is the root of faxd's own exceptions. Protocol errors say which side broke the
rules: ``RemoteProtocolError`` when the other fax machine sent something T.30 does not allow
(the call fails, the job may be retried), ``LocalProtocolError`` when our driver fed the engine
an event that cannot happen in its state (a bug in faxd). Line outcomes such as busy or
training failure are values (``drivers.modem.Outcome``), never exceptions.
"""

from __future__ import annotations


class FaxError(Exception):
    """Root of faxd's exceptions."""


class ProtocolError(FaxError):
    """The T.30 procedure was broken; the message names the state, event and phase."""


class LocalProtocolError(ProtocolError):
    """Our own side fed the engine something impossible: a bug in faxd, not a line fault."""


class RemoteProtocolError(ProtocolError):
    """The remote fax machine sent something T.30 does not allow."""
