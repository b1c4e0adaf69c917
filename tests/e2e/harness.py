"""Running the real ``faxd`` and ``faxctl modem simulate`` processes for end-to-end tests.

Synchronisation is on what the processes say: each child's output is read line by
line on a thread, and a test waits for the line it needs (``daemon.ready``,
``job.sent`` ...) with a deadline. Nothing sleeps for a fixed time.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageSequence
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from routing.directory import Directory, UnitKind
from tests.faxd.keys import audit_config, ensure_keys

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DIRECTORY = ROOT / "examples" / "directory.csv"


def first_of_kind(kind: UnitKind, *, station_id: bool = False) -> str:
    """A unit of ``kind`` with (or without) an expected station id in the directory."""
    return next(u.id for u in SAMPLE_DIRECTORY.units.values() if u.kind is kind and bool(u.station_id) == station_id)


SAMPLE_DIRECTORY = Directory.load(DIRECTORY)
WARD = first_of_kind(UnitKind.INPATIENT)
MUNICIPALITY = first_of_kind(UnitKind.MUNICIPALITY)
OUTPATIENT = first_of_kind(UnitKind.OUTPATIENT)
# The standalone simulator answers every number as +46 40 628 04 99: a unit whose
# directory entry expects another station id must be refused before page one.
GUARDED_MUNICIPALITY = first_of_kind(UnitKind.MUNICIPALITY, station_id=True)


def admission_meta(**extra: str) -> dict[str, str]:
    """Inskrivningsinformation: a ward tells the municipality and outpatient care."""
    return {
        "FaxdType": "inskrivningsinformation",
        "FaxdSender": WARD,
        "FaxdMunicipality": MUNICIPALITY,
        "FaxdOutpatient": OUTPATIENT,
        "FaxdReference": "E2E-1",
    } | extra


def make_pdf(
    path: Path,
    pages: int,
    *,
    metadata: dict[str, str] | None = None,
    label: str = "Form",
    title: str = "Inskrivningsinformation",
) -> Path:
    """A form-like PDF: a title (the form's name: intake checks it against FaxdType), boxes
    and text lines that differ per page."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 18)
        c.drawString(60, 780, f"{title} - {label}")
        c.setFont("Helvetica", 11)
        for i in range(20):
            c.drawString(60, 740 - i * 22, f"Fält {i + 1}: värde {n * 100 + i} - testformulär sida {n}")
        c.rect(50, 100 + n * 10, 400, 150)
        c.showPage()
    c.save()
    data = buf.getvalue()
    if metadata:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        writer.add_metadata({"/" + k: v for k, v in metadata.items()})
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    path.write_bytes(data)
    return path


class Child:
    """A child process whose merged output is collected line by line."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.proc = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        self._new = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._new:
                self.lines.append(line.rstrip("\n"))
                self._new.notify_all()
        with self._new:
            self._new.notify_all()

    def wait_for(self, pattern: str, *, count: int = 1, timeout: float = 60.0) -> list[str]:
        """Block until ``count`` lines match ``pattern``; raise with the output if not in time."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._new:
            while True:
                hits = [line for line in self.lines if regex.search(line)]
                if len(hits) >= count:
                    return hits
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"{self.argv[0]}: wanted {count} line(s) matching {pattern!r}, got {len(hits)};"
                        f" exit={self.proc.poll()}; output:\n" + "\n".join(self.lines[-60:])
                    )
                self._new.wait(remaining)

    def count(self, pattern: str) -> int:
        regex = re.compile(pattern)
        with self._new:
            return sum(1 for line in self.lines if regex.search(line))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code


#: A test that runs for every fax class takes ``gateway`` through this (indirect) parametrisation.
ALL_CLASSES = pytest.mark.parametrize("gateway", ["1", "2", "2.0", "2.1"], indirect=True, ids=lambda c: f"class{c}")


@dataclass
class Gateway:
    """One test's faxd installation: config, spool, state, a simulated modem."""

    root: Path
    device: str
    extra_config: str = ""
    fax_class: str = "1"  # the simulated modem's personality and the [[modem]] class
    config_class: str | None = None  # the [[modem]] class when it differs ("auto")
    directory: Path = DIRECTORY  # a test that edits the directory passes a copy
    retry_delay_seconds: float = 0.2
    # Follow-up (on in production) adds a notice fax after every job that fails; tests of
    # other things count calls and log rows, so it is on only where a test asks for it.
    followup: bool = False
    daemon: Child | None = None
    simulator: Child | None = None
    children: list[Child] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "faxd.toml"

    @property
    def received(self) -> Path:
        return self.root / "received"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def write_config(self) -> None:
        self.config.write_text(
            f"""
[paths]
spool = "spool"
state = "state"
directory = "{self.directory}"
[station]
tsi = "+46 40 628 04 00"
header_name = "Testgateway"
callback = "040-628 04 00"
[retry]
max_attempts = 3
delay_seconds = {self.retry_delay_seconds}
busy_delay_seconds = 0.2
no_answer_delay_seconds = 0.2
{audit_config(self.root)}
[outage]
when_not_declared = "send"
[followup]
enabled = {str(self.followup).lower()}
notify_sender = {str(self.followup).lower()}
[[modem]]
name = "m0"
device = "{self.device}"
class = "{self.config_class or self.fax_class}"
{self.extra_config}
"""
        )

    def start_simulator(
        self,
        *,
        speed: float = 0.0,
        csi: str = "+46 40 628 04 99",
        profiles: dict[str, dict[str, Any]] | None = None,
        out: Path | None = None,
    ) -> Child:
        """``profiles``: remote fax machine and faults per dialled number (digits). ``out``:
        where its calls go (default ``received``; a second simulator needs its own, since
        each numbers its calls from 1)."""
        link = self.root / "tty-sim"
        argv = [
            str(BIN / "faxctl"),
            "modem",
            "simulate",
            "--link",
            str(link),
            "--out",
            str(out or self.received),
            "--speed",
            str(speed),
            "--csi",
            csi,
            "--class",
            self.fax_class,
        ]
        if profiles is not None:
            path = self.root / "profiles.json"
            path.write_text(json.dumps({"numbers": profiles}))
            argv += ["--profiles", str(path)]
        self.simulator = Child(argv)
        self.children.append(self.simulator)
        self.simulator.wait_for(re.escape(str(link)) + "|/dev/pts/", timeout=30)
        return self.simulator

    def start_daemon(self) -> Child:
        self.write_config()
        ensure_keys(self.root)
        self.daemon = Child([str(BIN / "faxd"), "--config", str(self.config)])
        self.children.append(self.daemon)
        self.daemon.wait_for(r"daemon\.ready", timeout=60)
        return self.daemon

    def faxctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "faxctl"), "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def send(self, pdf: Path, meta: dict[str, Any] | None = None) -> None:
        args = [str(pdf)]
        if meta is not None:
            sidecar = pdf.with_name(pdf.name + ".meta.json")
            sidecar.write_text(json.dumps(meta))
            args += ["--meta", str(sidecar)]
        self.faxctl("send", *args)

    def log(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = json.loads(self.faxctl("log", "--json").stdout)
        return entries

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.faxctl("status", "--json").stdout)
        return result

    def calls(self, out: Path | None = None) -> list[dict[str, Any]]:
        """The simulated remote's call summaries, oldest first."""
        summaries = sorted((out or self.received).glob("call-*/summary.json"))
        return [json.loads(p.read_text()) | {"dir": str(p.parent)} for p in summaries]

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.stop(signal.SIGTERM)


def tiff_pages(path: Path) -> list[np.ndarray]:
    """Every page of a bilevel TIFF as a bool array, True = black."""
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        return [np.asarray(frame.convert("1")) == 0 for frame in ImageSequence.Iterator(image)]
