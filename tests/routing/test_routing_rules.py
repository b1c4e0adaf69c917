"""route(): one test per row of the routine's table, one per refusal rule, and properties.

The directory is routing_testdata.SMALL_CSV: municipalities kommun-a and kommun-b,
outpatient units vc-a, vc-b and psyk-a, wards avd-a and avd-b, and stangd-avd, a ward
closed in 2021.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.directory import Directory
from routing.errors import RouteRefused, RoutingError
from routing.message_types import KartlaggningPart, MessageType
from routing.metadata import DocumentMeta
from routing.routine import DEFAULT_PRIORITIES, Role
from routing.rules import Route, route
from tests.routing.routing_testdata import example_directory, small_directory

DIRECTORY = small_directory()
M, OP, W, P, A = Role.MUNICIPALITY, Role.OUTPATIENT, Role.WARD, Role.PARTICIPANT, Role.ALSO


def meta(message_type: str | None, sender: str | None, **fields: object) -> DocumentMeta:
    """DocumentMeta through from_fields, as the daemon builds it: meta('sip', 'vc-a', Municipality='kommun-a')."""
    values: dict[str, object] = {f"Faxd{key}": value for key, value in fields.items()}
    if message_type is not None:
        values["FaxdType"] = message_type
    if sender is not None:
        values["FaxdSender"] = sender
    return DocumentMeta.from_fields(values)


def recipients(chosen: Route) -> list[tuple[str, tuple[Role, ...]]]:
    return [(r.unit.id, r.roles) for r in chosen.recipients]


def refused(document: DocumentMeta, page_one_text: str | None = None) -> str:
    with pytest.raises(RouteRefused) as caught:
        route(document, DIRECTORY, page_one_text=page_one_text)
    assert isinstance(caught.value, RoutingError)
    return caught.value.reason


# -- one case per row of the routine (and per sender kind the row allows) ------------------

ROWS = [
    # Row 2: from the municipality and/or outpatient care, to the ward receiving the patient.
    pytest.param(meta("akutblad", "kommun-a", Ward="avd-a"), [("avd-a", (W,))], id="2 akutblad from municipality"),
    pytest.param(meta("akutblad", "vc-a", Ward="avd-a", Also="avd-b"), [("avd-a", (W,)), ("avd-b", (A,))],
                 id="2 akutblad from outpatient, plus an added unit"),
    # Row 3: inpatient care to the municipality and outpatient care, possibly others.
    pytest.param(meta("inskrivningsinformation", "avd-a", Municipality="kommun-a", Outpatient="vc-a"),
                 [("kommun-a", (M,)), ("vc-a", (OP,))], id="3 inskrivningsinformation"),
    pytest.param(meta("inskrivningsinformation", "avd-a", Municipality="kommun-a", Outpatient="vc-a", Ward="avd-b",
                      Participants="psyk-a", Also="vc-b"),
                 [("kommun-a", (M,)), ("vc-a", (OP,)), ("avd-b", (W,)), ("psyk-a", (P,)), ("vc-b", (A,))],
                 id="3 inskrivningsinformation, with other concerned units"),
    # Row 4: each participating unit to the other concerned units; the part follows the sender.
    pytest.param(meta("kartlaggning", "avd-a", Municipality="kommun-a", Outpatient="vc-a", Ward="avd-a"),
                 [("kommun-a", (M,)), ("vc-a", (OP,))], id="4 kartlaggning aktuellt tillstand from the ward"),
    pytest.param(meta("kartlaggning", "kommun-a", Municipality="kommun-a", Outpatient="vc-a", Ward="avd-a"),
                 [("vc-a", (OP,)), ("avd-a", (W,))], id="4 kartlaggning bakgrund from the municipality"),
    pytest.param(meta("kartlaggning", "vc-a", Part="bakgrund", Municipality="kommun-a", Ward="avd-a",
                      Participants="psyk-a"),
                 [("kommun-a", (M,)), ("avd-a", (W,)), ("psyk-a", (P,))],
                 id="4 kartlaggning bakgrund from outpatient care, to a participant too"),
    # Row 5: as row 4, from any participating unit.
    pytest.param(meta("stallningstagande", "avd-a", Municipality="kommun-a", Outpatient="vc-a"),
                 [("kommun-a", (M,)), ("vc-a", (OP,))], id="5 stallningstagande from the ward"),
    pytest.param(meta("stallningstagande", "kommun-a", Outpatient="vc-a", Ward="avd-a"),
                 [("vc-a", (OP,)), ("avd-a", (W,))], id="5 stallningstagande from the municipality"),
    pytest.param(meta("stallningstagande", "vc-a", Municipality="kommun-a", Outpatient="vc-a", Ward="avd-a"),
                 [("kommun-a", (M,)), ("avd-a", (W,))], id="5 stallningstagande from outpatient care"),
    # Row 6: the responsible outpatient unit to the municipality, possibly the ward and others.
    pytest.param(meta("kallelse-sip-slutenvard", "vc-a", Municipality="kommun-a"), [("kommun-a", (M,))],
                 id="6 kallelse SIP slutenvard, municipality only"),
    pytest.param(meta("kallelse-sip-slutenvard", "psyk-a", Municipality="kommun-a", Ward="avd-a", Outpatient="vc-a",
                      Participants="vc-b"),
                 [("kommun-a", (M,)), ("vc-a", (OP,)), ("avd-a", (W,)), ("vc-b", (P,))],
                 id="6 kallelse SIP slutenvard, with ward, the patient's vc and a participant"),
    # Row 7: the responsible outpatient unit to the municipality and other concerned units.
    pytest.param(meta("kallelse-sip-oppenvard", "vc-a", Municipality="kommun-a", Participants="psyk-a"),
                 [("kommun-a", (M,)), ("psyk-a", (P,))], id="7 kallelse SIP oppenvard"),
    # Row 8: the coordinating party sends a copy to every other party.
    pytest.param(meta("sip", "vc-a", Municipality="kommun-a", Ward="avd-a", Participants="psyk-a"),
                 [("kommun-a", (M,)), ("avd-a", (W,)), ("psyk-a", (P,))], id="8 SIP coordinated by outpatient care"),
    pytest.param(meta("sip", "kommun-a", Outpatient="vc-a"), [("vc-a", (OP,))], id="8 SIP coordinated by the municipality"),
    # Row 9: inpatient ward to the municipality and outpatient care, possibly others.
    pytest.param(meta("andrad-utskrivning", "avd-a", Municipality="kommun-a", Outpatient="vc-a", Also="psyk-a"),
                 [("kommun-a", (M,)), ("vc-a", (OP,)), ("psyk-a", (A,))], id="9 andrad utskrivning"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "expected"), ROWS)
def test_each_row_of_the_routine_routes_to_its_recipients(
    document: DocumentMeta, expected: list[tuple[str, tuple[Role, ...]]]
) -> None:
    """The recipients and their roles are exactly those the routine names for the row."""
    chosen = route(document, DIRECTORY)
    assert recipients(chosen) == expected
    assert chosen.sender.id == document.sender
    assert chosen.directory_version == DIRECTORY.version


def test_each_recipient_carries_the_rule_line_that_chose_it() -> None:
    """The rule names the row, the type and the field; the journal shows it."""
    chosen = route(meta("inskrivningsinformation", "avd-a", Municipality="kommun-a", Outpatient="vc-a",
                        Participants="psyk-a"), DIRECTORY)  # fmt: skip
    assert [r.rule for r in chosen.recipients] == [
        "row 3 inskrivningsinformation: the patient's municipality (FaxdMunicipality), named by the routine",
        "row 3 inskrivningsinformation: the patient's outpatient unit (FaxdOutpatient), named by the routine",
        "row 3 inskrivningsinformation: another participating unit (FaxdParticipants), another concerned unit",
    ]


@pytest.mark.parametrize(
    ("sender", "part"),
    [("avd-a", KartlaggningPart.AKTUELLT_TILLSTAND), ("kommun-a", KartlaggningPart.BAKGRUND),
     ("vc-a", KartlaggningPart.BAKGRUND)],
)  # fmt: skip
def test_the_kartlaggning_part_follows_from_the_sender_when_not_given(sender: str, part: KartlaggningPart) -> None:
    """Inpatient care fills in Aktuellt tillstånd, municipality and outpatient care Bakgrund."""
    document = meta("kartlaggning", sender, Municipality="kommun-a", Outpatient="vc-a", Ward="avd-a")
    assert route(document, DIRECTORY).part is part


def test_a_unit_named_in_two_roles_gets_one_transmission_listing_both() -> None:
    """vc-a as the patient's outpatient unit and as an added unit: one fax, two roles."""
    document = meta("inskrivningsinformation", "avd-a", Municipality="kommun-a", Outpatient="vc-a",
                    Participants="vc-a", Also="vc-a,kommun-a")  # fmt: skip
    assert recipients(route(document, DIRECTORY)) == [("kommun-a", (M, A)), ("vc-a", (OP, P, A))]


@pytest.mark.parametrize(
    "document",
    [
        meta("inskrivningsinformation", "avd-a", Municipality="kommun-a", Outpatient="vc-a", Ward="avd-a",
             Also="avd-a"),
        meta("sip", "vc-a", Municipality="kommun-a", Outpatient="vc-a", Participants="vc-a"),
        meta("kallelse-sip-oppenvard", "vc-a", Municipality="kommun-a", Outpatient="vc-a"),
    ],
)  # fmt: skip
def test_the_sender_never_receives_its_own_message(document: DocumentMeta) -> None:
    """Named in any role, the sender is left out."""
    assert document.sender not in [r.unit.id for r in route(document, DIRECTORY).recipients]


@pytest.mark.parametrize(
    ("document", "expected", "ignored"),
    [
        (meta("akutblad", "kommun-a", Ward="avd-a", Outpatient="vc-a", Participants="psyk-a"), ["avd-a"],
         ["FaxdOutpatient vc-a: not a recipient of akutblad", "FaxdParticipants psyk-a: not a recipient of akutblad"]),
        (meta("kallelse-sip-oppenvard", "vc-a", Municipality="kommun-a", Ward="avd-a"), ["kommun-a"],
         ["FaxdWard avd-a: not a recipient of kallelse-sip-oppenvard"]),
    ],
)  # fmt: skip
def test_units_in_a_role_the_row_does_not_use_are_not_sent_to_and_noted(
    document: DocumentMeta, expected: list[str], ignored: list[str]
) -> None:
    """The routine names no such recipient: no fax, but the route's notes say so."""
    chosen = route(document, DIRECTORY)
    assert [r.unit.id for r in chosen.recipients] == expected
    assert [any(note.startswith(text) for note in chosen.notes) for text in ignored] == [True] * len(ignored)


def test_a_type_found_only_in_the_title_is_routed() -> None:
    """Without FaxdType, the Swedish name in the title on page one gives the type."""
    chosen = route(meta(None, "vc-a", Municipality="kommun-a"), DIRECTORY,
                   page_one_text="Region Skåne\nKallelse till SIP, öppenvård\nPatient: ...")  # fmt: skip
    assert chosen.message_type is MessageType.KALLELSE_SIP_OPPENVARD


def test_a_matching_title_confirms_the_declared_type() -> None:
    """FaxdType and a title that agree route as usual."""
    chosen = route(meta("akutblad", "kommun-a", Ward="avd-a"), DIRECTORY,
                   page_one_text="AKUTBLAD FÖR MANUELL HANTERING")  # fmt: skip
    assert chosen.message_type is MessageType.AKUTBLAD


# -- priorities ----------------------------------------------------------------------------


def test_akutblad_goes_before_every_routine_message() -> None:
    """Lower is sent first; the akutblad is the lowest of all faxed types."""
    akut = route(meta("akutblad", "kommun-a", Ward="avd-a"), DIRECTORY).priority
    others = [p for t, p in DEFAULT_PRIORITIES.items() if t is not MessageType.AKUTBLAD]
    assert akut < min(others)


def test_priorities_can_be_overridden_per_type() -> None:
    """A site may change the table; unlisted types keep the default."""
    document = meta("sip", "kommun-a", Outpatient="vc-a")
    assert route(document, DIRECTORY, priorities={MessageType.SIP: 5}).priority == 5
    assert (
        route(document, DIRECTORY, priorities={MessageType.AKUTBLAD: 1}).priority == DEFAULT_PRIORITIES[MessageType.SIP]
    )


# -- refusals ------------------------------------------------------------------------------


def test_the_checklist_is_never_faxed() -> None:
    """Row 1: refused with the routine's reason, whoever sends it and to whom."""
    reason = refused(meta("checklista-beslutsstod", "kommun-a", Municipality="kommun-b", Also="vc-a"))
    assert (
        reason == "Checklista beslutsstöd is never faxed: it is used by the municipality only (backup routine, row 1)"
    )


def test_the_checklist_recognised_by_its_title_is_refused_too() -> None:
    """A checklist without FaxdType is still never faxed."""
    assert "never faxed" in refused(meta(None, "kommun-a"), page_one_text="Checklista beslutsstöd")


WRONG_SENDER = [
    ("akutblad", "avd-a", "sender 'avd-a' is an inpatient ward; akutblad is sent by the municipality and/or outpatient care"),
    ("inskrivningsinformation", "kommun-a", "sender 'kommun-a' is a municipality; inskrivningsinformation is sent by inpatient care"),
    ("inskrivningsinformation", "vc-a", "sender 'vc-a' is an outpatient unit; inskrivningsinformation is sent by inpatient care"),
    ("kallelse-sip-slutenvard", "kommun-a",
     "sender 'kommun-a' is a municipality; kallelse-sip-slutenvard is sent by the responsible outpatient unit"),
    ("kallelse-sip-slutenvard", "avd-a", "sender 'avd-a' is an inpatient ward; kallelse-sip-slutenvard is sent by the responsible"),
    ("kallelse-sip-oppenvard", "kommun-a", "sender 'kommun-a' is a municipality; kallelse-sip-oppenvard is sent by the responsible"),
    ("sip", "avd-a", "sender 'avd-a' is an inpatient ward; sip is sent by the coordinating party"),
    ("andrad-utskrivning", "vc-a", "sender 'vc-a' is an outpatient unit; andrad-utskrivning is sent by the inpatient ward"),
    ("andrad-utskrivning", "kommun-a", "sender 'kommun-a' is a municipality; andrad-utskrivning is sent by the inpatient ward"),
]  # fmt: skip


@pytest.mark.parametrize(("message_type", "sender", "reason"), WRONG_SENDER)
def test_a_sender_of_the_wrong_kind_is_refused(message_type: str, sender: str, reason: str) -> None:
    """The routine says who sends each type; anyone else is refused with that rule."""
    document = meta(message_type, sender, Municipality="kommun-a", Outpatient="vc-b", Ward="avd-b")
    assert refused(document).startswith(reason)


@pytest.mark.parametrize(
    ("sender", "part", "reason"),
    [
        ("kommun-a", "aktuellt-tillstand", "sender 'kommun-a' is a municipality; the kartläggning part Aktuellt "
                                           "tillstånd is filled in and sent by inpatient"),
        ("vc-a", "aktuellt-tillstand", "sender 'vc-a' is an outpatient unit; the kartläggning part Aktuellt tillstånd"),
        ("avd-a", "bakgrund", "sender 'avd-a' is an inpatient ward; the kartläggning part Bakgrund is filled in and "
                              "sent by municipality or outpatient"),
    ],
)  # fmt: skip
def test_a_kartlaggning_part_from_the_wrong_kind_of_sender_is_refused(sender: str, part: str, reason: str) -> None:
    """Aktuellt tillstånd comes from inpatient care, Bakgrund from the municipality or outpatient care."""
    document = meta("kartlaggning", sender, Part=part, Municipality="kommun-a", Outpatient="vc-a", Ward="avd-a")
    assert refused(document).startswith(reason)


MISSING = [
    (meta("akutblad", "kommun-a"), "FaxdWard"),
    (meta("inskrivningsinformation", "avd-a", Outpatient="vc-a"), "FaxdMunicipality"),
    (meta("inskrivningsinformation", "avd-a", Municipality="kommun-a"), "FaxdOutpatient"),
    (meta("kartlaggning", "avd-a", Outpatient="vc-a"), "FaxdMunicipality"),
    (meta("kartlaggning", "kommun-a", Outpatient="vc-a"), "FaxdWard"),
    (meta("stallningstagande", "vc-a", Municipality="kommun-a"), "FaxdWard"),
    (meta("kallelse-sip-slutenvard", "vc-a", Ward="avd-a"), "FaxdMunicipality"),
    (meta("kallelse-sip-oppenvard", "vc-a", Participants="psyk-a"), "FaxdMunicipality"),
    (meta("sip", "vc-a", Participants="psyk-a"), "FaxdMunicipality"),
    (meta("sip", "kommun-a", Participants="psyk-a"), "FaxdOutpatient"),
    (meta("andrad-utskrivning", "avd-a", Municipality="kommun-a"), "FaxdOutpatient"),
]


@pytest.mark.parametrize(("document", "key"), MISSING, ids=[f"{d.message_type}-{k}" for d, k in MISSING])
def test_a_missing_required_recipient_is_refused_naming_the_field(document: DocumentMeta, key: str) -> None:
    """The reason names the Faxd* field to fill in and the row that requires it."""
    reason = refused(document)
    assert f"the document has no {key}" in reason and "backup routine, row" in reason


def test_the_example_refusal_for_a_missing_municipality_reads_well() -> None:
    """The full sentence, as the person who made the document sees it."""
    assert refused(meta("inskrivningsinformation", "avd-a", Outpatient="vc-a")) == (
        "the document has no FaxdMunicipality (the patient's municipality); inskrivningsinformation goes to it "
        "(backup routine, row 3)"
    )


def test_an_unknown_recipient_is_refused_with_the_directory_version() -> None:
    """Nothing is sent to anyone if one named unit is not in the directory."""
    reason = refused(meta("sip", "vc-a", Municipality="kommun-a", Also="malmo-x"))
    assert reason == f"unknown recipient (FaxdAlso): not in the fax directory (version {DIRECTORY.version})"


def test_a_recipient_outside_its_validity_period_is_refused_saying_so() -> None:
    """A closed ward is named as closed, not as unknown."""
    reason = refused(meta("sip", "vc-a", Municipality="kommun-a", Ward="stangd-avd"))
    assert "recipient 'stangd-avd' (FaxdWard) is in the fax directory" in reason
    assert "not valid today (valid 2020-01-01 to 2021-12-31)" in reason


@pytest.mark.parametrize(
    ("field", "unit", "reason"),
    [
        ("Municipality", "vc-a", "FaxdMunicipality 'vc-a' is an outpatient unit, not a municipality"),
        ("Outpatient", "avd-b", "FaxdOutpatient 'avd-b' is an inpatient ward, not an outpatient unit"),
        ("Ward", "kommun-b", "FaxdWard 'kommun-b' is a municipality, not an inpatient ward"),
    ],
)
def test_a_unit_of_the_wrong_kind_in_a_role_is_refused(field: str, unit: str, reason: str) -> None:
    """The municipality, outpatient and ward fields must name a unit of that kind."""
    fields = {"Municipality": "kommun-a", "Outpatient": "vc-a", "Ward": "avd-a", field: unit}
    assert reason in refused(meta("inskrivningsinformation", "avd-b", **fields) if field != "Ward"
                             else meta("inskrivningsinformation", "avd-a", **fields))  # fmt: skip


def test_every_recipient_problem_is_reported_at_once() -> None:
    """A missing municipality and an unknown added unit: both in one reason."""
    reason = refused(meta("inskrivningsinformation", "avd-a", Outpatient="vc-a", Also="okand"))
    assert "no FaxdMunicipality" in reason and "unknown recipient (FaxdAlso)" in reason


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (meta("sip", None, Municipality="kommun-a"), "the document has no FaxdSender; sip is sent by the coordinating party"),
        (meta("sip", "okand-vc", Municipality="kommun-a"),
         f"unknown sender (FaxdSender): not in the fax directory (version {DIRECTORY.version})"),
        (meta("andrad-utskrivning", "stangd-avd", Municipality="kommun-a", Outpatient="vc-a"),
         "sender 'stangd-avd' (FaxdSender) is in the fax directory"),
    ],
)  # fmt: skip
def test_a_missing_unknown_or_closed_sender_is_refused(document: DocumentMeta, reason: str) -> None:
    """The sender must be a unit valid today."""
    assert refused(document).startswith(reason)


@pytest.mark.parametrize("text", [None, "", "Remiss till hudkliniken"])
def test_no_type_anywhere_is_refused(text: str | None) -> None:
    """Without FaxdType and without a recognisable title, nothing is guessed."""
    assert "has no FaxdType" in refused(meta(None, "vc-a", Municipality="kommun-a"), page_one_text=text)


def test_a_declared_type_that_contradicts_the_title_is_refused() -> None:
    """A mislabelled form would go to the wrong units: a person must look."""
    reason = refused(meta("akutblad", "kommun-a", Ward="avd-a"), page_one_text="Samordnad individuell plan - SIP")
    assert reason.startswith("FaxdType is 'akutblad' but the title on page one reads as 'sip'")


def test_a_declared_part_that_contradicts_the_title_is_refused() -> None:
    """The same for the kartläggning's part."""
    document = meta("kartlaggning", "avd-a", Part="aktuellt-tillstand", Municipality="kommun-a", Outpatient="vc-a")
    assert "FaxdPart is 'aktuellt-tillstand'" in refused(document, page_one_text="Kartläggning – Bakgrund")


def test_a_meta_built_by_hand_with_an_unknown_type_is_refused() -> None:
    """route() does not trust DocumentMeta to have come through from_fields."""
    assert "not a known message type" in refused(DocumentMeta(message_type="remiss", sender="vc-a"))


def test_naming_only_the_sender_leaves_the_required_recipient_missing() -> None:
    """The sender in FaxdAlso is not a recipient, so the missing party is still reported."""
    document = replace(meta("sip", "kommun-a"), also=("kommun-a",))
    assert "no FaxdOutpatient" in refused(document)


# -- properties ----------------------------------------------------------------------------

KNOWN = sorted(DIRECTORY.units)
NAMES = st.sampled_from([*KNOWN, "stangd-avd", "okand-x"])
NAME_LISTS = st.lists(NAMES, max_size=4).map(tuple)
documents = st.builds(
    DocumentMeta,
    message_type=st.one_of(st.none(), st.sampled_from([t.code for t in MessageType])),
    sender=st.one_of(st.none(), NAMES),
    municipality=st.one_of(st.none(), NAMES),
    outpatient=st.one_of(st.none(), NAMES),
    ward=st.one_of(st.none(), NAMES),
    participants=NAME_LISTS,
    also=NAME_LISTS,
    part=st.one_of(st.none(), st.sampled_from([p.code for p in KartlaggningPart])),
)
TITLES = st.one_of(st.none(), st.sampled_from([t.swedish_name for t in MessageType]), st.text(max_size=40))


def check_route(document: DocumentMeta, directory_units: dict[str, object], chosen: Route) -> None:
    ids = [r.unit.id for r in chosen.recipients]
    assert chosen.recipients, "a route always has a recipient"
    assert chosen.sender.id not in ids, "the sender is never its own recipient"
    assert len(ids) == len(set(ids)), "one transmission per unit"
    for recipient in chosen.recipients:
        assert directory_units.get(recipient.unit.id) == recipient.unit, "only units of the directory"
        assert recipient.roles and len(set(recipient.roles)) == len(recipient.roles)
        named = {M: (document.municipality,), OP: (document.outpatient,), W: (document.ward,),
                 P: document.participants, A: document.also}  # fmt: skip
        assert all(recipient.unit.id in named[role] for role in recipient.roles), "never a guessed recipient"
        assert recipient.rule.startswith(f"row {chosen.message_type.number} ")


@settings(max_examples=400, deadline=None)
@given(documents, TITLES)
def test_a_route_only_ever_holds_named_directory_units_other_than_the_sender(
    document: DocumentMeta, title: str | None
) -> None:
    """Whatever the fields say, route() refuses or sends only to named, valid units, never the sender."""
    try:
        chosen = route(document, DIRECTORY, page_one_text=title)
    except RouteRefused as refusal:
        assert refusal.reason
        return
    check_route(document, dict(DIRECTORY.units), chosen)
    assert all(DIRECTORY.is_known_number(r.unit.fax) for r in chosen.recipients)
    assert chosen.message_type is not MessageType.CHECKLISTA_BESLUTSSTOD


EXAMPLE = example_directory()
EXAMPLE_NAMES = st.sampled_from([*sorted(EXAMPLE.units)[::3], *EXAMPLE.inactive, "okand-x"])
example_documents = st.builds(
    DocumentMeta,
    message_type=st.sampled_from([t.code for t in MessageType]),
    sender=EXAMPLE_NAMES,
    municipality=st.one_of(st.none(), EXAMPLE_NAMES),
    outpatient=st.one_of(st.none(), EXAMPLE_NAMES),
    ward=st.one_of(st.none(), EXAMPLE_NAMES),
    participants=st.lists(EXAMPLE_NAMES, max_size=3).map(tuple),
    also=st.lists(EXAMPLE_NAMES, max_size=3).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(example_documents)
def test_over_the_example_directory_no_number_outside_it_is_ever_chosen(document: DocumentMeta) -> None:
    """The same invariants over the full example directory."""
    try:
        chosen = route(document, EXAMPLE)
    except RouteRefused:
        return
    check_route(document, dict(EXAMPLE.units), chosen)
    assert all(EXAMPLE.is_known_number(r.unit.fax) for r in chosen.recipients)


@settings(max_examples=200, deadline=None)
@given(documents)
def test_route_is_deterministic(document: DocumentMeta) -> None:
    """The same document and directory always give the same route (or the same refusal)."""

    def outcome() -> object:
        try:
            return route(document, DIRECTORY)
        except RouteRefused as refusal:
            return refusal.reason

    assert outcome() == outcome()


def test_units_sharing_one_machine_each_get_their_own_transmission_with_a_note() -> None:
    """Two units with shared_fax=yes are two recipients; the route notes the shared number."""
    text = (
        "id,name,kind,municipality,fax,station_id,valid_from,valid_to,shared_fax\n"
        "kommun-a,A kommun,municipality,,040-628 04 00,,,,\n"
        "vc-a,VC A,outpatient,kommun-a,031-390 06 00,,,,yes\n"
        "psyk-a,Psykiatri A,outpatient,kommun-a,031-390 06 00,,,,yes\n"
        "avd-a,Avd A,inpatient,kommun-a,08-465 004 00,,,,\n"
    )
    directory = Directory.from_bytes(text.encode())
    chosen = route(meta("inskrivningsinformation", "avd-a", Municipality="kommun-a", Outpatient="vc-a",
                        Participants="psyk-a"), directory)  # fmt: skip
    assert [r.unit.id for r in chosen.recipients] == ["kommun-a", "vc-a", "psyk-a"]
    assert chosen.notes == (
        "'psyk-a' shares its fax number 031-390 06 00 with 'vc-a' (shared_fax in the directory); "
        "each gets its own transmission",
    )


def test_the_sender_in_an_unused_role_is_not_noted() -> None:
    """An akutblad from vc-a naming vc-a as the patient's outpatient unit has nothing to note."""
    assert route(meta("akutblad", "vc-a", Ward="avd-a", Outpatient="vc-a"), DIRECTORY).notes == ()


def test_a_name_shaped_unit_id_is_never_quoted_but_the_nearest_directory_id_is() -> None:
    """A unit id is free text until the directory knows it: "anna-svensson" fits the shape of
    an id, so a reason (journal, .reason file, faxctl) names the field and suggests only ids
    the directory holds."""
    reason = refused(meta("sip", "vc-a", Municipality="kommun-a", Also="anna-svensson"))
    assert "anna" not in reason and "svensson" not in reason
    assert "unknown recipient (FaxdAlso)" in reason
    typo = refused(meta("sip", "vc-a", Municipality="kommun-a", Also="kommun-aa"))
    assert typo.endswith("(did you mean 'kommun-a'?)")


def test_a_note_on_an_unused_role_names_only_directory_ids() -> None:
    """Units named in a role the row does not use are noted; an id the directory does not
    hold is not repeated in the note."""
    document = meta("akutblad", "kommun-a", Ward="avd-a", Outpatient="vc-a", Participants="anna-svensson")
    notes = " ".join(route(document, DIRECTORY).notes)
    assert "anna" not in notes
    assert "FaxdParticipants (a unit not in the fax directory): not a recipient of akutblad" in notes
    assert "FaxdOutpatient vc-a: not a recipient of akutblad" in notes
