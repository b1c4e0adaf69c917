"""``faxctl log``, ``faxctl status`` and ``faxctl lines``: what the operator reads.

The confirmation log, the queue and the modems, and the line memory, read from the state
folder without the daemon.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from faxd import liveness
from faxd.audit.cli import print_verification, run_verify
from faxd.cli_support import SetupError, load_directory, print_table, read_config, reading_store
from faxd.health import snapshot
from faxd.redact import allow_numbers, redact_filename, redact_tree

# -- log ---------------------------------------------------------------------------------


def cmd_log(args: argparse.Namespace) -> int:
    config = read_config(args)
    if args.verify:  # the older spelling of `faxctl audit verify`
        return print_verification(run_verify(config), False)
    store = reading_store(config)
    entries = store.confirmation_log() if store else []
    if args.json:
        json.dump(entries, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    print_table(
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
    config = read_config(args)
    store = reading_store(config)
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
        allow_numbers(u.fax for u in load_directory(config).units.values())
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
    print_table(
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
            print_table(
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
        print_table(
            [(q["document_id"], q["received"][:19], q["reason"]) for q in status["quarantined"]],
            ("document", "received (UTC)", "reason"),
        )
    return 0


# -- lines -------------------------------------------------------------------------------


def cmd_lines(args: argparse.Namespace) -> int:
    """What each remote number's line took last time, and the rate the next call starts at."""
    from datetime import UTC, datetime

    from faxd.line_memory import FILE_NAME, LineMemory

    config = read_config(args)
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
    print_table(
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``faxctl log``, ``status`` and ``lines``; each parser's ``func`` takes (args)."""
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
