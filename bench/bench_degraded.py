"""Share of calls confirmed on a degraded line, faxd against the efax pipeline.

Run:  .venv/bin/python bench/bench_degraded.py [--calls 20] [--levels -58,-56,-54]
      [--attenuation 24] [--speed 4] [--json FILE]

The same SpanDSP reference peer as bench/bench_line.py, with loss and noise on the line
(``spandsp-faxmodem --attenuation DB --noise DBM0 --seed N``; see interop/spandsp/README.md,
"A degraded line"): at 24 dB of loss, noise from -58 dBm0 up makes SpanDSP refuse training
at 14400, so both senders must fall back. Each call gets its own seed, the same seed for
both senders, so both meet the same noise sequence. The message is the first two-page
sample form the routine sends (faxd: cover sheet + 2 pages, ECM and MMR as negotiated;
efax: the bare 2 pages, MH, no ECM, as gs+efix+efax sends them).

A call counts as confirmed when the sender says so and the peer received every page
with completion OK (faxd's pages are also compared pixel for pixel). What is printed per
noise level: confirmed/total for each sender, mean line seconds (all calls, and the
confirmed ones), and the bit rates the peer recorded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageSequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.line_senders import (  # noqa: E402  (after the path set-up above)
    CALL_TIMEOUT,
    DEFAULT_CSI,
    EFAX_TOOLS,
    Message,
    Site,
    efax_files,
    load_site,
    messages_from_forms,
)
from drivers.class1 import Class1Modem  # noqa: E402
from drivers.modem import CallRequest, Outcome, Station  # noqa: E402
from tests.interop.spandsp_peer import PEER_BIN, SpandspPeer  # noqa: E402

SENT_AT_ISO = "2026-11-26T09:30:00+01:00"


@dataclass(frozen=True, slots=True)
class Attempt:
    sender: str
    level: float
    seed: int
    confirmed: bool
    line_seconds: float
    bit_rate: int
    detail: str  # faxd's outcome, or efax's exit status; the peer's completion text


def _peer(message: Message, folder: Path, line: Sequence[str]) -> SpandspPeer:
    csi = message.expected_csi or DEFAULT_CSI
    return SpandspPeer(link=folder / "ttyFAX", out=folder / "calls", args=["--csi", csi, *line])


def _faxd(message: Message, site: Site, folder: Path, line: Sequence[str]) -> tuple[bool, dict[str, Any], str]:
    modem_config = site.config.modems[0]
    station = Station(tsi=site.config.station.tsi, header_name=site.config.station.header_name)
    with _peer(message, folder, line) as peer:
        modem = Class1Modem(
            str(peer.link),
            speed=modem_config.speed,
            station=station,
            name="bench",
        )
        try:
            result = modem.send(
                CallRequest(
                    number=message.dial,
                    pages=message.pages,
                    expected_remote_id=message.expected_csi,
                    policy=replace(modem_config.policy, station_check=site.config.station.check),
                )
            )
        finally:
            modem.close()
        record = peer.wait_for_call(1, timeout=CALL_TIMEOUT)
    ok = (
        result.outcome is Outcome.CONFIRMED and record["pages"] == len(message.pages) and record["completion_code"] == 0
    )
    if ok:
        with Image.open(record["tiff"]) as tiff:
            got = [np.asarray(frame.convert("1")) == 0 for frame in ImageSequence.Iterator(tiff)]
        ok = all(np.array_equal(page.pixels, pixels) for page, pixels in zip(message.pages, got, strict=True))
    return ok, record, result.outcome.value


def _efax(
    message: Message, site: Site, folder: Path, line: Sequence[str], files: list[Path]
) -> tuple[bool, dict[str, Any], str]:
    with _peer(message, folder, line) as peer:
        efax = subprocess.run(
            ["efax", "-d", str(peer.link), "-o1", "-l", site.config.station.tsi, "-t", message.dial, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT,
            check=False,
        )
        record = peer.wait_for_call(1, timeout=CALL_TIMEOUT)
    ok = efax.returncode == 0 and record["pages"] == len(files) and record["completion_code"] == 0
    return ok, record, f"efax exit {efax.returncode}"


def main(argv: Sequence[str] | None = None) -> int:
    from datetime import datetime

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="calls per noise level and sender (default 20)")
    parser.add_argument("--levels", default="-58,-56,-54", help="noise levels in dBm0, comma-separated")
    parser.add_argument("--attenuation", type=float, default=24.0, help="line loss in dB (default 24)")
    parser.add_argument("--speed", type=float, default=4.0, help="peer pace (efax 0.9a needs > 1 wall s a page)")
    parser.add_argument("--senders", default="faxd,efax")
    parser.add_argument("--json", type=Path, help="write every attempt as JSON here")
    args = parser.parse_args(argv)
    senders = args.senders.split(",")
    missing = [tool for tool in EFAX_TOOLS if shutil.which(tool) is None]
    if "efax" in senders and missing:
        print(f"missing {', '.join(missing)}: apt-get install -y efax ghostscript", file=sys.stderr)
        return 2
    if not PEER_BIN.exists():
        print(f"{PEER_BIN} is not built: make -C interop/spandsp", file=sys.stderr)
        return 2
    levels = [float(level) for level in args.levels.split(",")]
    site = load_site(ROOT / "examples" / "faxd.toml")
    attempts: list[Attempt] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-degraded-") as temp:
        work = Path(temp)
        try:
            message = messages_from_forms(
                ROOT / "examples" / "forms", site, datetime.fromisoformat(SENT_AT_ISO), work / "archive"
            )[0]
        finally:
            site.renderer.close()
        files = efax_files(message.document, work / "efax")
        print(
            f"message {message.name}: faxd {len(message.pages)} pages (with cover), efax {len(files)} pages; "
            f"--attenuation {args.attenuation:g}, {args.calls} calls per level and sender",
            flush=True,
        )
        for level in levels:
            for seed in range(1, args.calls + 1):
                line = [
                    "--speed",
                    f"{args.speed:g}",
                    "--attenuation",
                    f"{args.attenuation:g}",
                    "--noise",
                    f"{level:g}",
                    "--seed",
                    str(seed),
                ]
                for sender in senders:
                    folder = work / f"{sender}-{level:g}-{seed}"
                    folder.mkdir(parents=True)
                    if sender == "faxd":
                        ok, record, detail = _faxd(message, site, folder, line)
                    else:
                        ok, record, detail = _efax(message, site, folder, line, files)
                    attempt = Attempt(
                        sender,
                        level,
                        seed,
                        ok,
                        float(record["sim_seconds"]),
                        int(record["bit_rate"]),
                        f"{detail}; peer: {record['pages']} pages, {record['completion_text']}",
                    )
                    attempts.append(attempt)
                    print(
                        f"  {level:g} dBm0 seed {seed:2d} {sender:4}: {'confirmed' if ok else 'FAILED   '} "
                        f"{attempt.line_seconds:6.1f} line s at {attempt.bit_rate} ({attempt.detail})",
                        flush=True,
                    )
                    shutil.rmtree(folder, ignore_errors=True)
    print_table(attempts, levels, senders)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    dict(
                        sender=a.sender,
                        level=a.level,
                        seed=a.seed,
                        confirmed=a.confirmed,
                        line_seconds=a.line_seconds,
                        bit_rate=a.bit_rate,
                        detail=a.detail,
                    )
                    for a in attempts
                ],
                indent=2,
            )
        )
    print(f"\nbenchmark wall time {time.monotonic() - started:.0f} s")
    return 0


def print_table(attempts: Sequence[Attempt], levels: Sequence[float], senders: Sequence[str]) -> None:
    print("\nnoise dBm0 | " + " | ".join(f"{s} confirmed, mean line s (all / confirmed), rates" for s in senders))
    for level in levels:
        cells = []
        for sender in senders:
            mine = [a for a in attempts if a.level == level and a.sender == sender]
            good = [a for a in mine if a.confirmed]
            rates = Counter(a.bit_rate for a in good)
            mean_all = statistics.fmean(a.line_seconds for a in mine) if mine else 0.0
            mean_ok = statistics.fmean(a.line_seconds for a in good) if good else 0.0
            cells.append(
                f"{len(good)}/{len(mine)}, {mean_all:.1f} / {mean_ok:.1f} s, "
                + ", ".join(f"{rate}x{count}" for rate, count in sorted(rates.items(), reverse=True))
            )
        print(f"{level:>10g} | " + " | ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
