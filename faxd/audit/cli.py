"""``faxctl audit ...``: keys, verification (and exports and the report).

Verification opens the database read-only and needs only the public key, so an
auditor can run it with a copy of the database, the head file and the public key.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from faxd.audit import export
from faxd.audit import head as head_module
from faxd.audit.journal_heads import read_journal
from faxd.audit.keys import AuditError, generate
from faxd.audit.verify import Verification, verify
from faxd.audit.wiring import head_file, verifier
from faxd.config import Config


def open_read_only(path: Path) -> sqlite3.Connection:
    """The database for reading only; a clear AuditError if it is missing or unreadable."""
    if not path.exists():
        raise AuditError(f"no database at {path}: the daemon has not run with this configuration")
    try:
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        except sqlite3.OperationalError:
            if Path(f"{path}-wal").exists():
                raise
            # A copy of a WAL database without its -shm file (an auditor's copy) cannot be
            # opened read-only the usual way; with no -wal beside it, nothing is missed.
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, timeout=30)
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read the database {path}: {exc} (is your user in the auditors' group?)") from None
    return conn


def run_verify(
    config: Config,
    public_key: str | None = None,
    checkpoints: str | None = None,
    journal: list[str] | None = None,
    *,
    journal_directory: str | None = None,
    journal_file: str | None = None,
) -> Verification:
    """Verify the log against the head file, a checkpoints export (``checkpoints``) and,
    when ``journal`` is a list, the journal's checkpoints read with journalctl (a note on
    what was read is appended to it). Raises AuditError, KeyMissing."""
    key = verifier(config, Path(public_key) if public_key else None)
    heads: list[head_module.Head] = []
    notes: list[str] = []
    published = head_file(config)
    if published is not None:
        try:
            heads, notes = published.read()
        except PermissionError:
            raise AuditError(f"cannot read the published head {published.path}: permission denied") from None
    if checkpoints:
        try:
            heads += list(head_module.read_checkpoints(Path(checkpoints)))
        except OSError as exc:
            raise AuditError(f"cannot read {checkpoints}: {exc.strerror}") from None
    if journal is not None:
        found = read_journal(
            key.fingerprint,
            directory=Path(journal_directory) if journal_directory else None,
            file=Path(journal_file) if journal_file else None,
        )
        heads += found.heads
        journal.append(found.note)
    conn = open_read_only(config.database)
    try:
        return verify(conn, key, heads, head_expected=published is not None)
    finally:
        conn.close()


class LogNotIntact(AuditError):
    """The log did not verify and a command would derive something from it (faxctl: exit
    status 3, as ``faxctl audit verify`` gives for a broken chain)."""


def first_break(result: Verification) -> str:
    """One line naming where the chain first breaks and how, as ``faxctl audit verify`` says it."""
    first = result.breaks[0]
    where = f" at entry {first.seq}" if first.seq is not None else ""
    detail = " ".join(first.detail.split())
    return f"the confirmation log is NOT intact, first break{where}: {first.kind.value}: {detail}"


def verified_log(config: Config, what: str, *, unverified: bool | None = None) -> Verification:
    """The log verified exactly as ``faxctl audit verify`` does (head file and journal), for
    a command that derives ``what`` (e.g. "work list") from it.

    Not intact: raises LogNotIntact naming the first break, unless ``unverified`` is True
    (the command's ``--unverified``): then one warning line on stderr and the result, whose
    ``view`` is the log as it stands. ``unverified=None``: the command offers no override."""
    result = run_verify(config, journal=[])
    if result.intact:
        return result
    if not unverified:
        override = f"; --unverified gives the {what} anyway" if unverified is False else ""
        raise LogNotIntact(f"no {what}: {first_break(result)}; `faxctl audit verify` lists every break{override}")
    print(
        f"faxctl: WARNING: {first_break(result)}; this {what} is made from it anyway (--unverified) "
        "and may show what was altered",
        file=sys.stderr,
    )
    return result


def print_verification(result: Verification, as_json: bool, notes: Sequence[str] = ()) -> int:
    """Print the result (and ``notes``: what else was compared); returns the exit status
    (0 intact, 3 not intact)."""
    if as_json:
        json.dump(result.as_json() | {"notes": list(notes)}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0 if result.intact else 3
    if result.intact:
        print(
            f"confirmation log intact: {result.entries} entries, signatures and chain verified; "
            f"published head: entry {result.head_seq}"
        )
        for note in notes:
            print(note)
        return 0
    first = result.breaks[0]
    where = f"entry {first.seq}" if first.seq is not None else "the log"
    print(f"confirmation log NOT intact ({result.entries} entries, published head: entry {result.head_seq})")
    print(f"first break at {where}: {first.kind.value}: {first.detail}")
    for problem in result.breaks[1:]:
        print(f"  also: {problem.kind.value}: {problem.detail}")
    for note in notes:
        print(note)
    return 3


def cmd_verify(args: argparse.Namespace, config: Config) -> int:
    notes: list[str] = []
    result = run_verify(
        config,
        args.public_key,
        args.checkpoints,
        None if args.journal == "off" else notes,
        journal_directory=args.journal_directory,
        journal_file=args.journal_file,
    )
    return print_verification(result, args.json, notes)


def _moment(text: str | None, zone: str, option: str) -> datetime | None:
    """``--since``/``--until``: an ISO date or time; local in ``zone`` without an offset."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AuditError(
            f"{option} {text!r} is not an ISO date or time such as 2026-03-09 or 2026-03-09T14:30"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    zone = config.outage.timezone
    since, until = _moment(args.since, zone, "--since"), _moment(args.until, zone, "--until")
    result = verified_log(config, "export", unverified=args.unverified)
    text = export.render(export.rows(result.view, since, until), args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_report(args: argparse.Namespace, config: Config) -> int:
    """``faxctl audit report``: the figures of the verified log as HTML or PDF (by -o's suffix)."""
    output = Path(args.output)
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("html", "pdf"):
        raise AuditError(f"-o {args.output}: the report is written as .html or .pdf, by the file's suffix")
    zone = config.outage.timezone
    since, until = _moment(args.since, zone, "--since"), _moment(args.until, zone, "--until")
    result = verified_log(config, "report")  # no override: a report is handed on as verified
    # Imported here: matplotlib and the renderers load only for the report, not for every faxctl.
    from faxd.audit import report_render
    from faxd.audit.report_data import report_data
    from faxd.outage import outages

    periods = outages(result.view.events)
    period = next((o for o in periods if o.id == args.outage), None) if args.outage else None
    if args.outage and period is None:
        raise AuditError(f"--outage {args.outage}: no such outage in the log (see `faxctl outage list`)")
    data = report_data(
        result.view,
        periods,
        since=since,
        until=until,
        outage=period,
        log_entries=result.entries,
        head_seq=result.head_seq,
    )
    tz = ZoneInfo(zone)
    content = report_render.render_html(data, tz).encode() if fmt == "html" else report_render.render_pdf(data, tz)
    # Written beside the target and renamed: a reader never sees half a report.
    partial = output.with_name(f".{output.name}.partial")
    try:
        partial.write_bytes(content)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise AuditError(f"cannot write {output}: {exc.strerror}") from None
    t = data.totals
    print(
        f"report {output}: {data.documents} documents, {t.messages} messages ({t.confirmed} confirmed, "
        f"{t.failed} failed, {t.open} open), from {result.entries} verified log entries"
    )
    return 0


def cmd_keygen(args: argparse.Namespace, config: Config) -> int:
    key = generate(config.audit.signing_key, config.audit.public_key)
    print(f"signing key {config.audit.signing_key} (keep it readable by the daemon's user only)")
    print(f"public key  {config.audit.public_key} (fingerprint {key.fingerprint}; give it to the auditors)")
    return 0


Handler = Callable[[argparse.Namespace, Config], int]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``faxctl audit ...``; each parser's ``handler`` takes (args, config)."""
    audit = sub.add_parser("audit", help="the confirmation log for auditors: keys, verify, export, report")
    commands = audit.add_subparsers(dest="audit_command", required=True)
    p = commands.add_parser("verify", help="check the signed chain, the published head and the queue's tables")
    p.add_argument("--json", action="store_true")
    p.add_argument("--public-key", help="the gateway's public key (default: audit.public_key)")
    p.add_argument("--checkpoints", help="a journal export with audit.checkpoint lines to compare as well")
    p.add_argument(
        "--journal",
        choices=("auto", "off"),
        default="auto",
        help="compare the journal's audit.checkpoint events too, read with journalctl (default: auto)",
    )
    p.add_argument("--journal-directory", help="a copy of the journal to read instead of the system's (journalctl -D)")
    p.add_argument("--journal-file", help="one journal file to read instead of the system's (journalctl --file)")
    p.set_defaults(handler=cmd_verify)
    p = commands.add_parser("export", help="one row per attempt and per confirmed page, from the verified log")
    p.add_argument("--since", help="attempts started at or after this ISO date/time (local unless an offset)")
    p.add_argument("--until", help="attempts started before this ISO date/time")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.add_argument("--unverified", action="store_true", help="export even if the log does not verify")
    p.set_defaults(handler=cmd_export)
    p = commands.add_parser("report", help="totals, tables, failures, times and a chart as HTML or PDF, verified log")
    p.add_argument("--since", help="documents received at or after this ISO date/time (local unless an offset)")
    p.add_argument("--until", help="documents received before this ISO date/time")
    p.add_argument("--outage", help="documents received or faxed during this outage (e.g. O-1)")
    p.add_argument("-o", "--output", required=True, help="FILE.html or FILE.pdf")
    p.set_defaults(handler=cmd_report)
    p = commands.add_parser("keygen", help="create the log's Ed25519 key pair once (refuses to replace one)")
    p.set_defaults(handler=cmd_keygen)
