"""``faxctl``: the operator's and auditor's command line.

Reads the same configuration as the daemon (``--config`` or ``FAXD_CONFIG``) and the
same database, never through the daemon: it works while the daemon is down, which is
when an operator most needs it.

This module is the parser and the dispatch (with ``faxctl drill``); the commands live in
one module per group, each adding its parsers with ``register``: ``faxd/views_cli.py``
(log, status, lines), ``faxd/document_cli.py`` (send, route, directory, render, preview),
``faxd/modem_cli.py`` (modem simulate, probe), ``faxd/audit/cli.py`` (audit) and
``faxd/coordinator_cli.py`` (outage, reconcile); what they share is
``faxd/cli_support.py``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from drivers.quirks import ProfileError
from faxd.access import AccessError, require_reader
from faxd.audit import AuditError
from faxd.audit.cli import LogNotIntact
from faxd.audit.cli import register as register_audit
from faxd.audit.keys import KeyUnreadable
from faxd.audit.wiring import signing_chain
from faxd.cli_support import CliError, SetupError, load_directory, read_config
from faxd.config import ConfigError
from faxd.coordinator_cli import register as register_coordinator
from faxd.document_cli import register as register_documents
from faxd.drill import DrillError, start_drill
from faxd.modem_cli import register as register_modem
from faxd.outage import OutageError
from faxd.store import Store
from faxd.views_cli import register as register_views

# -- drill -------------------------------------------------------------------------------


def cmd_drill(args: argparse.Namespace) -> int:
    """Queue a readiness drill now; the running daemon sends it like any job."""
    config = read_config(args)
    if config.ops.drill is None:
        print(f"faxctl: {config.source}: no [drill] table: name the test recipient (drill.recipient)", file=sys.stderr)
        return 2
    try:
        store = Store(config.database, signing_chain(config))
        job_id = start_drill(config, store, load_directory(config), reason="faxctl drill")
    except (DrillError, AuditError) as exc:
        print(f"faxctl: {exc}", file=sys.stderr)
        return 2  # also for a caller who may not read the signing key
    print(f"drill queued as job {job_id}: see `faxctl status` for its result")
    return 0


# -- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faxctl", description="Operate and audit the faxd fax gateway.")
    parser.add_argument("--config", help="configuration file (default: $FAXD_CONFIG or /etc/faxd/faxd.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    # In this order: it is the order `faxctl --help` lists the commands in.
    register_views(sub)
    p = sub.add_parser("drill", help="send the readiness test fax to the [drill] recipient now")
    p.set_defaults(func=cmd_drill)
    register_documents(sub)
    register_modem(sub)
    register_audit(sub)
    register_coordinator(sub)
    return parser


#: Commands that read the state database: refused in one line (exit 2) for a caller
#: outside the daemon's user and the auditors' group (faxd.access).
READS_STATE = frozenset(
    {"log", "status", "lines", "drill", "reconcile", "outage", "audit verify", "audit export", "audit report"}
)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        command = args.command + (f" {args.audit_command}" if args.command == "audit" else "")
        if command in READS_STATE:
            require_reader(read_config(args))
        if hasattr(args, "handler"):  # commands that take the loaded configuration
            return int(args.handler(args, read_config(args)))
        return int(args.func(args))
    # ProfileError: a modem profile the command read itself (modem probe --profile-dir).
    except (ConfigError, SetupError, AccessError, KeyUnreadable, ProfileError) as exc:
        print(f"faxctl: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except LogNotIntact as exc:  # before AuditError: the exit status of a broken chain
        print(f"faxctl: {exc}", file=sys.stderr)
        return 3
    except (CliError, AuditError, OutageError) as exc:
        print(f"faxctl: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        # The state folder's database: unreadable, locked or not a database at all.
        print(f"faxctl: the database under paths.state cannot be used ({_one_line(str(exc))})", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
