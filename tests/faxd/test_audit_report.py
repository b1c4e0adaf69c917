"""faxctl audit report: HTML and PDF from the verified log, checked with tools nobody here
wrote (headless Chromium for the HTML, poppler's pdfinfo/pdftoppm/pdftotext for the PDF),
hostile values escaped, and no report of a log that does not verify."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from drivers.modem import CallResult, Outcome
from faxd.audit.report_data import ReportData, report_data
from faxd.audit.report_render import CONFIRMED_COLOUR, QUEUED_COLOUR, render_html, render_pdf
from faxd.cli import main as faxctl
from faxd.followup import FollowUp
from faxd.outage import Outage
from tests.faxd.site import Site, admission
from tests.faxd.test_audit_report_data import T0, ViewBuilder, iso

ZONE = ZoneInfo("Europe/Stockholm")
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)> </table>'


class Dom(HTMLParser):
    """Tags with their attributes, and each table's rows of cell texts, by the table's id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def colour_share(image: Image.Image, colour: str) -> float:
    """The share of pixels within a small distance of ``colour`` (#rrggbb)."""
    want = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    rgb = image.convert("RGB")
    near = sum(
        n
        for n, px in rgb.getcolors(rgb.width * rgb.height) or []
        if sum(abs(a - b) for a, b in zip(px, want, strict=True)) < 40
    )
    return near / (rgb.width * rgb.height)


def not_blank(image: Image.Image) -> bool:
    """More than 1 % of the pixels are not white."""
    grey = image.convert("L")
    dark = sum(n for n, value in grey.getcolors(256) or [] if value < 200)
    return dark / (grey.width * grey.height) > 0.01


# -- hostile values -----------------------------------------------------------------------


def hostile_data() -> tuple[ViewBuilder, ReportData]:
    b = ViewBuilder()
    doc = b.document(1, T0, reference=HOSTILE)
    job = b.job(doc, "kommun-lund", "failed", [(T0 + timedelta(seconds=40), "busy")])
    job.recipient_name, job.reason = HOSTILE, HOSTILE
    b.document(2, T0, state="quarantined", reason=HOSTILE)
    b.job(b.document(3, T0), "vc-lund-norra", "confirmed", [(T0 + timedelta(seconds=90), "confirmed")])
    outage = Outage(
        "O-1", HOSTILE, iso(T0 - timedelta(minutes=5)), "root'\"<b>", "x", ended=iso(T0 + timedelta(hours=1))
    )
    return b, report_data(b.view, [outage], generated=datetime(2026, 3, 9, 12, 0, tzinfo=UTC))


def test_hostile_values_are_escaped_in_the_html() -> None:
    """References, reasons, names and the outage's reason with markup in them come out as text:
    no script element, the one image is the chart's data: URI, the text reads as it was."""
    _, data = hostile_data()
    page = render_html(data, ZONE)
    dom = Dom(page)
    assert [t for t, _ in dom.tags if t == "script"] == []
    images = [a for t, a in dom.tags if t == "img"]
    assert len(images) == 1 and (images[0]["src"] or "").startswith("data:image/svg+xml;base64,")
    assert all("onerror" not in attrs for _, attrs in dom.tags)
    assert HOSTILE in "".join(dom.text)
    assert HOSTILE in [row[-1] for row in dom.tables["outages"]]
    assert any(HOSTILE in row for row in dom.tables["failures"])
    svg = base64.b64decode((images[0]["src"] or "").split(",", 1)[1])
    assert svg.lstrip().startswith(b"<?xml") and b"<script" not in svg


def test_hostile_values_print_in_the_pdf(tmp_path: Path) -> None:
    """The PDF builds with markup in every text (reportlab's Paragraph would read it) and
    pdftotext finds the text as it was."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed: scripts/setup.sh installs it")
    _, data = hostile_data()
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(data, ZONE))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "<script>alert" in text and "onerror=alert(1)>" in text and "</table>" in text


# -- the command, on a real log from the queue runner --------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """An outage with a hostile reason; one admission (two messages, the first call busy and
    the job failed for good, the other confirmed), one document refused; follow-up on: the
    failed message gets a package and a notice faxed to the ward (the gateway's own fax)."""
    site = Site(
        tmp_path_factory.mktemp("report"), script=[CallResult(Outcome.BUSY, "the line was busy")], max_attempts=1
    )
    site.runner.followup = FollowUp(site.config, site.store, site.directory.current, lambda: None)
    assert faxctl(["--config", str(site.config.source), "outage", "start", "--reason", HOSTILE]) == 0
    admission(site)
    bad = site.folders.incoming / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 not really")
    assert site.intake.take(bad) is not None
    site.run_all()
    return site


def report(site: Site, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = faxctl(["--config", str(site.config.source), "audit", "report", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    # --no-sandbox: Chromium's sandbox refuses to start as root, which is what this sandbox and
    # CI run as; the page is our own file and runs no script.
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )


def test_the_html_report_in_headless_chromium(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Chromium renders the report: the tables hold the log's figures, the hostile outage reason
    is text and no script, and the screenshot shows the chart's bars."""
    if shutil.which("chromium") is None:
        pytest.skip("chromium not installed: scripts/setup.sh installs it")
    html = tmp_path / "report.html"
    code, out, _ = report(site, capsys, "-o", str(html))
    assert code == 0 and "2 documents, 2 messages (1 confirmed, 1 failed, 0 open)" in out
    dom = Dom(chromium("--dump-dom", html.as_uri(), tmp=tmp_path).stdout)
    assert [t for t, _ in dom.tags if t == "script"] == []
    totals = {row[0]: row[1] for row in dom.tables["totals"]}
    assert totals["documents received"] == "2" and totals["documents refused"] == "1"
    assert totals["call attempts"] == "2" and totals["pages confirmed"] == "2"
    assert totals["follow-up packages written"] == "1" and totals["notices to the sending unit queued"] == "1"
    # The notice faxed to the ward is the gateway's own: 1 document, 1 message confirmed in 1 call.
    own = {row[0]: row[1:7] for row in dom.tables["own"][1:]}
    assert own == {"follow-up notices to the sending unit": ["1", "1", "1", "0", "0", "1"]}
    recipients = {row[0]: row[2:] for row in dom.tables["by-recipient"][1:]}
    assert set(recipients) == {"kommun-lund", "vc-lund-norra", "all"}
    assert recipients["all"][:5] == ["1", "2", "1", "1", "0"]  # routed documents, messages, confirmed, failed, open
    assert dom.tables["by-type"][1][0] == "inskrivningsinformation"
    failures = {(row[0], row[1]) for row in dom.tables["failures"][1:]}
    assert failures == {("message failed for good", "busy"), ("call attempt", "busy"), ("document refused", "refused")}
    assert {row[0]: row[1] for row in dom.tables["latency"]}["confirmed messages measured"] == "1"
    assert dom.tables["outages"][1][-1] == HOSTILE
    assert any(t == "img" and a.get("id") == "chart" for t, a in dom.tags)
    assert len(dom.tables["unconfirmed"]) == 3  # the header, the failed message, the refused document
    shot = tmp_path / "shot.png"
    chromium("--window-size=1100,2600", f"--screenshot={shot}", html.as_uri(), tmp=tmp_path)
    with Image.open(shot) as image:
        assert not_blank(image)
        assert colour_share(image, QUEUED_COLOUR) > 0.0005 and colour_share(image, CONFIRMED_COLOUR) > 0.0005


def test_the_pdf_report_with_poppler(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pdfinfo reads the page count, pdftoppm rasterises every page (none blank, the chart's bars
    on one), pdftotext finds the tables' headings and the refused document's hash."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed: scripts/setup.sh installs it")
    pdf = tmp_path / "report.pdf"
    code, _, _ = report(site, capsys, "-o", str(pdf))
    assert code == 0
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 1 <= pages <= 4
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    shares = []
    for path in images:
        with Image.open(path) as image:
            assert not_blank(image), path.name
            shares.append(colour_share(image, CONFIRMED_COLOUR))
    assert max(shares) > 0.0005
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("Totals", "Per recipient", "Per message type", "Failures by reason", "Messages per hour"):
        assert heading in text
    with sqlite3.connect(site.config.database) as conn:
        (refused,) = conn.execute("SELECT data FROM audit WHERE event = 'document.quarantined'").fetchone()
    # The hash may be broken over lines in its narrow column: compare without white space.
    assert json.loads(refused)["sha256"] in "".join(text.split())


def test_no_report_of_a_log_that_does_not_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An edited entry: one line on stderr, exit 3, no file written."""
    site = Site(tmp_path)
    admission(site)
    site.run_all()
    with sqlite3.connect(site.config.database) as conn:
        conn.execute("UPDATE audit SET data = replace(data, 'kommun-lund', 'kommun-malmo') WHERE event = 'job.created'")
    target = tmp_path / "r.html"
    code, out, err = report(site, capsys, "-o", str(target))
    assert code == 3 and out == "" and len(err.strip().splitlines()) == 1
    assert "no report: the confirmation log is NOT intact, first break at entry " in err and ": edited: " in err
    assert not target.exists() and list(tmp_path.glob(".r.html*")) == []
    # The queue's tables edited instead: no entry to name, the row is (never "entry None").
    with sqlite3.connect(site.config.database) as conn:
        conn.execute("UPDATE audit SET data = replace(data, 'kommun-malmo', 'kommun-lund') WHERE event = 'job.created'")
        assert conn.execute("UPDATE attempts SET pages_confirmed = 0").rowcount >= 1
    code, out, err = report(site, capsys, "-o", str(target))
    assert code == 3 and out == "" and len(err.strip().splitlines()) == 1
    assert "first break: state_differs: attempts row" in err and "None" not in err and not target.exists()
    # A report is handed on as made from the verified log: it has no --unverified.
    with pytest.raises(SystemExit):
        report(site, capsys, "-o", str(target), "--unverified")


def test_bad_requests_get_one_line(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A suffix that is neither .html nor .pdf, a date that is not ISO, an unknown outage, a
    folder that cannot be written: one line each, exit 1, no traceback."""
    for args, words in (
        (("-o", str(tmp_path / "r.docx")), ".html or .pdf"),
        (("-o", str(tmp_path / "r.html"), "--since", "yesterday"), "ISO"),
        (("-o", str(tmp_path / "r.html"), "--outage", "O-9"), "no such outage"),
        (("-o", str(tmp_path / "missing" / "r.pdf")), "cannot write"),
    ):
        code, _, err = report(site, capsys, *args)
        assert code == 1 and words in err and len(err.strip().splitlines()) == 1, (args, err)
        assert "Traceback" not in err


def test_the_outage_option_and_the_period(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--outage O-1 reports what was received since the outage began; a period before any
    document reports none."""
    code, out, _ = report(site, capsys, "--outage", "O-1", "-o", str(tmp_path / "o.html"))
    assert code == 0 and "2 documents" in out
    code, out, _ = report(site, capsys, "--until", "2000-01-01", "-o", str(tmp_path / "none.html"))
    assert code == 0 and "0 documents, 0 messages" in out
    dom = Dom((tmp_path / "none.html").read_text(encoding="utf-8"))
    assert "No messages in this period." in "".join(dom.text)


def test_a_long_outage_still_open_renders(tmp_path: Path) -> None:
    """An outage in force for three days with a message every two hours: 73 hours in the
    chart's table, the outage shown as in force, both formats build."""
    b = ViewBuilder()
    for n in range(36):
        doc = b.document(n, T0 + timedelta(hours=2 * n, minutes=7))
        b.job(doc, "kommun-lund", "confirmed", [(T0 + timedelta(hours=2 * n, minutes=9), "confirmed")])
    outage = Outage("O-2", "Mina planer nere", iso(T0), "coordinator", "x")
    data = report_data(b.view, [outage], outage=outage, generated=T0 + timedelta(days=3, minutes=30))
    assert len(data.hours) == 73 and all(h.in_outage for h in data.hours)
    dom = Dom(render_html(data, ZONE))
    assert len(dom.tables["hours"]) == 74 and dom.tables["outages"][1][3] == "in force"
    assert "received or faxed during outage O-2" in "".join(dom.text)
    assert render_pdf(data, ZONE).startswith(b"%PDF")
