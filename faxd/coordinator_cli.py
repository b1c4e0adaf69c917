"""``faxctl outage ...`` and ``faxctl reconcile``: the coordinator's commands.

Declaring or ending an outage writes a signed log entry, so it needs the log's signing
key: run it as the daemon's user (``sudo -u faxd faxctl outage start ...``). Listing
outages and reconciling only read; the work list is made only from a log that verifies
(``faxd.audit.cli.verified_log``), unless ``--unverified`` says otherwise out loud.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from faxd import outage as outages
from faxd.audit.chain import entries
from faxd.audit.cli import open_read_only, verified_log
from faxd.audit.wiring import signing_chain
from faxd.config import Config
from faxd.reconcile import Reconciliation, reconcile, select
from faxd.store import Store


def _periods(config: Config) -> list[outages.Outage]:
    if not config.database.exists():
        return []
    conn = open_read_only(config.database)
    try:
        return outages.outages(entries(conn))
    finally:
        conn.close()


def _local(iso_time: str | None, zone: str) -> str:
    if not iso_time:
        return ""
    return datetime.fromisoformat(iso_time).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def cmd_start(args: argparse.Namespace, config: Config) -> int:
    decided = outages.decision_time(args.at, config.outage.timezone, datetime.now(UTC))
    store = Store(config.database, signing_chain(config))
    period, released = outages.start(store, args.reason, decided, outages.operator())
    print(
        f"outage {period.id} in force since {_local(period.started, config.outage.timezone)} "
        f"({config.outage.timezone}), declared by {period.started_by}: {period.reason}"
    )
    if released:
        print(f"{released} held documents released to the queue")
    return 0


def cmd_end(args: argparse.Namespace, config: Config) -> int:
    decided = outages.decision_time(args.at, config.outage.timezone, datetime.now(UTC))
    store = Store(config.database, signing_chain(config))
    period = outages.end(store, decided, outages.operator())
    print(
        f"outage {period.id} ended {_local(period.ended, config.outage.timezone)} ({config.outage.timezone}), "
        f"by {period.ended_by}; the work list: faxctl reconcile --outage {period.id}"
    )
    return 0


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    periods = _periods(config)
    shown = periods if args.outage_command == "list" else list(periods[-1:])
    if args.json:
        json.dump(
            [p.as_json() for p in shown] if args.outage_command == "list" else (shown[0].as_json() if shown else None),
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        print()
        return 0
    if not shown:
        print(f"no outage declared (documents dropped now: {config.outage.when_not_declared.value})")
        return 0
    zone = config.outage.timezone
    for p in shown:
        state = "IN FORCE" if p.open else f"ended {_local(p.ended, zone)} by {p.ended_by}"
        print(f"{p.id}  started {_local(p.started, zone)} by {p.started_by}  {state}  reason: {p.reason}")
    return 0


def cmd_reconcile(args: argparse.Namespace, config: Config) -> int:
    if not config.database.exists():
        raise outages.OutageError(f"no database at {config.database}: nothing was faxed with this configuration")
    log = verified_log(config, "work list", unverified=args.unverified).view
    period = select(outages.outages(log.events), args.outage)
    if period is None:
        raise outages.OutageError(
            f"no outage {args.outage}" if args.outage else "no outage has ended yet: end it first (faxctl outage end)"
        )
    if period.open:
        raise outages.OutageError(
            f"outage {period.id} is still in force: the date rules need its end (faxctl outage end [--at TIME])"
        )
    result = reconcile(log, period, ZoneInfo(config.outage.timezone), unit=args.unit)
    sys.stdout.write(render(result, args.format, config.outage.timezone))
    return 0


ITEM_COLUMNS = (
    "document_id",
    "reference",
    "message_type",
    "row",
    "sender",
    "event_date",
    "received",
    "action",
    "unit",
    "reason",
    "explanation",
)
MISSING_COLUMNS = (
    "document_id",
    "reference",
    "message_type",
    "sender",
    "recipient",
    "recipient_name",
    "state",
    "outcome",
    "reason",
    "todo",
)


def render(result: Reconciliation, fmt: str, zone: str) -> str:
    """The work list as text, JSON, CSV (a ``list`` column tells the two lists apart) or HTML."""
    items = [asdict(i) | {"action": i.action.value} for i in result.items]
    missing = [asdict(m) for m in result.not_arrived]
    if fmt == "json":
        return json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(("list", *ITEM_COLUMNS, "recipient", "recipient_name", "state", "outcome", "todo"))
        for i in items:
            writer.writerow(("register", *(i[c] for c in ITEM_COLUMNS), "", "", "", "", ""))
        for m in missing:
            writer.writerow(
                (
                    "not_arrived",
                    m["document_id"],
                    m["reference"],
                    m["message_type"],
                    "",
                    m["sender"],
                    "",
                    "",
                    "",
                    "",
                    m["reason"],
                    "",
                    m["recipient"],
                    m["recipient_name"],
                    m["state"],
                    m["outcome"],
                    m["todo"],
                )
            )
        return out.getvalue()
    o = result.outage
    title = (
        f"Outage {o.id}: {_local(o.started, zone)} – {_local(o.ended, zone)} ({zone}); "
        f"declared by {o.started_by}, ended by {o.ended_by}"
    )
    if fmt == "html":
        return _html(title, items, missing)
    lines = [title, "", "To register in Mina planer afterwards (per unit):"]
    lines += _text_table(items, ("unit", "action", "message_type", "reference", "event_date", "document_id"))
    lines += ["", "Never reached a recipient (follow up):"]
    lines += _text_table(missing, ("sender", "recipient", "state", "reference", "message_type", "reason", "todo"))
    return "\n".join(lines) + "\n"


def _text_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [
        [("—" if r[c] is None else str(r[c])) for c in columns]
        for r in sorted(rows, key=lambda r: tuple(str(r[c] or "") for c in columns))
    ]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    head = "  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    return [head.rstrip()] + [
        "  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]


def _html(title: str, items: list[dict[str, Any]], missing: list[dict[str, Any]]) -> str:
    def table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape('' if r[c] is None else str(r[c]))}</td>" for c in columns) + "</tr>"
            for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Reconciliation</title>'
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:2px 6px;font-size:12px;vertical-align:top}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><h2>To register in Mina planer</h2>"
        f"{table(items, ITEM_COLUMNS)}<h2>Never reached a recipient</h2>{table(missing, MISSING_COLUMNS)}"
        "</body></html>\n"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``faxctl outage ...`` and ``faxctl reconcile``; handlers take (args, config)."""
    outage = sub.add_parser("outage", help="the outage periods: declare, end, show")
    commands = outage.add_subparsers(dest="outage_command", required=True)
    p = commands.add_parser("start", help="declare the outage (the backup routine is in force)")
    p.add_argument("--reason", required=True, help="why, in words (no patient data)")
    p.add_argument("--at", help="when it was decided, ISO time (local unless an offset is given); default now")
    p.set_defaults(handler=cmd_start)
    p = commands.add_parser("end", help="end the outage (normal operation is back)")
    p.add_argument("--at", help="when it was decided, ISO time (local unless an offset is given); default now")
    p.set_defaults(handler=cmd_end)
    for name, text in (("status", "the latest outage"), ("list", "every outage")):
        p = commands.add_parser(name, help=text)
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=cmd_status)
    p = sub.add_parser("reconcile", help="after an outage: what each unit registers, and what never arrived")
    p.add_argument("--outage", help="outage id (default: the latest that has ended)")
    p.add_argument("--unit", help="only this unit's items (directory id)")
    p.add_argument("--format", choices=("table", "json", "csv", "html"), default="table")
    p.add_argument(
        "--unverified", action="store_true", help="list even if the log does not verify (a warning goes to stderr)"
    )
    p.set_defaults(handler=cmd_reconcile)
