"""Line seconds per message: faxd against the efax pipeline an administrator scripts today.

Run:  .venv/bin/python bench/bench_line.py [--speed 4] [--forms-only] [--no-pace-check] [--keep DIR] [--json FILE]

Both senders fax the same messages, one call each, into the SpanDSP reference peer
(``interop/spandsp/spandsp-faxmodem``: SpanDSP's T.31 Class 1 modem on a pty, its audio
joined to a SpanDSP fax terminal that answers with its default capabilities: V.17,
ECM allowed, T.4 1-D/2-D and T.6, every resolution). A fresh peer is started for every
call, with the same options for both senders: the recipient's station id as CSI and
``--speed``. What each call cost on the line is the peer's simulated line time
(``sim_seconds`` in its call record, from ATD to hang-up), so it counts everything the
sender puts on the line: training, frames, page data, the pauses between carriers, and
the sender's own response times (while the host has the turn, the peer's clock runs at
wall pace, as a real modem's would).

The messages: every PDF in examples/forms/ with two or more pages that the routine
routes (checklista-beslutsstod is never faxed), and (unless ``--forms-only``) two and three
pages of the discharge-planning form from bench/corpus.py (routed as the type its title
reads as, andrad-utskrivning, from a ward).
Each goes to the route's first recipient, dialled as the daemon dials it.

- faxd: ``faxd.prepare.prepare`` with examples/faxd.toml and the sample directory, as the
  daemon's runner calls it (its render child; the pages written to an archive TIFF and
  read back from it during the call; cover sheet and header line on every page: the
  cover sheet counts against us), sent by ``Class1Modem`` built as the daemon
  builds it from the example config's modem (ECM on, MMR allowed: what it negotiates
  with the peer's DIS).
- efax pipeline: ``gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=tiffg3 -r204x196`` on the
  document (no cover sheet), ``efix -i tiffg3 -o fax`` per page to raw G3, then
  ``efax -d PTY -o1 -l TSI -t NUMBER FILES`` (Class 1, MH, no ECM: what efax 0.9a does).

efax 0.9a dies of SIGFPE when a page takes under one wall second, so the peer cannot run
unthrottled for it; ``--speed`` (default 3, applied to both senders) caps the peer's fast
regime at that many times real time (default 4: efax's shortest page then still lasts
over 2 wall seconds). Simulated line time should not depend on it; to show that it does
not, the run ends with a pace check (skip it with ``--no-pace-check``): the first message
again from both senders at ``--realtime`` (and from faxd once more unthrottled), with the
line and wall seconds of every pace. One caveat the check exposes: below real time the
peer holds its clock while a sender is late feeding page data (up to 2 s at a time, see
interop/spandsp/README.md), at ``--realtime`` it does not, so a sender that starves the
modem is charged for it only at ``--realtime``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.line_senders import (  # noqa: E402 (the checkout must be on the path first)
    EFAX_TOOLS,
    Message,
    SentCall,
    Site,
    load_site,
    messages_from_corpus,
    messages_from_forms,
    send_with_efax,
    send_with_faxd,
)
from tests.interop.spandsp_peer import PEER_BIN  # noqa: E402

#: A multiplier on the peer's fast regime; efax needs every page to last over 1 s of wall time.
DEFAULT_SPEED = 4.0
#: Issue 15's goals: the mean ratio over the messages, and no single message above 1.0.
GOAL_MEAN_RATIO = 0.7
GOAL_WORST_RATIO = 1.0


@dataclass(frozen=True, slots=True)
class Row:
    message: Message
    faxd: SentCall
    efax: SentCall
    bare: SentCall | None = None  # faxd without its cover sheet (--cover-cost)

    @property
    def cover_seconds(self) -> float | None:
        """Returns the line seconds the cover sheet added, its page exchange included."""
        return None if self.bare is None else self.faxd.line_seconds - self.bare.line_seconds

    @property
    def ratio(self) -> float:
        return self.faxd.line_seconds / self.efax.line_seconds


def _pace_args(pace: str) -> list[str]:
    if pace == "realtime":
        return ["--realtime"]
    if pace == "unthrottled":
        return []
    return ["--speed", pace.removeprefix("speed ")]


def _negotiated(call: SentCall) -> str:
    record = call.record
    ecm = "ECM" if record["ecm"] else "no ECM"
    return f"{record['bit_rate']} bit/s, {record['compression']}, {ecm}, {record['resolution']}"


def page_octets(row: Row, sender: str) -> list[int]:
    """Returns the coded octets of each page the sender put on the line (faxd: its pages
    in the coding it negotiated; efax: its G3 files)."""
    from drivers.t4 import Coding, encode_page

    if sender == "efax":
        folder = row.efax.record.get("efax_files") or []
        return [Path(name).stat().st_size for name in folder]
    coding = {"T.6": Coding.MMR, "T.4 2-D": Coding.MR, "T.4 1-D": Coding.MH}[row.faxd.record["compression"]]
    return [len(encode_page(page.pixels, coding)) for page in row.message.pages]


def print_floor(rows: Sequence[Row]) -> None:
    """Prints each call's line time against the floor T.30 requires (``bench/floor.py``)."""
    from bench.floor import floor_seconds

    print(
        "\nOverhead against the floor (set-up to DIS as the peer did it, DCS+TCF+CFR, per page its"
        " data at the rate reached and its post-page exchange, DCN):"
    )
    for row in rows:
        for sender in ("faxd", "efax"):
            call: SentCall = getattr(row, sender)
            octets = page_octets(row, sender)
            if not octets:
                continue
            v29 = call.record["bit_rate"] in (9600, 7200) and not call.record["config"]["v17"]
            floor = floor_seconds(call.record, octets, v29=v29)
            print(
                f"  {row.message.name:<38} {sender:4} {call.line_seconds:6.1f} s, floor {floor:6.1f} s,"
                f" overhead {call.line_seconds / floor - 1:+.1%}"
            )


def print_table(rows: Sequence[Row], pace: str) -> None:
    """Prints the per-message table, the totals and the ratios."""
    print(f"\nLine seconds per message (SpanDSP peer simulated line time, ATD to hang-up; peer pace: {pace})\n")
    header = (
        f"{'message':<38} {'doc':>3} {'faxd':>4} {'efax':>4} {'faxd s':>7} {'efax s':>7} "
        f"{'efax s/pg':>9} {'ratio':>6} {'wall faxd':>9} {'wall efax':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        m = row.message
        print(
            f"{m.name:<38} {m.document_pages:>3} {row.faxd.pages:>4} {row.efax.pages:>4} "
            f"{row.faxd.line_seconds:>7.1f} {row.efax.line_seconds:>7.1f} "
            f"{row.efax.line_seconds / row.efax.pages:>9.1f} {row.ratio:>6.2f} "
            f"{row.faxd.wall_seconds:>9.1f} {row.efax.wall_seconds:>9.1f}"
        )
    print("-" * len(header))
    faxd_total = sum(r.faxd.line_seconds for r in rows)
    efax_total = sum(r.efax.line_seconds for r in rows)
    print(
        f"{'total':<38} {sum(r.message.document_pages for r in rows):>3} "
        f"{sum(r.faxd.pages for r in rows):>4} {sum(r.efax.pages for r in rows):>4} "
        f"{faxd_total:>7.1f} {efax_total:>7.1f} {efax_total / sum(r.efax.pages for r in rows):>9.1f} "
        f"{faxd_total / efax_total:>6.2f} {sum(r.faxd.wall_seconds for r in rows):>9.1f} "
        f"{sum(r.efax.wall_seconds for r in rows):>9.1f}"
    )
    ratios = [r.ratio for r in rows]
    mean, worst = statistics.mean(ratios), max(ratios)
    print(
        f"\nmean ratio per message: {mean:.2f} (goal <= {GOAL_MEAN_RATIO}: {'met' if mean <= GOAL_MEAN_RATIO else 'not met'});"
        f" min {min(ratios):.2f}; worst {worst:.2f} (goal <= {GOAL_WORST_RATIO}:"
        f" {'met' if worst <= GOAL_WORST_RATIO else 'not met'})"
    )
    covers = [(r, r.cover_seconds) for r in rows if r.cover_seconds is not None]
    if covers:
        print(
            "\ncover sheet's line time (faxd's call minus the same call without the cover, its page exchange included):"
        )
        for row, seconds in covers:
            octets = page_octets(row, "faxd")[0]
            print(f"  {row.message.name:<38} {seconds:5.1f} s, cover {octets} octets {row.faxd.record['compression']}")
    print(
        "columns: doc = document pages; faxd/efax = pages each sent (faxd adds its cover sheet);"
        " ratio = faxd s / efax s"
    )
    print("\nnegotiated (from the peer's call records):")
    for side in ("faxd", "efax"):
        seen = sorted({_negotiated(getattr(r, side)) for r in rows})
        print(f"  {side}: {'; '.join(seen)}")


def run_message(message: Message, site: Site, work: Path, pace: str, senders: Sequence[str]) -> dict[str, SentCall]:
    """Sends one message with each of ``senders``; returns their calls by sender name."""
    calls: dict[str, SentCall] = {}
    for sender in senders:
        folder = work / f"{message.slug}-{sender}-{pace.replace(' ', '')}"
        if sender == "faxd":
            calls[sender] = send_with_faxd(message, site, folder, _pace_args(pace))
        else:
            calls[sender] = send_with_efax(message, site, folder, _pace_args(pace))
        print(
            f"  {message.name}: {sender:4} at {pace:>11}: {calls[sender].line_seconds:6.1f} line s, "
            f"{calls[sender].wall_seconds:6.1f} wall s, {calls[sender].pages} pages, "
            f"{_negotiated(calls[sender])}",
            flush=True,
        )
    return calls


def pace_check(message: Message, site: Site, work: Path, main_pace: str, main: Row) -> list[dict[str, Any]]:
    """Sends ``message`` again at other peer paces, prints line and wall time per pace and
    returns them (sender, pace, line_seconds, wall_seconds)."""
    print(f"\nPace check on {message.name}: same message, same peer options except the pace")
    results: list[tuple[str, str, SentCall]] = [("faxd", main_pace, main.faxd), ("efax", main_pace, main.efax)]
    for pace, senders in (("realtime", ("faxd", "efax")), ("unthrottled", ("faxd",))):
        for sender, call in run_message(message, site, work, pace, senders).items():
            results.append((sender, pace, call))
    print(f"\n{'sender':<6} {'pace':>11} {'line s':>7} {'wall s':>7} {'line/wall':>9}")
    for sender, pace, call in sorted(results, key=lambda r: r[0]):
        print(
            f"{sender:<6} {pace:>11} {call.line_seconds:>7.1f} {call.wall_seconds:>7.1f} "
            f"{call.line_seconds / max(call.wall_seconds, 0.001):>9.1f}"
        )
    for sender in ("faxd", "efax"):
        lines = [c.line_seconds for s, _, c in results if s == sender]
        spread = (max(lines) - min(lines)) / min(lines)
        print(f"{sender}: line seconds across paces {min(lines):.1f}..{max(lines):.1f} (spread {spread:.1%})")
    return [
        {"sender": sender, "pace": pace, "line_seconds": call.line_seconds, "wall_seconds": call.wall_seconds}
        for sender, pace, call in results
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help="peer pace for both senders: at most this many times real time (default 4)",
    )
    parser.add_argument(
        "--no-pace-check",
        action="store_true",
        help="skip sending the first message again at --realtime (and faxd unthrottled)",
    )
    parser.add_argument(
        "--forms-only",
        action="store_true",
        help="only examples/forms, not the 2- and 3-page discharge-planning forms of bench/corpus.py",
    )
    parser.add_argument(
        "--one-page-forms",
        action="store_true",
        help="also the one-page sample forms (the mix of 1-, 2- and 3-page messages of issue 15)",
    )
    parser.add_argument(
        "--cover-cost",
        action="store_true",
        help="also send each message with faxd without its cover sheet, to measure what the cover costs",
    )
    parser.add_argument("--keep", type=Path, help="keep call records, received TIFFs and efax files here")
    parser.add_argument("--json", type=Path, help="write the measured rows as JSON here")
    args = parser.parse_args(argv)

    missing = [tool for tool in EFAX_TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"missing {', '.join(missing)}: apt-get install -y efax ghostscript", file=sys.stderr)
        return 2
    if not PEER_BIN.exists():
        print(f"{PEER_BIN} is not built: scripts/setup.sh or make -C interop/spandsp", file=sys.stderr)
        return 2

    started = time.monotonic()
    site = load_site(ROOT / "examples" / "faxd.toml")
    pace = f"speed {args.speed:g}"
    with tempfile.TemporaryDirectory(prefix="bench-line-") as temp:
        work = args.keep or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        try:
            messages = messages_from_forms(
                ROOT / "examples" / "forms", site, SENT_AT, work / "archive", min_pages=1 if args.one_page_forms else 2
            )
            if not args.forms_only:
                messages += messages_from_corpus(work / "corpus", site, SENT_AT, work / "archive")
        finally:
            site.renderer.close()
        print(
            f"{len(messages)} messages; peer {PEER_BIN.relative_to(ROOT)} at pace {pace}; one fresh peer per call",
            flush=True,
        )
        rows = []
        for message in messages:
            calls = run_message(message, site, work, pace, ("faxd", "efax"))
            bare = None
            if args.cover_cost:
                without = dataclasses.replace(message, name=f"{message.name} (no cover)", pages=message.pages[1:])
                bare = run_message(without, site, work / "bare", pace, ("faxd",))["faxd"]
            rows.append(Row(message, calls["faxd"], calls["efax"], bare))
        print_table(rows, pace)
        print_floor(rows)
        paces = [] if args.no_pace_check else pace_check(messages[0], site, work, pace, rows[0])
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "pace": pace,
                    "rows": [
                        {
                            "message": r.message.name,
                            "document_pages": r.message.document_pages,
                            "recipient": r.message.recipient,
                            "faxd": r.faxd.record,
                            "efax": r.efax.record,
                            "faxd_without_cover": r.bare.record if r.bare else None,
                            "ratio": r.ratio,
                        }
                        for r in rows
                    ],
                    "pace_check": paces,
                },
                indent=2,
            )
        )
    print(f"\nbenchmark wall time {time.monotonic() - started:.0f} s")
    return 0


#: A fixed send time, so the cover sheet and header lines are the same in every run.
SENT_AT = datetime.fromisoformat("2026-11-26T09:30:00+01:00")

if __name__ == "__main__":
    sys.exit(main())
