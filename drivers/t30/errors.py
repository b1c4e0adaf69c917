"""Exceptions of the T.30 layer, under faxd's root ``FaxError`` (``faxerrors``).

Protocol errors say which side broke the rules:

- ``RemoteProtocolError``: bytes from the remote that are not a T.30 frame. Only
  ``frames.decode`` raises it, and it never fails a call by itself: the Class 1 driver drops
  such a frame as if it had not arrived (as it drops one with a bad FCS) and logs
  ``t30.frame_undecodable``. The engine then sees silence, repeats its command (T4, at most
  three tries, T.30 5.3.2) and, if nothing valid comes, ends the call with the *outcome*
  ``protocol_error``. A well-formed frame that T.30 does not allow at that point of the
  call is not an exception either: the engine sends DCN and ends with ``protocol_error``.
- ``LocalProtocolError``: our driver fed the engine an event that cannot happen in its
  state, a bug in faxd; the engine moves to ``State.FAILED``.

Line outcomes such as busy, training failure or a remote that broke T.30 are values
(``drivers.modem.Outcome`` in a ``CallResult``), never exceptions.
"""

from __future__ import annotations

from faxerrors import FaxError


class ProtocolError(FaxError):
    """The T.30 procedure was broken; the message names the state, event and phase."""


class LocalProtocolError(ProtocolError):
    """Our own side fed the engine something impossible: a bug in faxd, not a line fault."""


class RemoteProtocolError(ProtocolError):
    """The remote sent bytes that are not a T.30 frame (raised by ``frames.decode`` only)."""
