"""Load: many PDFs dropped into the spool at once, then the queue drained by N modems.

Two measurements against the real daemon (``faxd`` as a process, simulated modems):

``intake``  N documents (default 10,000; one page, routing data in the metadata, each
            different) are written beside the spool and renamed into ``incoming/`` in one
            burst while the daemon runs. Reported: every document claimed and queued
            (none lost, none left in work/ unrecorded), the intake rate, the time from
            arrival (the rename) to queued (the database's ``received``) at p50/p99, and
            the daemon's peak RSS (VmHWM) and that of its PDF-reading child.
``drain``   the same documents' jobs sent by 1 and by 8 simulated modems at a line pace
            (``--speed``, a factor on real line time), throughput in jobs per minute and
            the ratio.

    .venv/bin/python -m bench.bench_load intake --documents 10000
    .venv/bin/python -m bench.bench_load drain --documents 24 --speed 0.25
    .venv/bin/python -m bench.bench_load drain --speed 1 --documents 16 --one-documents 4

At ``--speed 1`` (real line pace) a call is bounded by line time, as on a real line; at
lower factors the simulators and render work compete for the CPU and the ratio measures
the machine's cores rather than the daemon.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import pdfbytes as pb  # noqa: E402

BIN = Path(sys.executable).parent


def config_text(directory: Path, modems: int, *, device: str, speed: float) -> str:
    root = directory.parent
    lines = [
        f'[audit]\nsigning_key = "{root}/keys/audit-signing.key"\npublic_key = "{root}/keys/audit-public.pem"',
        f'head_file = "{root}/log/audit-head"\n[outage]\nwhen_not_declared = "send"',
        '[paths]\nspool = "spool"\nstate = "state"',
        f'directory = "{directory}"',
        '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "Last"\ncallback = "040-628 04 00"',
        "[retry]\nmax_attempts = 3\ndelay_seconds = 0.2\nbusy_delay_seconds = 0.2\nno_answer_delay_seconds = 0.2",
    ]
    for i in range(modems):
        lines.append(f'[[modem]]\nname = "m{i}"\ndevice = "{device}"')
        if device == "simulated":
            lines.append(f"simulator_speed = {speed}")
    return "\n".join(lines) + "\n"


def _recipient_pairs() -> list[tuple[str, str]]:
    """(municipality, outpatient unit) pairs from the example directory, no fax number twice.

    The queue never runs two calls to one number at once (a second modem would get busy),
    so documents that all go to the same two units can never keep more than two modems
    busy. A region's outage load goes to many units: each document here names its own.
    """
    from routing.directory import Directory, UnitKind

    directory = Directory.load(ROOT / "examples" / "directory.csv")
    taken: set[str] = set()

    def distinct(kind: UnitKind) -> list[str]:
        ids = []
        for unit in sorted(directory.units.values(), key=lambda u: u.id):
            if unit.kind is kind and unit.fax not in taken and unit.id != "sus-lund-avd-12":
                taken.add(unit.fax)
                ids.append(unit.id)
        return ids

    municipalities = distinct(UnitKind.MUNICIPALITY)
    outpatient = distinct(UnitKind.OUTPATIENT)
    return list(zip(municipalities, outpatient, strict=False))


PAIRS = _recipient_pairs()


def document(i: int) -> bytes:
    """A one-page admission notice, different in every document (its reference), to the
    i-th pair of recipients (round robin over the directory)."""
    content = b"BT /F1 14 Tf 72 770 Td (Inskrivningsinformation) Tj 0 -30 Td (Dokument %d) Tj ET" % i
    municipality, outpatient = PAIRS[i % len(PAIRS)]
    info = pb.routing_info(FaxdReference=f"LAST-{i:05d}", FaxdMunicipality=municipality, FaxdOutpatient=outpatient)
    return pb.simple(content=content, info=info)


class Daemon:
    def __init__(self, root: Path) -> None:
        self.log = (root / "daemon.log").open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "faxd"), "--config", str(root / "faxd.toml")], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.root = root
        self.peak_mb = 0.0
        self.child_peak_mb = 0.0
        self.wait_for_line("daemon.ready", 120)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in (self.root / "daemon.log").read_text(errors="replace"):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"daemon did not log {text!r}: see {self.root / 'daemon.log'}")
            time.sleep(0.2)  # a benchmark's poll, not a test's synchronisation

    def sample_memory(self) -> None:
        self.peak_mb = max(self.peak_mb, _vm(self.proc.pid, "VmHWM"))
        for child in _children(self.proc.pid):
            self.child_peak_mb = max(self.child_peak_mb, _vm(child, "VmHWM"))

    def stop(self) -> None:
        self.sample_memory()
        self.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            self.proc.wait(300)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # reported: a daemon that does not stop on TERM is a defect
            self.proc.wait()
        self.stop_seconds = time.monotonic() - started
        self.log.close()


def _vm(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _site(root: Path, modems: int, device: str, speed: float) -> None:
    from faxd.audit import generate

    generate(root / "keys" / "audit-signing.key", root / "keys" / "audit-public.pem")
    shutil.copy(ROOT / "examples" / "directory.csv", root / "directory.csv")
    (root / "faxd.toml").write_text(config_text(root / "directory.csv", modems, device=device, speed=speed))
    for sub in ("incoming", "work", "done", "failed", "quarantine"):
        (root / "spool" / sub).mkdir(parents=True, exist_ok=True)


def _drop(root: Path, count: int) -> dict[str, float]:
    """Write ``count`` documents beside the spool, then rename them all in; arrival times."""
    staging = root / "staging"
    staging.mkdir()
    for i in range(count):
        (staging / f"doc-{i:05d}.pdf").write_bytes(document(i))
    arrivals: dict[str, float] = {}
    incoming = root / "spool" / "incoming"
    for i in range(count):
        name = f"doc-{i:05d}.pdf"
        os.rename(staging / name, incoming / name)
        arrivals[f"LAST-{i:05d}"] = time.time()
    return arrivals


def _queued(root: Path) -> dict[str, float]:
    db = sqlite3.connect(f"file:{root / 'state' / 'faxd.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT reference, received FROM documents WHERE state != 'quarantined'").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    return {ref: datetime.fromisoformat(at).timestamp() for ref, at in rows if ref}


def run_intake(count: int, keep: bool) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="faxd-load-"))
    # One modem on a device that is no modem: the runner keeps retrying the port and
    # sends nothing, so the measurement is the intake alone.
    _site(root, 1, "/dev/null", 0.0)
    daemon = Daemon(root)
    started = time.time()
    arrivals = _drop(root, count)
    dropped = time.time()
    queued: dict[str, float] = {}
    deadline = time.monotonic() + 3600
    while len(queued) < count and time.monotonic() < deadline and daemon.proc.poll() is None:
        daemon.sample_memory()
        time.sleep(0.5)
        queued = _queued(root)
    daemon.stop()
    latencies = sorted(queued[r] - arrivals[r] for r in queued if r in arrivals)
    last = max(queued.values()) if queued else dropped
    result = {
        "documents": count,
        "queued": len(queued),
        "quarantined": len(os.listdir(root / "spool" / "quarantine")) // 2,
        "left_in_incoming": len(os.listdir(root / "spool" / "incoming")),
        "work_files": len([n for n in os.listdir(root / "spool" / "work") if n.endswith(".pdf")]),
        "drop_seconds": round(dropped - started, 1),
        "intake_seconds": round(last - started, 1),
        "intake_rate_per_s": round(len(queued) / max(last - started, 1e-9), 1),
        "p50_arrival_to_queued_s": round(statistics.median(latencies), 2) if latencies else None,
        "p99_arrival_to_queued_s": round(latencies[int(0.99 * (len(latencies) - 1))], 2) if latencies else None,
        "daemon_peak_rss_mb": round(daemon.peak_mb, 1),
        "reader_child_peak_rss_mb": round(daemon.child_peak_mb, 1),
        "stop_on_term_seconds": round(daemon.stop_seconds, 1),
    }
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        result["root"] = str(root)
    return result


def _external_simulators(root: Path, modems: int, speed: float) -> list[subprocess.Popen[str]]:
    """One ``faxctl modem simulate`` process per modem, each answering every directory
    number with the station id the directory names, and the site's config pointed at their
    ptys. The daemon's own RSS then holds only the daemon: with ``device = "simulated"``
    the simulated modems and their remotes (page decoding included) run inside it."""
    from routing.directory import Directory
    from routing.numbers import dial_string

    directory = Directory.load(root / "directory.csv")
    numbers = {dial_string(u): {"csi": u.station_id} for u in directory.units.values() if u.station_id}
    (root / "profiles.json").write_text(json.dumps({"numbers": numbers}))
    children = []
    for i in range(modems):
        link = root / f"tty-m{i}"
        argv = [str(BIN / "faxctl"), "modem", "simulate", "--link", str(link), "--out", str(root / f"sim-m{i}")]
        argv += ["--speed", str(speed), "--csi", "+46 40 628 04 99", "--profiles", str(root / "profiles.json")]
        children.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True))
    deadline = time.monotonic() + 60
    while not all((root / f"tty-m{i}").exists() for i in range(modems)):
        if time.monotonic() > deadline:
            raise SystemExit("the simulators did not start")
        time.sleep(0.1)  # a benchmark's poll for the ptys' links
    text = config_text(root / "directory.csv", modems, device="simulated", speed=speed)
    for i in range(modems):
        text = text.replace(
            f'name = "m{i}"\ndevice = "simulated"\nsimulator_speed = {speed}',
            f'name = "m{i}"\ndevice = "{root}/tty-m{i}"',
        )
    (root / "faxd.toml").write_text(text)
    return children


def run_drain(count: int, modems: int, speed: float, external: bool = False) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="faxd-drain-"))
    _site(root, modems, "simulated", speed)
    simulators = _external_simulators(root, modems, speed) if external else []
    daemon = Daemon(root)
    _drop(root, count)
    db_path = root / "state" / "faxd.sqlite3"
    jobs = 2 * count  # an admission notice goes to the municipality and the outpatient unit
    started = time.monotonic()
    done = 0
    while time.monotonic() - started < 7200 and daemon.proc.poll() is None:
        daemon.sample_memory()
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            done = db.execute("SELECT count(*) FROM jobs WHERE state IN ('confirmed', 'failed')").fetchone()[0]
            first, last = db.execute("SELECT min(started), max(ended) FROM attempts").fetchone()
        except sqlite3.OperationalError:
            done, first, last = 0, None, None
        finally:
            db.close()
        if done >= jobs:
            break
        time.sleep(0.5)
    daemon.stop()
    for child in simulators:
        child.terminate()
        child.wait(30)
    db = sqlite3.connect(db_path)
    states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
    first, last = db.execute("SELECT min(started), max(ended) FROM attempts").fetchone()
    calls = [
        datetime.fromisoformat(end).timestamp() - datetime.fromisoformat(start).timestamp()
        for start, end in db.execute("SELECT started, ended FROM attempts WHERE ended IS NOT NULL").fetchall()
    ]
    per_modem = dict(db.execute("SELECT modem, count(*) FROM attempts GROUP BY modem").fetchall())
    db.close()
    seconds = datetime.fromisoformat(last).timestamp() - datetime.fromisoformat(first).timestamp()
    shutil.rmtree(root, ignore_errors=True)
    return {
        "modems": modems,
        "jobs": jobs,
        "states": states,
        "seconds": round(seconds, 1),
        "jobs_per_minute": round(60 * states.get("confirmed", 0) / seconds, 2),
        "attempts": len(calls),
        "call_seconds_p50": round(statistics.median(calls), 1) if calls else None,
        "calls_per_modem": per_modem,
        "daemon_peak_rss_mb": round(daemon.peak_mb, 1),
        "simulators": "separate processes" if external else "inside the daemon",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("intake", "drain"))
    parser.add_argument("--documents", type=int, default=None)
    parser.add_argument("--speed", type=float, default=0.25, help="drain: line pace (1 = real)")
    parser.add_argument("--modems", type=int, default=8, help="drain: modems in the parallel run")
    parser.add_argument(
        "--one-documents",
        type=int,
        default=None,
        help="drain: documents for the one-modem run (default: --documents); a rate, so fewer will do at line pace",
    )
    parser.add_argument(
        "--external-simulators",
        action="store_true",
        help="drain: simulated modems as separate processes, so the daemon's RSS is its own",
    )
    parser.add_argument("--only-many", action="store_true", help="drain: skip the one-modem run")
    parser.add_argument("--keep", action="store_true", help="intake: keep the site for inspection")
    args = parser.parse_args()
    if args.what == "intake":
        result = run_intake(args.documents or 10_000, args.keep)
        print(json.dumps(result, indent=2))
        ok = result["queued"] == result["documents"] and result["work_files"] == result["queued"]
        return 0 if ok else 1
    count = args.documents or 24
    external = args.external_simulators
    if args.only_many:
        print(json.dumps(run_drain(count, args.modems, args.speed, external), indent=2))
        return 0
    one = run_drain(args.one_documents or count, 1, args.speed, external)
    print(json.dumps(one, indent=2), flush=True)
    many = run_drain(count, args.modems, args.speed, external)
    print(json.dumps(many, indent=2))
    ratio = many["jobs_per_minute"] / one["jobs_per_minute"] if one["jobs_per_minute"] else float("nan")  # type: ignore[operator]
    print(json.dumps({"speedup": round(ratio, 2), "modems": args.modems}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
