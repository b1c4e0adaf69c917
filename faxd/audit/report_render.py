"""``faxctl audit report`` as HTML or PDF, from :class:`~faxd.audit.report_data.ReportData`.

- **HTML:** a jinja2 template (``faxd/data/audit-report.html.j2``) with autoescape on,
  so every value from the log (references, reasons, names) is escaped; the chart is an
  SVG in an ``<img>`` with a ``data:`` URI, which a browser never runs scripts from.
- **PDF:** reportlab's platypus (already the gateway's PDF library for the cover sheet:
  manylinux wheels, no system libraries, where an HTML-to-PDF engine such as weasyprint
  would need Pango from Debian and a second PDF stack). Cell text goes into Paragraphs,
  whose mini-markup is escaped first. The font is DejaVu Sans from matplotlib's own data,
  embedded, so any name in the directory prints.
- **Chart:** matplotlib's object API (``Figure``, Agg/SVG backends; no pyplot state, no
  display), bars of messages queued and confirmed per hour, outage hours shaded.

Both formats show the same tables, built once by ``tables``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import jinja2
import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate
from reportlab.platypus import Table as PdfTable

from faxd.audit.report_data import NONE, ReportData, Tally

QUEUED_COLOUR = "#1f77b4"
CONFIRMED_COLOUR = "#2ca02c"
OUTAGE_COLOUR = "#f2c94c"
TEMPLATE = "audit-report.html.j2"
# The PDF is A4 landscape, so that seven number columns fit beside a unit's name. Its text
# width (less margins) and its tables' text columns, in mm; the number columns share the rest.
WIDTH = 269.0
TEXT_WIDTHS = {"by-recipient": [36.0, 80.0], "by-type": [46.0], "failures": [38.0, 30.0, 70.0, 101.0], "own": [60.0]}
MIN_SLOTS = 8  # the chart is at least this many hours wide


@dataclass(frozen=True, slots=True)
class Table:
    id: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text_columns: int  # the first columns are text, the rest numbers (right-aligned)
    total: bool = False  # the last row is a total


TALLY_COLUMNS = ("documents", "messages", "confirmed", "failed", "open", "attempts", "pages confirmed")


def _tally_cells(t: Tally) -> tuple[str, ...]:
    return tuple(
        str(v) for v in (t.documents, t.messages, t.confirmed, t.failed, t.open, t.attempts, t.pages_confirmed)
    )


def tables(data: ReportData) -> tuple[Table, ...]:
    """Per recipient, per message type and failures by reason, as text cells."""
    total = ("all", "", *_tally_cells(data.totals))
    return (
        Table(
            "by-recipient",
            "Per recipient",
            ("recipient", "name", *TALLY_COLUMNS),
            tuple((t.key, t.name, *_tally_cells(t)) for t in data.by_recipient)
            + ((total,) if data.by_recipient else ()),
            2,
            total=bool(data.by_recipient),
        ),
        Table(
            "by-type",
            "Per message type",
            ("message type", *TALLY_COLUMNS),
            tuple((t.key, *_tally_cells(t)) for t in data.by_type) + ((total[:1] + total[2:],) if data.by_type else ()),
            1,
            total=bool(data.by_type),
        ),
        Table(
            "failures",
            "Failures by reason",
            ("what", "outcome", "meaning", "example reason", "count"),
            tuple((f.what, f.outcome, f.meaning, f.reason, str(f.count)) for f in data.failures),
            4,
        ),
    ) + (
        (
            Table(
                "own",
                "The gateway's own faxes",
                ("kind", *TALLY_COLUMNS),
                tuple((t.key, *_tally_cells(t)) for t in data.own),
                1,
            ),
        )
        if data.own
        else ()
    )


def duration(seconds: float | None) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``; ``—`` for none."""
    if seconds is None:
        return NONE
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _local(moment: datetime | str | None, zone: ZoneInfo) -> str:
    if moment is None:
        return NONE
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _period(data: ReportData, zone: ZoneInfo) -> str:
    """What the report is about: "Documents <this>"."""
    window = ""
    if data.since or data.until:
        window = f"from {_local(data.since, zone)}" if data.since else "from the start of the log"
        window += f" until {_local(data.until, zone)}" if data.until else " on"
    if data.for_outage:
        return f"received or faxed during outage {data.for_outage}" + (f", and received {window}" if window else "")
    return f"received {window or 'at any time (the whole log)'}"


def _totals(data: ReportData) -> list[tuple[str, str]]:
    t = data.totals
    return [
        ("documents received", str(data.documents)),
        ("documents refused", str(data.refused)),
        ("messages (one document to one recipient)", str(t.messages)),
        ("confirmed", str(t.confirmed)),
        ("failed for good", str(t.failed)),
        ("still open (queued, held, in a call)", str(t.open)),
        ("call attempts", str(t.attempts)),
        ("pages confirmed", str(t.pages_confirmed)),
        *((words, str(n)) for words, n in data.followup),
    ]


def _latency(data: ReportData) -> list[tuple[str, str]]:
    lat = data.latency
    return [
        ("confirmed messages measured", str(lat.count)),
        ("median", duration(lat.median)),
        ("95th percentile (nearest rank)", duration(lat.p95)),
        ("longest", duration(lat.longest)),
    ]


def _figure(data: ReportData, zone: ZoneInfo) -> Figure:

    hours = data.hours
    fig = Figure(figsize=(9, 3.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    xs = range(len(hours))
    for i, h in enumerate(hours):
        if h.in_outage:
            ax.axvspan(i - 0.5, i + 0.5, color=OUTAGE_COLOUR, alpha=0.35, linewidth=0)
    ax.bar([x - 0.2 for x in xs], [h.queued for h in hours], width=0.4, color=QUEUED_COLOUR, label="queued")
    ax.bar([x + 0.2 for x in xs], [h.confirmed for h in hours], width=0.4, color=CONFIRMED_COLOUR, label="confirmed")
    step = max(1, len(hours) // 12)
    ticks = list(range(0, len(hours), step))
    labels = []
    for i in ticks:
        local = hours[i].start.astimezone(zone)
        new_day = i == 0 or hours[i - step].start.astimezone(zone).date() != local.date()
        labels.append(local.strftime("%m-%d\n%H:00" if new_day else "%H:00"))
    ax.set_xticks(ticks, labels, fontsize=8)
    pad = max(0.0, (MIN_SLOTS - len(hours)) / 2)  # a few hours: narrow bars, not slabs
    ax.set_xlim(-0.6 - pad, len(hours) - 0.4 + pad)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole messages
    ax.set_ylabel("messages")
    ax.set_title(f"Messages per hour ({zone.key})", fontsize=10)
    handles, names = ax.get_legend_handles_labels()
    handles.append(Patch(color=OUTAGE_COLOUR, alpha=0.35))
    names.append("outage")
    ax.legend(handles, names, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside, never over a bar
    return fig


def chart(data: ReportData, zone: ZoneInfo, fmt: str) -> bytes:
    """The chart as ``svg`` or ``png`` (200 dpi, for the PDF); empty if there are no hours."""
    if not data.hours:
        return b""
    buffer = io.BytesIO()
    # No creation date in the file: the same log gives the same chart.
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    _figure(data, zone).savefig(buffer, format=fmt, dpi=200, metadata=metadata)
    return buffer.getvalue()


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("faxd", "data"),
        autoescape=True,  # every value from the log is escaped, whatever the template's suffix
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def title(data: ReportData) -> str:
    ids = ", ".join(o.id for o in data.outages)
    return f"Fax gateway report{' — outage ' + ids if ids else ''}"


def render_html(data: ReportData, zone: ZoneInfo) -> str:
    outages = [
        dict(
            id=o.id,
            started=_local(o.started, zone),
            started_by=o.started_by,
            ended=_local(o.ended, zone) if o.ended else "in force",
            ended_by=o.ended_by or NONE,
            reason=o.reason,
        )
        for o in data.outages
    ]
    hours = [(_local(h.start, zone), h.queued, h.confirmed, "yes" if h.in_outage else "") for h in data.hours]
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            title=title(data),
            data=data,
            zone=zone.key,
            period=_period(data, zone),
            generated=_local(data.generated, zone),
            outages=outages,
            totals=_totals(data),
            tables=tables(data),
            latency=_latency(data),
            chart=base64.b64encode(chart(data, zone, "svg")).decode("ascii"),
            hours=hours,
            unconfirmed=data.unconfirmed,
        )
    )


@cache
def _fonts() -> tuple[str, str]:
    """DejaVu Sans (regular, bold) registered with reportlab, from matplotlib's data."""

    folder = Path(mpl.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
    return "DejaVuSans", "DejaVuSans-Bold"


def render_pdf(data: ReportData, zone: ZoneInfo) -> bytes:

    regular, bold = _fonts()
    pair = [80 * mm, 30 * mm]  # label and value
    body = ParagraphStyle("body", fontName=regular, fontSize=8, leading=10)
    cell = ParagraphStyle("cell", parent=body, fontSize=7, leading=8.5)
    head = ParagraphStyle("head", parent=cell, fontName=bold)
    number = ParagraphStyle("number", parent=cell, alignment=TA_RIGHT)
    code = ParagraphStyle("code", parent=cell, fontSize=6, leading=7, wordWrap="CJK")  # breaks a hash anywhere
    h1 = ParagraphStyle("h1", parent=body, fontName=bold, fontSize=14, leading=18, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontName=bold, fontSize=10.5, leading=13, spaceBefore=10, spaceAfter=3)

    def p(text: object, style: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(escape(str(text)), style)  # Paragraph reads markup: escape it first

    def grid(
        rows: Sequence[Sequence[object]],
        header: bool = True,
        widths: list[float] | None = None,
        hashes: int = -1,
        text_columns: int = 99,
    ) -> PdfTable:
        """``hashes``: the column holding SHA-256 values, set small and broken anywhere;
        columns from ``text_columns`` on hold numbers, set right-aligned."""

        def style(r: int, c: int) -> ParagraphStyle:
            if header and r == 0:
                return head
            return code if c == hashes else number if c >= text_columns else cell

        cells = [[p(v, style(r, c)) for c, v in enumerate(row)] for r, row in enumerate(rows)]
        table = PdfTable(cells, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
        table.setStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("BACKGROUND", (0, 0), (-1 if header else 0, 0 if header else -1), colors.whitesmoke),
            ]
        )
        return table

    story: list[Any] = [
        p(title(data), h1),
        p(f"Documents {_period(data, zone)}; times in {zone.key}.", body),
        p(
            f"From the confirmation log as verified at {_local(data.generated, zone)}: {data.log_entries} entries, "
            f"signatures and chain intact, published head entry {data.head_seq}. No patient data: documents are "
            "named by the gateway's id, SHA-256 and the sender's reference.",
            body,
        ),
        p("Outage periods", h2),
    ]
    if data.outages:
        rows: list[list[object]] = [["outage", "started", "by", "ended", "by", "reason"]]
        for o in data.outages:
            ended = _local(o.ended, zone) if o.ended else "in force"
            rows.append([o.id, _local(o.started, zone), o.started_by, ended, o.ended_by or NONE, o.reason])
        story.append(grid(rows, widths=[w * mm for w in (16, 34, 30, 34, 30, 125)]))
    else:
        story.append(p("No outage recorded in this period.", body))
    story += [p("Totals", h2), grid(_totals(data), header=False, widths=pair, text_columns=1)]
    for table in tables(data):
        story.append(p(table.title, h2))
        text = TEXT_WIDTHS[table.id]
        numbers = len(table.columns) - table.text_columns
        widths = [w * mm for w in [*text, *[min(20.0, (WIDTH - sum(text)) / numbers)] * numbers]]
        shown = grid([table.columns, *table.rows], widths=widths, text_columns=table.text_columns)
        story.append(shown if table.rows else p("None.", body))
    story += [p("Time from drop to confirmation", h2), grid(_latency(data), header=False, widths=pair, text_columns=1)]
    png = chart(data, zone, "png")
    shown = (
        Image(io.BytesIO(png), width=WIDTH * 0.75 * mm, height=WIDTH * 0.75 / 9 * 3.2 * mm, hAlign="LEFT")
        if png
        else p("No messages in this period.", body)
    )
    story.append(KeepTogether([p("Messages per hour", h2), shown]))  # the heading never alone at a page's foot
    story.append(p("Not confirmed", h2))
    if data.unconfirmed:
        rows = [["document", "SHA-256", "reference", "type", "recipient", "state", "reason"]]
        rows += [
            [u.document_id, u.sha256, u.reference, u.message_type, u.recipient, u.state, u.reason]
            for u in data.unconfirmed
        ]
        widths = [w * mm for w in (40, 44, 30, 36, 34, 18, 67)]
        story.append(grid(rows, widths=widths, hashes=1))
    else:
        story.append(p("Every message of this period was confirmed.", body))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title(data),
        author="faxd",
        invariant=True,  # no creation date or random id: the same log gives the same file
    )
    doc.build(story)
    return buffer.getvalue()
