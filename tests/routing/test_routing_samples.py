"""The sample forms in examples/forms: they route as the routine says over the example directory."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from pypdf import PdfReader

from routing.errors import RouteRefused
from routing.message_types import KartlaggningPart, MessageType, detect_type
from routing.metadata import FIELD_KEYS, DocumentMeta
from routing.rules import route
from tests.routing.routing_testdata import FORMS, example_directory

EXPECTED = {
    "01-checklista-beslutsstod": None,  # refused: never faxed
    "02-akutblad": ["sus-malmo-akuten"],
    "03-inskrivningsinformation": ["kommun-lund", "vc-lund-norra", "psyk-lund-oppenvard"],
    "04-kartlaggning-aktuellt-tillstand": ["kommun-lund", "vc-lund-norra"],
    "04-kartlaggning-bakgrund": ["vc-lund-norra", "sus-lund-avd-12"],
    "05-stallningstagande": ["kommun-lund", "sus-lund-avd-12"],
    "06-kallelse-sip-slutenvard": ["kommun-lund", "sus-lund-avd-12", "psyk-lund-oppenvard"],
    "07-kallelse-sip-oppenvard": ["kommun-malmo", "psyk-malmo-oppenvard"],
    "08-sip": ["kommun-lund", "sus-lund-avd-12", "psyk-lund-oppenvard"],
    "09-andrad-utskrivning": ["kommun-lund", "vc-lund-norra"],
}
PDFS = sorted(FORMS.glob("*.pdf"))


def fields_of(pdf: Path) -> dict[str, object]:
    """The routing fields as the spool reads them: document information, then the sidecar over it."""
    info = PdfReader(pdf).metadata
    fields: dict[str, object] = {}
    if info is not None:
        fields.update({k: str(info["/" + k]) for k in FIELD_KEYS if "/" + k in info})
    sidecar = pdf.with_name(pdf.name + ".json")
    if sidecar.exists():
        fields.update(json.loads(sidecar.read_text(encoding="utf-8")))
    return fields


def page_one(pdf: Path) -> str:
    return PdfReader(pdf).pages[0].extract_text() or ""


def test_there_is_a_sample_of_every_type_and_both_kartlaggning_parts() -> None:
    """Nine types, ten forms."""
    assert [p.stem for p in PDFS] == list(EXPECTED)
    assert {detect_type(page_one(p)) for p in PDFS} == set(MessageType)


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.stem)
def test_each_sample_routes_as_the_routine_says(pdf: Path) -> None:
    """The sample's fields route to the expected units of examples/directory.csv."""
    document = DocumentMeta.from_fields(fields_of(pdf))
    expected = EXPECTED[pdf.stem]
    if expected is None:
        with pytest.raises(RouteRefused, match="never faxed"):
            route(document, example_directory(), page_one_text=page_one(pdf))
        return
    chosen = route(document, example_directory(), page_one_text=page_one(pdf))
    assert [r.unit.id for r in chosen.recipients] == expected


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.stem)
def test_each_sample_title_names_its_type(pdf: Path) -> None:
    """The fallback detection reads the declared type from page one of every sample."""
    fields = fields_of(pdf)
    detected = detect_type(page_one(pdf))
    assert detected is not None
    if "FaxdType" in fields:
        assert detected.code == fields["FaxdType"]


def test_one_sample_has_no_type_and_one_uses_a_sidecar() -> None:
    """Both ways a document may carry (or lack) its routing fields are shown."""
    without_type = [p.stem for p in PDFS if "FaxdType" not in fields_of(p)]
    with_sidecar = [p.stem for p in PDFS if p.with_name(p.name + ".json").exists()]
    assert without_type == ["07-kallelse-sip-oppenvard"]
    assert with_sidecar == ["08-sip"]
    assert not any(k.startswith("/Faxd") for k in (PdfReader(FORMS / "08-sip.pdf").metadata or {}))


def test_the_kartlaggning_samples_carry_their_parts() -> None:
    """Each part is sent by the kind of unit that fills it in."""
    parts = {
        p.stem: route(DocumentMeta.from_fields(fields_of(p)), example_directory(), page_one_text=page_one(p)).part
        for p in PDFS
        if p.stem.startswith("04-")
    }
    assert parts == {
        "04-kartlaggning-aktuellt-tillstand": KartlaggningPart.AKTUELLT_TILLSTAND,
        "04-kartlaggning-bakgrund": KartlaggningPart.BAKGRUND,
    }


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.stem)
def test_samples_are_small_and_short(pdf: Path) -> None:
    """1-3 pages, text and vector only."""
    assert 1 <= len(PdfReader(pdf).pages) <= 3
    assert pdf.stat().st_size < 20_000


def test_the_samples_use_only_the_test_person_as_patient() -> None:
    """The form content is patient data; here it is always Tolvan Tolvansson 19121212-1212."""
    for pdf in PDFS:
        text = page_one(pdf)
        assert "Tolvan Tolvansson" in text and "19121212-1212" in text


def test_the_committed_samples_are_what_the_generator_makes(tmp_path: Path) -> None:
    """Regenerating gives the same bytes, so the PDFs in git match make_samples.py."""
    module = runpy.run_path(str(FORMS / "make_samples.py"))
    assert module["main"](["make_samples.py", str(tmp_path)]) == 0
    for pdf in PDFS:
        assert (tmp_path / pdf.name).read_bytes() == pdf.read_bytes(), pdf.name
    for sidecar in FORMS.glob("*.pdf.json"):
        assert (tmp_path / sidecar.name).read_text(encoding="utf-8") == sidecar.read_text(encoding="utf-8")
