"""``FaxError``: the root of every exception faxd raises on purpose.

This package imports nothing, so every package may import it, the pure ones included
(``routing`` and ``drivers.t30`` import the standard library and this root only; the
import-rules test, tests/test_import_rules.py, enforces it). Catch ``FaxError`` where any of faxd's own refusals may
arrive and a person needs the message; the message always says what to do.

The branches live beside the code that raises them:

- ``drivers.t30.errors``: ``ProtocolError`` -> ``LocalProtocolError`` (a bug on our side),
  ``RemoteProtocolError`` (bytes that are not a T.30 frame; see that module for what the
  driver does with one).
- ``drivers.port``: ``DriverError`` -> ``PortError``, ``ModemTimeout``;
  ``drivers.at_link.ModemError``; ``drivers.modem.ModemUnavailable`` (the modem cannot be
  used at all); ``drivers.quirks.ProfileError`` (a modem profile that cannot be used).
- ``drivers.t4.errors.T4DecodeError`` and ``drivers.simulator.profiles.SimulatorProfileError``
  (the simulator's remotes and simulated modem; not the driver's modem profile), also
  ``ValueError``s, as they were before there was a root.
- ``routing.errors``: ``RoutingError`` -> ``MetadataError``, ``RouteRefused``,
  ``DirectoryInvalid``.
- ``spool.inspection.DocumentRejected``: the file cannot be faxed.
- ``imaging.limits.DocumentRenderError`` -> ``imaging.isolate.Refused``.
- ``faxd.config.ConfigError``, ``faxd.cli_support.CliError``.
- ``faxd.audit.keys.AuditError`` -> ``KeyMissing``, ``faxd.audit.cli.LogNotIntact``: the confirmation
  log cannot be used as asked.

Line outcomes (busy, training failed, protocol error of the remote...) are not exceptions
but values: ``drivers.modem.Outcome`` in a ``CallResult``.
"""

from __future__ import annotations


class FaxError(Exception):
    """Root of faxd's exceptions: every error faxd raises on purpose derives from it."""


__all__ = ["FaxError"]
