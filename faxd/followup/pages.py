"""The two pages follow-up writes itself: the package's first page and the notice.

Both are drawn with reportlab on A4 in Swedish with an English line under each
heading (the units read Swedish; the gateway's operators may not). The package's first
page is for the person who follows up by hand, so it names the recipient, the reason
and whom to call; the notice goes by fax to the sending unit and therefore carries no
patient data and nothing from the document: references, recipient and reason only.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from faxd.redact import redact_text

MARGIN = 56.0
BODY_SIZE = 12.0
LINE = 17.0


@dataclass(frozen=True, slots=True)
class FailedJob:
    """What the follow-up pages say about one job that failed for good."""

    job_id: str
    document_id: str
    reference: str | None  # the sending unit's own reference (FaxdReference)
    message_type: str  # in Swedish words
    sender_name: str
    sender_fax: str | None  # as a person writes it; None when the directory no longer has the unit
    recipient_name: str
    recipient_fax: str
    outcome: str
    reason: str
    attempts: int
    failed_at: datetime  # in the site's zone (config outage.timezone), which the page names
    gateway_callback: str  # the gateway's operators (config station.callback)


class _Page:
    """One A4 page written top-down, wrapping long values."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.canvas = canvas.Canvas(self.buffer, pagesize=A4, invariant=True)
        self.width, height = A4
        self.y = height - MARGIN

    def heading(self, swedish: str, english: str) -> None:
        self.canvas.setFont("Helvetica-Bold", 22)
        self.canvas.drawString(MARGIN, self.y - 22, swedish)
        self.canvas.setFont("Helvetica", 13)
        self.canvas.drawString(MARGIN, self.y - 42, english)
        self.y -= 74

    def paragraph(self, text: str, *, bold: bool = False) -> None:
        font = "Helvetica-Bold" if bold else "Helvetica"
        for line in simpleSplit(text, font, BODY_SIZE, self.width - 2 * MARGIN):
            self.canvas.setFont(font, BODY_SIZE)
            self.canvas.drawString(MARGIN, self.y, line)
            self.y -= LINE
        self.y -= LINE / 2

    def fields(self, rows: list[tuple[str, str]]) -> None:
        label_width = 170.0
        for label, value in rows:
            self.canvas.setFont("Helvetica-Bold", BODY_SIZE)
            self.canvas.drawString(MARGIN, self.y, label)
            lines = simpleSplit(value or "—", "Helvetica", BODY_SIZE, self.width - 2 * MARGIN - label_width) or ["—"]
            self.canvas.setFont("Helvetica", BODY_SIZE)
            for line in lines:
                self.canvas.drawString(MARGIN + label_width, self.y, line)
                self.y -= LINE
            self.y -= 4
        self.y -= LINE / 2

    def pdf(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def _reason(job: FailedJob) -> str:
    # The reason is the gateway's own text (outcome and retry note), masked anyway: it
    # leaves the process on paper and by fax.
    return redact_text(f"{job.outcome}: {job.reason}" if job.reason else job.outcome)


def _when(moment: datetime) -> str:
    # As the reconciliation shows times: to the minute, with the zone named, since the
    # reader cannot know which zone the gateway's server runs in.
    zone = moment.tzinfo.key if isinstance(moment.tzinfo, ZoneInfo) else moment.tzname()
    return f"{moment:%Y-%m-%d %H:%M} ({zone})"


def package_first_page(job: FailedJob, *, pages_note: str) -> bytes:
    """The package's first page: why it failed, for whom, and whom to call. Returns a PDF."""
    page = _Page()
    page.heading("KOM INTE FRAM – följ upp manuellt", "NOT DELIVERED – follow up by hand")
    page.paragraph(
        "Faxgatewayen kunde inte leverera meddelandet nedan. Skicka det för hand (till exempel "
        "med fax till mottagarens nummer) eller ring mottagaren. Efterföljande sidor innehåller "
        "patientuppgifter: hanteras enligt sekretessen (OSL 25 kap. 1 §).",
    )
    page.fields(
        [
            ("Orsak / reason", _reason(job)),
            ("Försök / attempts", f"{job.attempts}, det sista {_when(job.failed_at)}"),
            ("Mottagare / recipient", job.recipient_name),
            ("Mottagarens fax", job.recipient_fax),
            ("Avsändande enhet", job.sender_name + (f", fax {job.sender_fax}" if job.sender_fax else "")),
            ("Meddelandetyp", job.message_type),
            ("Avsändarens referens", job.reference or "—"),
            ("Jobbreferens / job", job.job_id),
            ("Dokument-id", job.document_id),
        ]
    )
    page.paragraph("Vem ringer man? / Whom to call", bold=True)
    page.paragraph(
        f"Mottagaren: {job.recipient_name}, fax {job.recipient_fax} (faxkatalogen har inga "
        f"telefonnummer: slå upp enhetens växel). Avsändande enhet: {job.sender_name}"
        + (f", fax {job.sender_fax}" if job.sender_fax else " (finns inte längre i faxkatalogen)")
        + f". Faxgatewayens drift: {job.gateway_callback}."
    )
    page.paragraph(pages_note)
    return page.pdf()


def notice_page(job: FailedJob, *, package_written: bool) -> bytes:
    """The one-page notice faxed to the sending unit. No patient data: references,
    recipient and reason only (not even the message type). Returns a PDF."""
    page = _Page()
    page.heading("Meddelande från faxgatewayen", "Notice from the fax gateway: a fax was not delivered")
    page.paragraph(
        "Ett meddelande som er enhet skickade via faxgatewayen kom inte fram till mottagaren. "
        "Följ upp det: skicka det på annat sätt eller ring mottagaren. Detta meddelande "
        "innehåller inga patientuppgifter.",
    )
    page.fields(
        [
            ("Er referens", job.reference or "—"),
            ("Jobbreferens / job", job.job_id),
            ("Mottagare / recipient", f"{job.recipient_name}, fax {job.recipient_fax}"),
            ("Orsak / reason", _reason(job)),
            ("Sista försök / last try", _when(job.failed_at)),
        ]
    )
    if package_written:
        page.paragraph(
            "En utskrivbar uppföljningsmapp med försättsbladet och sidorna finns hos faxgatewayens "
            f"samordnare (jobbreferens {job.job_id}). Frågor: {job.gateway_callback}."
        )
    else:
        page.paragraph(f"Frågor: faxgatewayens drift, {job.gateway_callback}.")
    return page.pdf()
