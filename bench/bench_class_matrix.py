"""The class x fault matrix: each fault of the simulated line through the real driver of
each fax class (Class 1, and Class 2, 2.0, 2.1 against the simulator's personalities) and
the queue runner, every attempt until the job is done or given up.

Run:  .venv/bin/python bench/bench_class_matrix.py [--classes 1,2,2.0,2.1] [--faults ...]
      [--json FILE]

One admission notice goes to two units; the municipality's remote plays the fault, the
outpatient unit's answers normally (its job must be confirmed in every case). The document
has three pages, so a call carries a cover sheet and three pages. ``max_attempts = 3``
with no delay between attempts. Printed: a markdown table, per fault and class, of each
attempt of the municipality's job (outcome, pages confirmed / pages in that call) and the
job's final state; then the seconds each case took.

The faults:

- busy, no answer: the remote's line;
- wrong CSI: the remote identifies as another station: nothing may be sent;
- page rejected: 40 bit errors in every page, so every copy gets RTN;
- cut off mid-document: the remote sends DCN after the 2nd page of every call; each retry
  resumes at the first unconfirmed page after a continuation cover sheet;
- modem stops answering: after the first page of every call the modem answers nothing
  for 1 s (the driver gives up on the page's end, the runner probes, the job is retried).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.class1 import Class1Modem  # noqa: E402  (after the path set-up above)
from drivers.class2 import Class2Modem  # noqa: E402
from drivers.modem import FaxModem, Station  # noqa: E402
from drivers.simulator import Answer, RemoteProfile, SimulatedModem  # noqa: E402
from tests.faxd.site import WARD, Site  # noqa: E402

MUNICIPALITY = "kommun-lund"
OUTPATIENT = "vc-lund-norra"
MUNICIPALITY_NUMBER = "0406280416"  # kommun-lund in examples/directory.csv
MUNICIPALITY_CSI = "+46 40 628 04 16"
CLASSES = ("1", "2", "2.0", "2.1")
FAULTS: dict[str, dict[str, Any]] = {
    "busy": {"answer": Answer.BUSY},
    "no-answer": {"answer": Answer.NO_ANSWER},
    "wrong-csi": {"csi": "031 390 06 99"},
    "page-rejected": {"bit_errors": 40},
    "cut-off-resume": {"dcn_after_page": 2},
    "modem-stops-answering": {"wedge_after_page": 1, "wedge_seconds": 1.0},
}


@dataclass
class Case:
    fault: str
    fax_class: str
    attempts: list[tuple[str, int, int]]  # outcome, pages confirmed, pages in the call
    final: str
    other_final: str
    seconds: float

    def cell(self) -> str:
        tries = " → ".join(f"{o} {c}/{t}" for o, c, t in self.attempts)
        return f"{tries}; job **{self.final}**"


def open_modem(path: str, fax_class: str) -> FaxModem:
    """The drivers as tests/faxd/test_fault_outcomes.py opens them: short timeouts, and
    only a tenth of a page's line time allowed for the answer after page data (the
    simulator at speed 0 spends none)."""
    station = Station(tsi="+46 40 628 04 00", header_name="Bench")
    if fax_class == "1":
        return Class1Modem(path, station=station, name="sim0", command_timeout=2.0,
                           line_time_factor=0.1)  # fmt: skip
    return Class2Modem(path, fax_class=fax_class, station=station, name="sim0", command_timeout=2.0,
                       phase_timeout=5.0, line_time_factor=0.1)  # fmt: skip


def three_page_pdf(label: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for page in range(1, 4):
        c.setFont("Helvetica", 28)
        c.drawString(72, 700, f"{label}: page {page} of 3")
        c.rect(72, 200 + 60 * page, 300, 200, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def drop(site: Site, label: str) -> None:
    path = site.folders.incoming / "notice.pdf"
    path.write_bytes(three_page_pdf(label))
    meta = {"FaxdType": "inskrivningsinformation", "FaxdSender": WARD,
            "FaxdMunicipality": MUNICIPALITY, "FaxdOutpatient": OUTPATIENT}  # fmt: skip
    (site.folders.incoming / "notice.pdf.json").write_text(json.dumps(meta))
    result = site.intake.take(path)
    if result is None or result.quarantine_reason is not None:
        raise SystemExit(f"the bench document was not taken: {result}")


def run_case(fault: str, fax_class: str) -> Case:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        profile = RemoteProfile(**({"csi": MUNICIPALITY_CSI} | FAULTS[fault]))
        simulator = SimulatedModem(out_dir=root / "received", receive_timeout=0.3, fax_class=fax_class,
                                   profiles={MUNICIPALITY_NUMBER: profile})  # fmt: skip
        path = simulator.start()
        try:
            site = Site(root, max_attempts=3, open_modem=lambda: open_modem(path, fax_class),
                        modem_keys="max_page_resends = 1\n")  # fmt: skip
            drop(site, f"{fault} / Class {fax_class}")
            site.run_all()
            log = [e for e in site.store.confirmation_log() if e["recipient"] == MUNICIPALITY]
            jobs = {j["recipient"]: j["state"] for j in site.store.jobs()}
            if not site.store.verify_log().intact:
                raise SystemExit("the confirmation log does not verify")
        finally:
            simulator.stop()
    attempts = [(e["outcome"], e["pages_confirmed"], e["pages_total"]) for e in log]
    return Case(fault, fax_class, attempts, jobs[MUNICIPALITY], jobs[OUTPATIENT], time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"some of {','.join(FAULTS)}")
    parser.add_argument("--json", type=Path, help="write the cases as JSON")
    args = parser.parse_args()
    classes = args.classes.split(",")
    faults = args.faults.split(",")
    cases = [run_case(fault, fax_class) for fault in faults for fax_class in classes]
    print("| fault | " + " | ".join(f"Class {c}" for c in classes) + " |")
    print("|---|" + "---|" * len(classes))
    for fault in faults:
        cells = [case.cell() for case in cases if case.fault == fault]
        print(f"| {fault} | " + " | ".join(cells) + " |")
    print()
    print("The other recipient's job (normal remote): " + ", ".join(sorted({c.other_final for c in cases})))
    print("Seconds per case: " + ", ".join(f"{c.fault}/{c.fax_class} {c.seconds:.1f}" for c in cases))
    if args.json:
        args.json.write_text(json.dumps([c.__dict__ for c in cases], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
