"""``faxd``: the daemon's entry point."""

from __future__ import annotations

import argparse
import os
import sys

import structlog

from faxd.access import AccessError
from faxd.audit import AuditError
from faxd.config import ConfigError, config_path, load_config
from faxd.journal import journal_stream_is_stderr
from faxd.liveness import AlreadyRunning
from faxd.logs import configure
from routing.errors import DirectoryInvalid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="faxd", description="Fax gateway daemon: spool in, faxes out, log kept.")
    parser.add_argument("--config", help="configuration file (default: $FAXD_CONFIG or /etc/faxd/faxd.toml)")
    args = parser.parse_args(argv)
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        print(f"faxd: {exc}", file=sys.stderr)
        return 2
    journal = config.ops.journal == "on" or (config.ops.journal == "auto" and journal_stream_is_stderr())
    configure(config.log_format, journal=journal)
    from faxd.daemon import Daemon  # after logging is set up: modules bind loggers at import

    # At least 027: what the daemon writes is for its user and the auditors' group only
    # (faxd.access); a stricter umask (the unit's) is kept. Here, in the daemon's process,
    # not in Daemon: a test that builds a Daemon must not change its own process's umask.
    os.umask(os.umask(0o027) | 0o027)
    try:
        daemon = Daemon(config)
        return daemon.run()
    except (ConfigError, AuditError, AccessError) as exc:
        print(f"faxd: {exc}", file=sys.stderr)
        return 2
    except DirectoryInvalid as exc:
        structlog.get_logger("faxd").error("directory.invalid", path=str(config.directory), reason=str(exc))
        print(f"faxd: the fax directory {config.directory} is not valid:\n{exc}", file=sys.stderr)
        return 2
    except AlreadyRunning as exc:
        print(f"faxd: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"faxd: cannot start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
