"""Reading the Faxd* routing fields of a document."""

from __future__ import annotations

from datetime import date

import pytest

from routing.errors import MetadataError, RoutingError
from routing.metadata import DocumentMeta


def test_all_fields_are_read_into_canonical_form() -> None:
    """Codes, lower-case ids, tuples and a date."""
    meta = DocumentMeta.from_fields(
        {
            "FaxdType": "Inskrivningsinformation",
            "FaxdSender": " SUS-Lund-Avd-12 ",
            "FaxdMunicipality": "kommun-lund",
            "FaxdOutpatient": "vc-lund-norra",
            "FaxdWard": "sus-lund-avd-12",
            "FaxdParticipants": "psyk-lund-oppenvard, asih-lund",
            "FaxdAlso": '["vc-lund-sodra"]',
            "FaxdEventDate": "2026-11-24",
            "FaxdReference": "LU12-INSK-0451",
            "Title": "ignored: not a routing field",
        }
    )
    assert meta == DocumentMeta(
        message_type="inskrivningsinformation",
        sender="sus-lund-avd-12",
        municipality="kommun-lund",
        outpatient="vc-lund-norra",
        ward="sus-lund-avd-12",
        participants=("psyk-lund-oppenvard", "asih-lund"),
        also=("vc-lund-sodra",),
        event_date=date(2026, 11, 24),
        reference="LU12-INSK-0451",
    )


def test_pdf_info_keys_with_a_slash_are_read_too() -> None:
    """pypdf gives document information keys as '/FaxdType'."""
    assert DocumentMeta.from_fields({"/FaxdType": "sip", "/FaxdSender": "vc-a"}).sender == "vc-a"


@pytest.mark.parametrize(
    "value",
    ["vc-a,vc-b", " vc-a , vc-b ,", '["vc-a", "vc-b"]', ["vc-a", "vc-b"], ("vc-a", "vc-b"), "vc-a,vc-b,vc-a"],
)
def test_lists_may_be_comma_separated_json_or_real_lists(value: object) -> None:
    """Sidecars give lists; PDF document information gives text. Repeats count once."""
    assert DocumentMeta.from_fields({"FaxdAlso": value}).also == ("vc-a", "vc-b")


@pytest.mark.parametrize("value", [None, "", "  "])
def test_empty_single_values_are_absent(value: object) -> None:
    """An empty field names nobody."""
    assert DocumentMeta.from_fields({"FaxdSender": value}).sender is None


@pytest.mark.parametrize("value", [None, "", "  ", [], ",", "[]"])
def test_empty_lists_are_absent(value: object) -> None:
    """An empty list names nobody."""
    assert DocumentMeta.from_fields({"FaxdAlso": value}).also == ()


def test_no_fields_at_all_is_an_empty_meta() -> None:
    """A PDF without routing fields reads as all-absent (the type may come from the title)."""
    assert DocumentMeta.from_fields({}) == DocumentMeta()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"FaxdEventDate": "2026-13-01"}, "FaxdEventDate is not a day in the calendar (YYYY-MM-DD)"),
        ({"FaxdEventDate": "24/11/2026"}, "FaxdEventDate is not an ISO date (YYYY-MM-DD)"),
        ({"FaxdEventDate": "20261124"}, "FaxdEventDate is not an ISO date (YYYY-MM-DD)"),
        ({"FaxdType": "remiss"}, "FaxdType is not a known message type; known: checklista-beslutsstod,"),
        ({"FaxdType": "akutbald"}, "FaxdType is not a known message type (did you mean 'akutblad'?); known:"),
        ({"FaxdPart": "status"}, "FaxdPart is not a part of the kartläggning; known: aktuellt-tillstand"),
        ({"FaxdAslo": "vc-a"}, "a Faxd* field is not a routing field (did you mean 'FaxdAlso'?); known: FaxdType,"),
        ({"FaxdAnnaSvensson": "vc-a"}, "a Faxd* field is not a routing field; known: FaxdType,"),
        (
            {"FaxdSender": "Vårdcentralen Lund"},
            "FaxdSender is not a unit id (letters a-z, digits and hyphens, as in the fax directory): it holds blanks",
        ),
        (
            {"FaxdAlso": "vc-a;vc-b"},
            "FaxdAlso is not a unit id (letters a-z, digits and hyphens, as in the fax directory): it holds characters other",
        ),
        ({"FaxdAlso": "[vc-a]"}, "FaxdAlso starts with '[' but is not a JSON list of unit ids"),
        ({"FaxdAlso": '{"a": 1}'}, "FaxdAlso is not a unit id"),
        ({"FaxdParticipants": [1, 2]}, "FaxdParticipants must hold unit ids as text, not int"),
        ({"FaxdSender": ["vc-a"]}, "FaxdSender must be text, not list"),
        ({"FaxdReference": "19121212-1212"}, "FaxdReference looks like a personal identity number"),
        ({"FaxdReference": "Tolvan 121212-1212"}, "FaxdReference looks like a personal identity number"),
        ({"FaxdReference": "x" * 65}, "FaxdReference is longer than 64 characters"),
    ],
)
def test_unreadable_fields_raise_a_metadata_error_naming_the_key(fields: dict[str, object], message: str) -> None:
    """The message names the field and says what is wrong, for the person who made the document."""
    with pytest.raises(MetadataError) as caught:
        DocumentMeta.from_fields(fields)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, RoutingError)


def test_a_date_object_from_a_sidecar_reader_is_accepted() -> None:
    """A caller that already parsed the date may pass it."""
    assert DocumentMeta.from_fields({"FaxdEventDate": date(2026, 1, 2)}).event_date == date(2026, 1, 2)


def test_a_reference_with_dates_but_no_identity_number_is_fine() -> None:
    """Ordinary references pass the identity-number check."""
    assert DocumentMeta.from_fields({"FaxdReference": "LU12-2026-11-24-0451"}).reference == "LU12-2026-11-24-0451"


@pytest.mark.parametrize("value", ["Tolvan 19121212-1212", "19121212-1212", "121212-1212"])
@pytest.mark.parametrize("key", ["FaxdSender", "FaxdAlso", "FaxdType", "FaxdEventDate"])
def test_an_identity_number_in_the_wrong_field_is_not_repeated_in_the_error(key: str, value: str) -> None:
    """Errors go to the journal; a personal identity number must not."""
    with pytest.raises(MetadataError) as caught:
        DocumentMeta.from_fields({key: value})
    assert "1212" not in str(caught.value)
    assert "Tolvan" not in str(caught.value)
    assert str(caught.value).startswith(key)
