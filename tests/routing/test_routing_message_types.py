"""The nine message types and recognising them from the title on page one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.message_types import (
    KartlaggningPart,
    MessageType,
    detect_part,
    detect_type,
)

CODES = [
    ("checklista-beslutsstod", 1, "Checklista beslutsstöd"),
    ("akutblad", 2, "Akutblad för manuell hantering"),
    ("inskrivningsinformation", 3, "Inskrivningsinformation"),
    ("kartlaggning", 4, "Kartläggning"),
    ("stallningstagande", 5, "Ställningstagande inför utskrivning"),
    ("kallelse-sip-slutenvard", 6, "Kallelse till SIP, patient inskriven i slutenvård"),
    ("kallelse-sip-oppenvard", 7, "Kallelse till SIP, öppenvård"),
    ("sip", 8, "Samordnad individuell plan - SIP"),
    ("andrad-utskrivning", 9, "Underrätta om förändrad beräknad tid för utskrivning och Utskrivningsklar"),
]


@pytest.mark.parametrize(("code", "number", "name"), CODES)
def test_each_type_has_its_stable_code_row_and_swedish_name(code: str, number: int, name: str) -> None:
    """Codes, row numbers and Swedish names are those of the routine's table."""
    message_type = MessageType(code)
    assert (message_type.code, message_type.number, message_type.swedish_name) == (code, number, name)


def test_there_are_exactly_nine_types() -> None:
    """The routine has nine rows."""
    assert [t.number for t in MessageType] == list(range(1, 10))


@pytest.mark.parametrize("text", ["akutblad", "AKUTBLAD", " Akutblad för manuell hantering "])
def test_from_code_accepts_code_or_swedish_name_in_any_case(text: str) -> None:
    """FaxdType may be the code or the Swedish name."""
    assert MessageType.from_code(text) is MessageType.AKUTBLAD


def test_from_code_answers_none_for_an_unknown_type() -> None:
    """An unknown code is None, not a guess."""
    assert MessageType.from_code("remiss") is None


@pytest.mark.parametrize(("code", "number", "name"), CODES)
def test_each_swedish_name_as_a_title_is_recognised(code: str, number: int, name: str) -> None:
    """A form whose page one starts with the type's name is that type."""
    text = f"Region Skåne\n{name}\nPatient\nNamn: Tolvan Tolvansson\n"
    assert detect_type(text) is MessageType(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KARTLAGGNING - AKTUELLT TILLSTAND", MessageType.KARTLAGGNING),  # OCR without diacritics
        ("Stallningstagande infor utskrivning", MessageType.STALLNINGSTAGANDE),
        ("Inskrivnings-\ninformation", MessageType.INSKRIVNINGSINFORMATION),  # hyphenated at a line break
        ("Kallelse till SIP,\npatient inskriven i\nslutenvård", MessageType.KALLELSE_SIP_SLUTENVARD),
        ("Inskrivningsmeddelande", MessageType.INSKRIVNINGSINFORMATION),  # the routine's other word for it
        ("Meddelande om förändrad beräknad tid för utskrivning", MessageType.ANDRAD_UTSKRIVNING),
        ("Utskrivningsklar", MessageType.ANDRAD_UTSKRIVNING),
        ("Samordnad individuell plan (SIP)\nBilaga: Delmål och aktiviteter", MessageType.SIP),
        ("Checklista – beslutsstöd", MessageType.CHECKLISTA_BESLUTSSTOD),
    ],
)
def test_titles_are_recognised_whatever_the_extraction_did_to_them(text: str, expected: MessageType) -> None:
    """Case, diacritics, line breaks and hyphenation do not matter."""
    assert detect_type(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The qualifier nearest the title decides between 6 and 7.
        (
            "Kallelse till SIP, patient inskriven i slutenvård\nAnsvarig öppenvård: VC",
            MessageType.KALLELSE_SIP_SLUTENVARD,
        ),
        ("Kallelse till SIP, öppenvård\nPatienten är inte inskriven i slutenvård", MessageType.KALLELSE_SIP_OPPENVARD),
        # An invitation to a SIP is not the SIP itself.
        ("Kallelse till samordnad individuell plan, öppenvård", MessageType.KALLELSE_SIP_OPPENVARD),
        (
            "Kallelse till SIP – samordnad individuell plan\nPatient inskriven i slutenvård",
            MessageType.KALLELSE_SIP_SLUTENVARD,
        ),
        ("KALLELSE TILL SIP (samordnad individuell plan), öppenvård", MessageType.KALLELSE_SIP_OPPENVARD),
        # A later mention of another form does not count; the title comes first.
        (
            "Ställningstagande inför utskrivning\nSe även kartläggning och inskrivningsinformation",
            MessageType.STALLNINGSTAGANDE,
        ),
        ("Kartläggning – Bakgrund\nPatienten bedöms utskrivningsklar", MessageType.KARTLAGGNING),
    ],
)
def test_the_title_wins_over_later_mentions(text: str, expected: MessageType) -> None:
    """Of several names in the text, the first (the title) decides."""
    assert detect_type(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Remiss till hudkliniken",
        "Kallelse till SIP",
        "Kallelse till SIP - samordnad individuell plan",  # which kind of invitation is not said
        "Sjukskrivning",
        "Planering inför hemgång",
    ],
)
def test_no_type_is_guessed_from_unrelated_or_ambiguous_text(text: str) -> None:
    """Text that names no type, or only "Kallelse till SIP" without saying which, gives None."""
    assert detect_type(text) is None


@given(st.text())
def test_detect_type_never_raises(text: str) -> None:
    """Any text gives a type or None."""
    assert detect_type(text) is None or isinstance(detect_type(text), MessageType)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kartläggning – Aktuellt tillstånd\nBakgrund fylls i av kommunen", KartlaggningPart.AKTUELLT_TILLSTAND),
        ("Kartläggning – Bakgrund\nAktuellt tillstånd fylls i av slutenvården", KartlaggningPart.BAKGRUND),
        ("KARTLAGGNING BAKGRUND", KartlaggningPart.BAKGRUND),
        ("Kartläggning", None),
        ("Bakgrund", None),  # not a kartläggning at all
    ],
)
def test_the_kartlaggning_part_is_the_one_named_after_the_title(text: str, expected: KartlaggningPart | None) -> None:
    """The part named first after "Kartläggning" is the form's part."""
    assert detect_part(text) is expected


@pytest.mark.parametrize("text", ["aktuellt-tillstand", "Aktuellt tillstånd", "AKTUELLT TILLSTAND"])
def test_part_codes_accept_the_swedish_name(text: str) -> None:
    """FaxdPart may be the code or the Swedish name."""
    assert KartlaggningPart.from_code(text) is KartlaggningPart.AKTUELLT_TILLSTAND
