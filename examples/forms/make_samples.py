"""Generate the sample forms of the backup routine: one PDF per message type (two for the
kartläggning, one per part), with routing fields in the PDF document information.

    .venv/bin/python examples/forms/make_samples.py [OUTPUT_DIR]

Writes into this folder by default; the output is byte-for-byte reproducible, so the
committed PDFs only change when this script does.

Every form carries its type's Swedish name as the title on page one (the gateway's
fallback type detection reads it). The content is fictitious: the patient is the
Swedish test person Tolvan Tolvansson 19121212-1212, staff names are made up, and every
phone number comes from the ranges reserved for fiction. Units are those of
``examples/directory.csv``.

Routing fields: most forms carry them as ``/FaxdType``, ``/FaxdSender``, ... in the
document information; ``08-sip.pdf`` has them in the sidecar ``08-sip.pdf.json``
instead; ``07-kallelse-sip-oppenvard.pdf`` has no ``FaxdType``, so its type is
recognised from its title.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

PATIENT = ("Tolvan Tolvansson", "19121212-1212")
ADDRESS = "Testgatan 12, 222 22 Lund"
HEADER = "Region Skåne och Skånes kommuner  ·  Reservrutin för processerna i Mina planer"
FOOTER = "Fiktivt exempel för faxd. Innehållet är påhittat; telefonnummer ur PTS nummerserie för fiktion."

Section = tuple[str, list[tuple[str, str]]]  # heading, (label, value) rows


@dataclass
class Sample:
    name: str  # file name without .pdf
    title: str  # the type's Swedish name, as the region's form has it
    subtitle: str
    pages: list[list[Section]]
    routing: dict[str, object]
    sidecar: bool = False
    checkboxes: list[tuple[str, bool]] = field(default_factory=list)


def patient_section() -> Section:
    return ("Patient", [("Namn", PATIENT[0]), ("Personnummer", PATIENT[1]), ("Adress", ADDRESS)])


def signature_section(who: str, unit: str, phone: str) -> Section:
    return (
        "Uppgiftslämnare",
        [("Namn och titel", who), ("Enhet", unit), ("Telefon", phone), ("Datum och underskrift", "")],
    )


SAMPLES: list[Sample] = [
    Sample(
        name="01-checklista-beslutsstod",
        title="Checklista beslutsstöd",
        subtitle="Används enbart av kommunen och faxas inte vidare. Dubbelsidig utskrift, A5-broschyr.",
        pages=[
            [
                patient_section(),
                (
                    "Beslutsstöd inför hemgång",
                    [
                        ("Bostad anpassad", "Ja, trappfritt boende"),
                        ("Hjälpmedel", "Rollator, duschpall"),
                        ("Hemtjänst före inskrivning", "Ja, 2 besök/dag"),
                        ("Anhörig", "Dotter, kontakt via kommunen"),
                    ],
                ),
            ],
            [("Anteckningar", [("Handläggare", "Kim Exempelsson, biståndshandläggare"), ("Övrigt", "")])],
        ],
        routing={"FaxdType": "checklista-beslutsstod", "FaxdSender": "kommun-lund", "FaxdReference": "LU-CHK-0007"},
        checkboxes=[("Behov av korttidsplats", False), ("Behov av hemsjukvård", True)],
    ),
    Sample(
        name="02-akutblad",
        title="Akutblad för manuell hantering",
        subtitle="Faxas från kommun och/eller öppenvård eller skickas med patienten.",
        pages=[
            [
                patient_section(),
                (
                    "Aktuellt",
                    [
                        ("Orsak till akut besök", "Fall i hemmet, smärta höger höft"),
                        ("Läkemedelslista", "Bifogas från journal (fiktiv)"),
                        ("Hemtjänst", "Ja, 4 besök/dag, larm"),
                        ("Kontakt kommun", "Sjuksköterska Robin Provsson, 040-628 04 95"),
                    ],
                ),
                signature_section("Robin Provsson, sjuksköterska", "Malmö stad, hemsjukvården", "040-628 04 95"),
            ]
        ],
        routing={
            "FaxdType": "akutblad",
            "FaxdSender": "kommun-malmo",
            "FaxdWard": "sus-malmo-akuten",
            "FaxdReference": "MA-AKUT-0112",
        },
    ),
    Sample(
        name="03-inskrivningsinformation",
        title="Inskrivningsinformation",
        subtitle="Inskrivningsmeddelande till berörd kommun och öppenvård.",
        pages=[
            [
                patient_section(),
                (
                    "Inskrivning",
                    [
                        ("Inskriven", "2026-11-24 kl. 14.10"),
                        ("Avdelning", "SUS Lund, Medicinavdelning 12"),
                        ("Orsak", "Pneumoni"),
                        ("Beräknad tid för utskrivning", "2026-12-01"),
                        ("Fast vårdkontakt", "Vårdcentralen Lund Norra"),
                    ],
                ),
                signature_section("Alex Fiktivsson, sjuksköterska", "SUS Lund, Medicinavdelning 12", "08-465 004 95"),
            ]
        ],
        routing={
            "FaxdType": "inskrivningsinformation",
            "FaxdSender": "sus-lund-avd-12",
            "FaxdMunicipality": "kommun-lund",
            "FaxdOutpatient": "vc-lund-norra",
            "FaxdAlso": "psyk-lund-oppenvard",
            "FaxdEventDate": "2026-11-24",
            "FaxdReference": "LU12-INSK-0451",
        },
    ),
    Sample(
        name="04-kartlaggning-aktuellt-tillstand",
        title="Kartläggning – Aktuellt tillstånd",
        subtitle="Fylls i av slutenvården. Faxas till övriga berörda enheter.",
        pages=[
            [
                patient_section(),
                (
                    "Aktuellt tillstånd",
                    [
                        ("Medicinskt tillstånd", "Förbättrad, afebril sedan två dygn"),
                        ("Funktionsförmåga", "Går med rollator, behöver stöd vid dusch"),
                        ("Kognition", "Ingen känd nedsättning"),
                        ("Nutrition", "Äter själv, nedsatt aptit"),
                    ],
                ),
            ],
            [
                (
                    "Fortsatta behov",
                    [
                        ("Hälso- och sjukvård", "Uppföljning på vårdcentral inom en vecka"),
                        ("Omsorg", "Utökad hemtjänst föreslås"),
                    ],
                ),
                signature_section("Alex Fiktivsson, sjuksköterska", "SUS Lund, Medicinavdelning 12", "08-465 004 95"),
            ],
        ],
        routing={
            "FaxdType": "kartlaggning",
            "FaxdPart": "aktuellt-tillstand",
            "FaxdSender": "sus-lund-avd-12",
            "FaxdMunicipality": "kommun-lund",
            "FaxdOutpatient": "vc-lund-norra",
            "FaxdWard": "sus-lund-avd-12",
            "FaxdReference": "LU12-KART-0452",
        },
    ),
    Sample(
        name="04-kartlaggning-bakgrund",
        title="Kartläggning – Bakgrund",
        subtitle="Fylls i av kommun och öppenvård. Faxas till övriga berörda enheter.",
        pages=[
            [
                patient_section(),
                (
                    "Bakgrund",
                    [
                        ("Boende", "Ensamboende i lägenhet, hiss finns"),
                        ("Insatser före inskrivning", "Hemtjänst 2 besök/dag, trygghetslarm"),
                        ("Anhöriga", "Dotter bor i Malmö"),
                        ("Hjälpmedel", "Rollator"),
                    ],
                ),
            ],
            [signature_section("Kim Exempelsson, biståndshandläggare", "Lunds kommun", "040-628 04 96")],
        ],
        routing={
            "FaxdType": "kartlaggning",
            "FaxdPart": "bakgrund",
            "FaxdSender": "kommun-lund",
            "FaxdOutpatient": "vc-lund-norra",
            "FaxdWard": "sus-lund-avd-12",
            "FaxdReference": "LU-KART-0031",
        },
    ),
    Sample(
        name="05-stallningstagande",
        title="Ställningstagande inför utskrivning",
        subtitle="Respektive deltagande enhet upprättar sin version och faxar till övriga berörda enheter.",
        pages=[
            [
                patient_section(),
                (
                    "Ställningstagande",
                    [
                        ("Behov av insatser efter utskrivning", "Ja, hälso- och sjukvård"),
                        ("Kallelse till SIP behövs", "Nej"),
                        ("Planerade åtgärder", "Läkarbesök och provtagning vecka 49"),
                    ],
                ),
                signature_section("Sam Testare, distriktssköterska", "Vårdcentralen Lund Norra", "031-390 06 95"),
            ]
        ],
        routing={
            "FaxdType": "stallningstagande",
            "FaxdSender": "vc-lund-norra",
            "FaxdMunicipality": "kommun-lund",
            "FaxdOutpatient": "vc-lund-norra",
            "FaxdWard": "sus-lund-avd-12",
            "FaxdReference": "VCLN-STN-0077",
        },
    ),
    Sample(
        name="06-kallelse-sip-slutenvard",
        title="Kallelse till SIP, patient inskriven i slutenvård",
        subtitle="Ansvarig öppenvårdsenhet kallar till samordnad individuell plan.",
        pages=[
            [
                patient_section(),
                (
                    "Möte",
                    [
                        ("Datum och tid", "2026-11-30 kl. 10.00"),
                        ("Plats", "SUS Lund, Medicinavdelning 12, samtalsrummet"),
                        ("Kallade", "Lunds kommun, Vuxenpsykiatri Lund, avdelning 12"),
                        ("Samordningsansvarig", "Vårdcentralen Lund Norra"),
                    ],
                ),
                signature_section("Sam Testare, distriktssköterska", "Vårdcentralen Lund Norra", "031-390 06 95"),
            ]
        ],
        routing={
            "FaxdType": "kallelse-sip-slutenvard",
            "FaxdSender": "vc-lund-norra",
            "FaxdMunicipality": "kommun-lund",
            "FaxdWard": "sus-lund-avd-12",
            "FaxdParticipants": "psyk-lund-oppenvard",
            "FaxdEventDate": "2026-11-30",
            "FaxdReference": "VCLN-SIPK-0078",
        },
    ),
    Sample(
        name="07-kallelse-sip-oppenvard",
        title="Kallelse till SIP, öppenvård",
        subtitle="Ansvarig öppenvårdsenhet kallar till samordnad individuell plan.",
        pages=[
            [
                patient_section(),
                (
                    "Möte",
                    [
                        ("Datum och tid", "2026-12-08 kl. 13.30"),
                        ("Plats", "Vårdcentralen Malmö Centrum"),
                        ("Kallade", "Malmö stad, Vuxenpsykiatri Malmö"),
                    ],
                ),
                signature_section("Jo Påhittsson, sjuksköterska", "Vårdcentralen Malmö Centrum", "031-390 06 96"),
            ]
        ],
        # No FaxdType: the gateway recognises the type from the title.
        routing={
            "FaxdSender": "vc-malmo-centrum",
            "FaxdMunicipality": "kommun-malmo",
            "FaxdParticipants": "psyk-malmo-oppenvard",
            "FaxdEventDate": "2026-12-08",
            "FaxdReference": "VCMC-SIPK-0019",
        },
    ),
    Sample(
        name="08-sip",
        title="Samordnad individuell plan - SIP",
        subtitle="Gemensamt dokument, undertecknat av berörda parter. Övriga parter erhåller en kopia.",
        pages=[
            [
                patient_section(),
                (
                    "Planen",
                    [
                        ("Datum för SIP-möte", "2026-11-30"),
                        ("Samordningsansvarig", "Vårdcentralen Lund Norra"),
                        ("Deltagare", "Lunds kommun, Vuxenpsykiatri Lund, SUS Lund avd 12"),
                        ("Patientens mål", "Kunna bo kvar hemma med stöd"),
                    ],
                ),
            ],
            [
                (
                    "Bilaga: Delmål och aktiviteter",
                    [
                        ("Delmål 1", "Trygg hemgång; ansvarig: Lunds kommun"),
                        ("Aktivitet", "Hemtjänst utökas till 4 besök/dag"),
                        ("Delmål 2", "Stabil läkemedelsbehandling; ansvarig: Vårdcentralen Lund Norra"),
                        ("Aktivitet", "Läkemedelsgenomgång vecka 49"),
                    ],
                ),
            ],
            [
                (
                    "Underskrifter",
                    [
                        ("Lunds kommun", ""),
                        ("Vårdcentralen Lund Norra", ""),
                        ("Vuxenpsykiatri Lund", ""),
                        ("Patient", ""),
                    ],
                )
            ],
        ],
        routing={
            "FaxdType": "sip",
            "FaxdSender": "vc-lund-norra",
            "FaxdMunicipality": "kommun-lund",
            "FaxdWard": "sus-lund-avd-12",
            "FaxdParticipants": ["psyk-lund-oppenvard"],
            "FaxdEventDate": "2026-11-30",
            "FaxdReference": "VCLN-SIP-0079",
        },
        sidecar=True,
    ),
    Sample(
        name="09-andrad-utskrivning",
        title="Underrätta om förändrad beräknad tid för utskrivning och Utskrivningsklar",
        subtitle="Faxas till berörd kommun och öppenvård.",
        pages=[
            [
                patient_section(),
                (
                    "Meddelande",
                    [
                        ("Tidigare beräknad tid för utskrivning", "2026-12-01"),
                        ("Ny beräknad tid för utskrivning", "2026-12-03"),
                        ("Utskrivningsklar", "Nej, inte ännu"),
                    ],
                ),
                signature_section("Alex Fiktivsson, sjuksköterska", "SUS Lund, Medicinavdelning 12", "08-465 004 95"),
            ]
        ],
        routing={
            "FaxdType": "andrad-utskrivning",
            "FaxdSender": "sus-lund-avd-12",
            "FaxdMunicipality": "kommun-lund",
            "FaxdOutpatient": "vc-lund-norra",
            "FaxdEventDate": "2026-12-03",
            "FaxdReference": "LU12-UTSK-0460",
        },
    ),
]


def draw_page(canvas: Canvas, sample: Sample, sections: list[Section], page: int, total: int) -> None:
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    y = height - 18 * mm
    canvas.setFont("Helvetica", 8)
    canvas.drawString(left, y, HEADER)
    canvas.drawRightString(right, y, f"Sida {page} av {total}")
    y -= 14 * mm
    if page == 1:
        canvas.setFont("Helvetica-Bold", 17 if len(sample.title) < 45 else 12)
        canvas.drawString(left, y, sample.title)
        y -= 7 * mm
        canvas.setFont("Helvetica-Oblique", 9)
        canvas.drawString(left, y, sample.subtitle)
        y -= 10 * mm
    else:
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(left, y, f"{sample.title} (forts.)")
        y -= 10 * mm
    for heading, rows in sections:
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(left, y, heading)
        y -= 3 * mm
        for label, value in rows:
            box = 11 * mm
            canvas.rect(left, y - box, right - left, box, stroke=1, fill=0)
            canvas.setFont("Helvetica", 7)
            canvas.drawString(left + 2 * mm, y - 3.5 * mm, label)
            canvas.setFont("Helvetica", 10)
            canvas.drawString(left + 2 * mm, y - 8.5 * mm, value)
            y -= box
        y -= 8 * mm
    if page == 1 and sample.checkboxes:
        canvas.setFont("Helvetica", 10)
        for label, checked in sample.checkboxes:
            canvas.rect(left, y - 1 * mm, 4 * mm, 4 * mm, stroke=1, fill=0)
            if checked:
                canvas.line(left, y - 1 * mm, left + 4 * mm, y + 3 * mm)
                canvas.line(left, y + 3 * mm, left + 4 * mm, y - 1 * mm)
            canvas.drawString(left + 7 * mm, y, label)
            y -= 8 * mm
    canvas.setFont("Helvetica-Oblique", 7)
    canvas.drawString(left, 12 * mm, FOOTER)


def render(sample: Sample) -> bytes:
    """The PDF of one sample, routing fields in the document information unless sidecar."""
    buffer = io.BytesIO()
    # invariant=1: no creation date or random document id, so the output is reproducible.
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(sample.title)
    canvas.setAuthor("faxd examples (fictitious)")
    canvas.setSubject("Reservrutin Mina planer")
    total = len(sample.pages)
    for number, sections in enumerate(sample.pages, start=1):
        draw_page(canvas, sample, sections, number, total)
        canvas.showPage()
    canvas.save()
    if sample.sidecar:
        return buffer.getvalue()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.add_metadata({f"/{key}": _info_value(value) for key, value in sample.routing.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _info_value(value: object) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    target.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        pdf = target / f"{sample.name}.pdf"
        pdf.write_bytes(render(sample))
        sidecar = target / f"{sample.name}.pdf.json"
        if sample.sidecar:
            sidecar.write_text(json.dumps(sample.routing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{pdf.name}: {len(sample.pages)} pages, {pdf.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
