"""``faxctl``: the operator's and auditor's command line.

Reads the same configuration as the daemon (``--config`` or ``FAXD_CONFIG``) and the
same database, never through the daemon: it works while the daemon is down, which is
when an operator most needs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.quirks import ProfileError
from faxd import liveness
from faxd.access import AccessError, require_reader
from faxd.audit import AuditError
from faxd.audit.cli import LogNotIntact, print_verification, run_verify
from faxd.audit.cli import register as register_audit
from faxd.audit.keys import KeyUnreadable
from faxd.audit.wiring import reading_chain, signing_chain
from faxd.config import Config, ConfigError, config_path, load_config
from faxd.coordinator_cli import register as register_coordinator
from faxd.drill import DrillError, start_drill
from faxd.health import snapshot
from faxd.outage import OutageError
from faxd.redact import allow_numbers, redact_filename, redact_tree
from faxd.store import Store
from faxerrors import FaxError
from spool.folders import SpoolFolders
from spool.queue import again_marker_of, sidecar_of, write_atomically

if TYPE_CHECKING:
    from faxd.intake import RoutedDocument
    from routing.directory import Directory


class CliError(FaxError):
    """A message for the operator; faxctl prints it and exits 1."""


class SetupError(CliError):
    """The configuration, the fax directory or the database cannot be used: exit status 2,
    as for a configuration error, so scripts tell "fix the set-up" from "this input"."""


def _load_directory(config: Config) -> Directory:
    from routing.directory import Directory
    from routing.errors import DirectoryInvalid

    try:
        return Directory.load(config.directory)
    except DirectoryInvalid as exc:
        if len(exc.problems) == 1:
            problem = exc.problems[0]
            where = f"line {problem.line}: " if problem.line else ""
            raise SetupError(f"the fax directory {config.directory}: {where}{problem.message}") from None
        raise SetupError(
            f"the fax directory {config.directory} is not valid ({len(exc.problems)} problems); "
            "`faxctl directory check FILE` lists them"
        ) from None
    except OSError as exc:
        raise SetupError(
            f"the fax directory {config.directory} cannot be read: {exc.strerror or exc}; check paths.directory"
        ) from None


def _config(args: argparse.Namespace) -> Config:
    return load_config(config_path(args.config))


def _store(config: Config) -> Store | None:
    return Store(config.database, reading_chain(config)) if config.database.exists() else None


def _print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


# -- log ---------------------------------------------------------------------------------


def cmd_log(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.verify:  # the older spelling of `faxctl audit verify`
        return print_verification(run_verify(config), False)
    store = _store(config)
    entries = store.confirmation_log() if store else []
    if args.json:
        json.dump(entries, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    _print_table(
        [
            (
                e["started"][:19].replace("T", " "),
                e["job_id"],
                e["message_type"],
                e["recipient"],
                e["number"],
                e["remote_id"],
                f"{e['pages_confirmed']}/{e['pages_total']}",
                e["outcome"] or "in progress",
                e["reason"],
            )
            for e in entries
        ],
        ("started (UTC)", "job", "type", "recipient", "number", "remote id", "pages", "outcome", "reason"),
    )
    return 0


# -- status ------------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    store = _store(config)
    jobs = store.jobs() if store else []
    daemon = liveness.check(config.state)
    modems = store.modems() if store else []
    if not daemon.answering:
        # What the database says was true while the daemon ran; shown as is it would lie.
        for job in jobs:
            if job["state"] == "active":
                job["state"] = "interrupted"
                job["reason"] = f"the daemon is {daemon.summary}; queued again at its next start"
        for modem in modems:
            modem["state"] = "unknown"
            modem["detail"] = f"the daemon is {daemon.summary}"
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job["state"]] = counts.get(job["state"], 0) + 1
    health = (
        snapshot(
            store,
            modem_names=tuple(m.name for m in config.modems),
            backlog_threshold=config.ops.backlog_threshold,
            storage=daemon.storage if daemon.answering else None,
        )
        if store
        else None
    )
    service: dict[str, Any] = health.as_dict() if health else {"state": "down", "reasons": [], "drill": None}
    if not daemon.answering:
        service["state"] = "down"
        service["reasons"] = [f"the daemon is {daemon.summary}", *list(service["reasons"])]
    status: dict[str, Any] = {
        "service": service,
        "daemon": {
            "state": "running" if daemon.answering else ("not answering" if daemon.running else "not running"),
            "summary": daemon.summary,
            "pid": daemon.pid,
            "heartbeat_age_seconds": daemon.heartbeat_age_seconds,
            "storage_alarm": daemon.storage,
        },
        "jobs": counts,
        "open_jobs": [j for j in jobs if j["state"] in ("queued", "active", "interrupted")],
        "held_jobs": [j for j in jobs if j["state"] == "held"],
        "outage_in_force": store.outage_in_force() if store else False,
        "failed_jobs": [j for j in jobs if j["state"] == "failed"],
        "quarantined": store.quarantined() if store else [],
        "modems": modems,
    }
    for entry in status["quarantined"]:
        entry["original_name"] = redact_filename(entry["original_name"])
    # Reasons and details may quote what a document said: nothing leaves unredacted. The
    # directory's own fax numbers are not identity numbers and stay readable.
    try:
        allow_numbers(u.fax for u in _load_directory(config).units.values())
    except SetupError:
        pass  # no directory to read: bare ten-digit numbers are masked as well
    status = redact_tree(status)
    if args.json:
        json.dump(status, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    print(f"daemon: {daemon.summary}")
    service = status["service"]
    print(f"service: {service['state']}" + (" - " + "; ".join(service["reasons"]) if service["reasons"] else ""))
    drill = service.get("drill")
    if drill and drill["result"] != "none":
        detail = f" ({drill['detail']})" if drill["detail"] else ""
        print(f"last drill: {drill['result']} at {str(drill['at'])[:19]}{detail}")
    print("jobs: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"))
    print(
        "outage: "
        + (
            "in force (faxctl outage status)"
            if status["outage_in_force"]
            else f"none declared; documents dropped now: {config.outage.when_not_declared.value}"
        )
    )
    print("\nmodems:")
    _print_table(
        [(m["name"], m["device"], m["state"], m["detail"], m["updated"][:19]) for m in status["modems"]],
        ("name", "device", "state", "detail", "since (UTC)"),
    )
    for title, key in (
        ("open jobs", "open_jobs"),
        ("failed jobs (follow up by hand)", "failed_jobs"),
        ("HELD: no outage declared (faxctl outage start sends them)", "held_jobs"),
    ):
        if status[key]:
            print(f"\n{title}:")
            _print_table(
                [
                    (
                        j["job_id"],
                        j["message_type"],
                        j["recipient"],
                        j["number"],
                        j["state"],
                        j["attempts"],
                        j["reason"],
                    )
                    for j in status[key]
                ],
                ("job", "type", "recipient", "number", "state", "tries", "last reason"),
            )
    if status["quarantined"]:
        print("\nquarantined documents:")
        _print_table(
            [(q["document_id"], q["received"][:19], q["reason"]) for q in status["quarantined"]],
            ("document", "received (UTC)", "reason"),
        )
    return 0


# -- drill -------------------------------------------------------------------------------


def cmd_drill(args: argparse.Namespace) -> int:
    """Queue a readiness drill now; the running daemon sends it like any job."""
    config = _config(args)
    if config.ops.drill is None:
        print(f"faxctl: {config.source}: no [drill] table: name the test recipient (drill.recipient)", file=sys.stderr)
        return 2
    try:
        store = Store(config.database, signing_chain(config))
        job_id = start_drill(config, store, _load_directory(config), reason="faxctl drill")
    except (DrillError, AuditError) as exc:
        print(f"faxctl: {exc}", file=sys.stderr)
        return 2  # also for a caller who may not read the signing key
    print(f"drill queued as job {job_id}: see `faxctl status` for its result")
    return 0


# -- lines -------------------------------------------------------------------------------


def cmd_lines(args: argparse.Namespace) -> int:
    """What each remote number's line took last time, and the rate the next call starts at."""
    from datetime import UTC, datetime

    from faxd.line_memory import FILE_NAME, LineMemory

    config = _config(args)
    records = LineMemory(config.state).records() if (config.state / FILE_NAME).exists() else []
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "number": r.number,
            "updated": r.updated.isoformat(timespec="seconds"),
            "calls": r.calls,
            "trained_bps": r.trained_bps,
            "rtn_bps": r.rtn_bps,
            "ecm_trouble": r.ecm_trouble,
            "last_outcome": r.last_outcome,
            "next_start_bps": r.start_rate(now),
        }
        for r in records
    ]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    if not rows:
        print("no line memory yet")
        return 0
    _print_table(
        [
            (
                r["number"],
                r["updated"][:19],
                r["calls"],
                r["trained_bps"],
                r["rtn_bps"],
                "yes" if r["ecm_trouble"] else "",
                r["last_outcome"],
                r["next_start_bps"] or "fastest",
            )
            for r in rows
        ],
        ("number", "last call (UTC)", "calls", "trained", "RTN at", "ECM trouble", "outcome", "next starts at"),
    )
    return 0


# -- send --------------------------------------------------------------------------------


def cmd_send(args: argparse.Namespace) -> int:
    config = _config(args)
    incoming = SpoolFolders(config.spool).incoming
    if not incoming.is_dir():
        raise CliError(f"the spool folder {incoming} does not exist: start the daemon once, or check paths.spool")
    source = Path(args.file)
    try:
        data = source.read_bytes()
        meta = Path(args.meta).read_bytes() if args.meta else None
    except OSError as exc:
        raise CliError(f"cannot read {exc.filename}: {exc.strerror}") from None
    if meta is not None:
        try:
            json.loads(meta)
        except json.JSONDecodeError as exc:
            raise CliError(f"{args.meta} is not valid JSON: {exc}") from None
    name = source.name if source.suffix.lower() == ".pdf" else source.name + ".pdf"
    target = incoming / name
    counter = 1
    while target.exists() or sidecar_of(target).exists():
        target = incoming / f"{Path(name).stem}-{counter}.pdf"
        counter += 1
    # The sidecar goes in first: the daemon takes the PDF the moment it appears.
    companions: list[Path] = []
    try:
        if meta is not None:
            companions.append(sidecar_of(target))
            write_atomically(companions[-1], meta)
        if args.again:
            # The marker travels with the document: send it even if it is a duplicate.
            companions.append(again_marker_of(target))
            write_atomically(companions[-1], b"sent again on purpose with faxctl send --again\n")
        write_atomically(target, data)
    except OSError as exc:  # a full or read-only spool: the writer keeps its file and tries again
        for companion in companions:
            with contextlib.suppress(OSError):
                companion.unlink(missing_ok=True)
        raise CliError(f"{source} was not queued: cannot write into {incoming}: {exc.strerror}") from None
    print(f"queued {source} as {target}")
    return 0


# -- route, directory -------------------------------------------------------------------


def _sidecar_for(file: Path, meta: str | None) -> Path | None:
    if meta:
        return Path(meta)
    beside = sidecar_of(file)
    return beside if beside.exists() else None


def _dry_route(args: argparse.Namespace) -> tuple[Config, Directory, RoutedDocument | str]:
    """Check and route ``args.file`` as the daemon would: the route, or why it is refused."""
    from faxd.intake import route_document
    from routing.errors import RoutingError
    from spool.inspection import DocumentRejected

    config = _config(args)
    directory = _load_directory(config)
    file = Path(args.file)
    try:
        return config, directory, route_document(file, _sidecar_for(file, args.meta), config, directory)
    except (DocumentRejected, RoutingError) as exc:
        return config, directory, str(exc)


def cmd_route(args: argparse.Namespace) -> int:
    _, directory, routed = _dry_route(args)
    if isinstance(routed, str):
        if args.json:
            json.dump(
                {"refused": True, "reason": routed, "directory_version": directory.version},
                sys.stdout,
                ensure_ascii=False,
                indent=2,
            )
            print()
        else:
            print(f"refused: {routed}")
        return 1
    chosen = routed.route
    recipients = [
        {
            "id": r.unit.id,
            "name": r.unit.name,
            "number": r.unit.fax_display,
            "dial": r.unit.fax,
            "roles": [role.value for role in r.roles],
            "rule": r.rule,
        }
        for r in chosen.recipients
    ]
    if args.json:
        json.dump(
            {
                "refused": False,
                "message_type": chosen.message_type.code,
                "sender": chosen.sender.id,
                "priority": chosen.priority,
                "pages": routed.facts.pages,
                "directory_version": directory.version,
                "recipients": recipients,
            },
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
        return 0
    print(f"type:      {chosen.message_type.code} ({chosen.message_type.swedish_name})")
    print(f"sender:    {chosen.sender.id} ({chosen.sender.name})")
    print(f"pages:     {routed.facts.pages} + cover sheet")
    print(f"priority:  {chosen.priority}")
    print(f"directory: version {directory.version}")
    _print_table(
        [(r["id"], r["name"], r["number"], ",".join(r["roles"]), r["rule"]) for r in recipients],
        ("recipient", "name", "fax", "roles", "rule"),
    )
    return 0


def cmd_directory_check(args: argparse.Namespace) -> int:
    from routing.directory import Directory
    from routing.errors import DirectoryInvalid

    try:
        directory = Directory.load(Path(args.file))
    except DirectoryInvalid as exc:
        print(f"{args.file}: NOT valid\n{exc}")
        return 1
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    print(f"{args.file}: valid, {len(directory.units)} units, version {directory.version}")
    return 0


def cmd_directory_show(args: argparse.Namespace) -> int:
    directory = _load_directory(_config(args))
    units = list(directory.units.values())
    if args.id:
        unit = directory.get(args.id)
        if unit is None:
            raise CliError(f"no unit {args.id!r} in the fax directory (version {directory.version})")
        units = [unit]
    _print_table(
        [(u.id, u.name, u.kind.value, u.municipality or "", u.fax_display, u.station_id or "") for u in units],
        ("id", "name", "kind", "municipality", "fax", "station id"),
    )
    return 0


# -- render, preview ---------------------------------------------------------------------


def cmd_render(args: argparse.Namespace) -> int:
    from drivers.page import Resolution
    from imaging import DocumentRenderError, render_pdf, write_tiff

    resolution = Resolution[args.resolution.upper()]
    try:
        pages = list(render_pdf(Path(args.file), resolution=resolution))
    except DocumentRenderError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    write_tiff(pages, Path(args.output), coding=args.coding)
    print(f"wrote {len(pages)} pages to {args.output} ({args.coding.upper()}, {resolution.name.lower()})")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from faxd.prepare import transmission_pages
    from faxd.store import now_utc
    from imaging import DocumentRenderError, write_pdf, write_png

    config, directory, routed = _dry_route(args)
    file = Path(args.file)
    if isinstance(routed, str):
        raise CliError(f"{file}: would be refused: {routed}")
    try:
        recipients = [r.unit.id for r in routed.route.recipients]
        recipient = args.recipient or recipients[0]
        if recipient not in recipients:
            raise CliError(f"{recipient} is not a recipient of this document; its recipients: {', '.join(recipients)}")
        pages = list(
            transmission_pages(
                config=config,
                directory=directory,
                document=file,
                document_pages=routed.facts.pages,
                job_id="FX-PREVIEW",
                message_type=routed.route.message_type.code,
                sender_id=routed.route.sender.id,
                recipient_id=recipient,
                sent_at=now_utc().astimezone(),
            )
        )
    except DocumentRenderError as exc:
        raise CliError(f"{file}: would be refused: {exc}") from None
    output = Path(args.output)
    if output.suffix.lower() == ".png":
        written = write_png(pages, output)
    else:
        written = write_pdf(pages, output)
    print(
        f"preview for {recipient}: {len(pages)} pages (cover sheet included) -> " + ", ".join(str(p) for p in written)
    )
    return 0


# -- modem simulate ----------------------------------------------------------------------


def cmd_modem_simulate(args: argparse.Namespace) -> int:
    from drivers.simulator import KIND_MODEM, SimulatorProfileError, load_profiles, load_quirks, run_simulator

    try:
        profiles = load_profiles(Path(args.profiles)) if args.profiles else None
        quirks = load_quirks(Path(args.profiles)) if args.profiles else KIND_MODEM
    except (OSError, SimulatorProfileError) as exc:
        raise CliError(f"cannot use the profiles file: {exc}") from None
    run_simulator(
        link=Path(args.link),
        csi=args.csi,
        out_dir=Path(args.out),
        speed=args.speed,
        profiles=profiles,
        fax_class=args.fax_class,
        quirks=quirks,
    )
    return 0


def cmd_modem_probe(args: argparse.Namespace) -> int:
    from drivers.port import DriverError
    from drivers.probe import probe_modem, profile_lookup

    try:
        report = probe_modem(args.device, speed=args.speed, profile_for=profile_lookup(args.profile_dir))
    except DriverError as exc:
        raise CliError(f"cannot probe {args.device}: {exc}") from None
    print(report.to_json() if args.json else report.text())
    return 0


# -- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faxctl", description="Operate and audit the faxd fax gateway.")
    parser.add_argument("--config", help="configuration file (default: $FAXD_CONFIG or /etc/faxd/faxd.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("log", help="the confirmation log: every attempt, oldest first")
    p.add_argument("--json", action="store_true", help="a JSON array, one object per attempt")
    p.add_argument("--verify", action="store_true", help="check that the log's chain has not been altered")
    p.set_defaults(func=cmd_log)

    p = sub.add_parser("status", help="the queue and the modems")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("lines", help="per-destination memory: the rate each number's line took last time")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lines)

    p = sub.add_parser("drill", help="send the readiness test fax to the [drill] recipient now")
    p.set_defaults(func=cmd_drill)

    p = sub.add_parser("send", help="put a PDF into the spool (written, then renamed in)")
    p.add_argument("file")
    p.add_argument("--meta", help="a JSON sidecar with the Faxd* routing fields")
    p.add_argument(
        "--again",
        action="store_true",
        help="send it even if the same document was queued or sent recently (not held as a duplicate)",
    )
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("route", help="dry run: who would get this document, by which rule, or why it is refused")
    p.add_argument("file")
    p.add_argument("--meta", help="sidecar JSON (default: FILE.json beside the PDF, if present)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_route)

    directory = sub.add_parser("directory", help="the fax directory").add_subparsers(dest="dir_command", required=True)
    p = directory.add_parser("check", help="validate a directory CSV and list every problem with its line")
    p.add_argument("file")
    p.set_defaults(func=cmd_directory_check)
    p = directory.add_parser("show", help="the units of the configured directory")
    p.add_argument("id", nargs="?")
    p.set_defaults(func=cmd_directory_show)

    p = sub.add_parser("render", help="a PDF's pages as a multi-page TIFF Class F (no cover sheet)")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--resolution", choices=("fine", "normal"), default="fine")
    p.add_argument("--coding", choices=("mh", "mr", "mmr"), default="mh")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("preview", help="exactly what a recipient would get: cover sheet, headers, pages")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True, help="OUT.pdf, or OUT.png (one PNG per page)")
    p.add_argument("--meta", help="sidecar JSON (default: FILE.json beside the PDF, if present)")
    p.add_argument("--recipient", help="directory id of the recipient to preview for (default: the first)")
    p.set_defaults(func=cmd_preview)

    modem = sub.add_parser("modem", help="modem tools").add_subparsers(dest="modem_command", required=True)
    p = modem.add_parser("simulate", help="run a simulated fax modem (Class 1, 2, 2.0 or 2.1) on a pseudo-terminal")
    p.add_argument("--link", required=True, help="symlink to create pointing at the pty")
    p.add_argument("--csi", default="+46 40 628 04 99", help="the remote fax machine's station id")
    p.add_argument("--out", default="received", help="folder for received pages and call summaries")
    p.add_argument("--speed", type=float, default=1.0, help="1 = real line pace, 0 = no line delays")
    p.add_argument("--profiles", help="TOML/JSON file: the remote fax machine and its faults per dialled number")
    p.add_argument(
        "--class",
        dest="fax_class",
        choices=("1", "2", "2.0", "2.1"),
        default="1",
        help="the modem's fax class (personality); default 1",
    )
    p.set_defaults(func=cmd_modem_simulate)
    p = modem.add_parser("probe", help="ask a modem what it is and which fax classes it speaks")
    p.add_argument("device", help="serial device (or a simulated modem's link)")
    p.add_argument("--speed", type=int, default=115200, help="serial speed (default 115200)")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--profile-dir", type=Path, help="the site's modem profiles, tried before the shipped ones")
    p.set_defaults(func=cmd_modem_probe)
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
            require_reader(_config(args))
        if hasattr(args, "handler"):  # commands that take the loaded configuration
            return int(args.handler(args, _config(args)))
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
