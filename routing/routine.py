"""The backup routine's table, as data: who sends each type, to whom, and at what priority.

The "after the outage" column is in ``after_outage``; both are rendered in RULES.md.

Rules of this module (read them before changing a line):

1. Every line here must be checkable against the routine "Reservrutin för processerna
   i Mina planer" (rev. 2024-06-25, ``shared/domain``). Each ``TypeRule`` quotes the
   routine's "Åtgärd vid driftstopp" text (``during``) and states our reading of it
   in plain words (``reading``). Where the routine is silent, the reading says so and
   says what we chose; a care coordinator should confirm those lines.
2. No logic here beyond reading the table: ``rules.route`` applies it.
3. ``RULES.md`` is rendered from this table by ``rules_markdown()``; a test fails if
   they drift apart.

Roles are how the routine names recipients: the concerned municipality (the
patient's municipality), the outpatient unit, the inpatient ward, the other
participating units, and units the sender adds explicitly. Each role is one
``Faxd*`` field of the document. A role is *required* (the routine names that
recipient: missing it refuses the document), *optional* (the routine's "possibly
other concerned units": sent to when given), or not used by the type (a value given
there is not a recipient; ``route`` says so in the route's notes).

``own_role_exempt``: for "each participating unit ... faxes to the other concerned
units" (rows 4, 5) and "the other parties receive a copy" (row 8), every party is
required except the one the sender itself is: a ward sending its kartläggning needs
FaxdMunicipality and FaxdOutpatient, not FaxdWard.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from routing.after_outage import AFTER_OUTAGE, DateRule
from routing.directory import UnitKind
from routing.message_types import KartlaggningPart, MessageType


class Role(enum.StrEnum):
    """Why a unit receives a message; the value is stored with each job."""

    MUNICIPALITY = "municipality"
    OUTPATIENT = "outpatient"
    WARD = "ward"
    PARTICIPANT = "participant"
    ALSO = "also"

    @property
    def field_key(self) -> str:
        """The ``Faxd*`` field that names the units of this role."""
        return _ROLE_KEYS[self]

    @property
    def description(self) -> str:
        """The role in words, with its field: "the patient's municipality (FaxdMunicipality)"."""
        return f"{_ROLE_WORDS[self]} ({self.field_key})"

    @property
    def unit_kind(self) -> UnitKind | None:
        """The kind a unit in this role must be, or None if any kind may be."""
        return _ROLE_KINDS.get(self)


_ROLE_KEYS = {
    Role.MUNICIPALITY: "FaxdMunicipality",
    Role.OUTPATIENT: "FaxdOutpatient",
    Role.WARD: "FaxdWard",
    Role.PARTICIPANT: "FaxdParticipants",
    Role.ALSO: "FaxdAlso",
}
_ROLE_WORDS = {
    Role.MUNICIPALITY: "the patient's municipality",
    Role.OUTPATIENT: "the patient's outpatient unit",
    Role.WARD: "the inpatient ward",
    Role.PARTICIPANT: "another participating unit",
    Role.ALSO: "a unit added by the sender",
}
_ROLE_KINDS = {
    Role.MUNICIPALITY: UnitKind.MUNICIPALITY,
    Role.OUTPATIENT: UnitKind.OUTPATIENT,
    Role.WARD: UnitKind.INPATIENT,
}
# The role a sender of each kind plays itself (for own_role_exempt).
OWN_ROLE = {
    UnitKind.MUNICIPALITY: Role.MUNICIPALITY,
    UnitKind.OUTPATIENT: Role.OUTPATIENT,
    UnitKind.INPATIENT: Role.WARD,
}

_ALL_KINDS = frozenset(UnitKind)
_M, _O, _I = UnitKind.MUNICIPALITY, UnitKind.OUTPATIENT, UnitKind.INPATIENT


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeRule:
    """One row of the routine's table, "during the outage" column."""

    message_type: MessageType
    during: str  # the routine's own words, Swedish
    reading: str  # what the gateway does, in plain English
    faxed: bool = True
    refusal: str = ""  # the reason given when the type is never faxed
    sender_kinds: frozenset[UnitKind] = frozenset()
    sender_words: str = ""  # who sends it, in the routine's terms
    required: tuple[Role, ...] = ()
    optional: tuple[Role, ...] = ()
    own_role_exempt: bool = False
    part_senders: Mapping[KartlaggningPart, frozenset[UnitKind]] = field(default_factory=dict)

    @property
    def row(self) -> int:
        """The row of the routine's table."""
        return self.message_type.number

    @property
    def roles(self) -> tuple[Role, ...]:
        """Every role that receives this type, required first."""
        return self.required + self.optional


ROUTINE: Mapping[MessageType, TypeRule] = MappingProxyType(
    {
        rule.message_type: rule
        for rule in (
            TypeRule(
                message_type=MessageType.CHECKLISTA_BESLUTSSTOD,
                during="Används enbart av kommunen, faxas inte vidare.",
                reading="Never faxed. The gateway refuses it.",
                faxed=False,
                refusal=(
                    "Checklista beslutsstöd is never faxed: it is used by the municipality only (backup routine, row 1)"
                ),
            ),
            TypeRule(
                message_type=MessageType.AKUTBLAD,
                during="Faxas från kommun och/eller öppenvård eller skickas med patienten.",
                reading=(
                    "Sent by the municipality or the outpatient unit (each may send its own) to the "
                    "inpatient unit receiving the patient (FaxdWard; an emergency department is listed "
                    "as an inpatient unit), the unit the sheet would otherwise travel to with the "
                    "patient. The routine names no other recipient: the patient's municipality, "
                    "outpatient unit and participants are not sent to; the sender may add units "
                    "explicitly (FaxdAlso)."
                ),
                sender_kinds=frozenset({_M, _O}),
                sender_words="the municipality and/or outpatient care",
                required=(Role.WARD,),
                optional=(Role.ALSO,),
            ),
            TypeRule(
                message_type=MessageType.INSKRIVNINGSINFORMATION,
                during=(
                    "Inskrivningsmeddelande faxas till berörd kommun och öppenvård samt eventuellt "
                    "andra berörda enheter."
                ),
                reading=(
                    "Sent by inpatient care (the routine makes it responsible for registering it "
                    "afterwards) to the patient's municipality and outpatient unit, both required; "
                    "possibly to other concerned units: another ward, participants, added units."
                ),
                sender_kinds=frozenset({_I}),
                sender_words="inpatient care",
                required=(Role.MUNICIPALITY, Role.OUTPATIENT),
                optional=(Role.WARD, Role.PARTICIPANT, Role.ALSO),
            ),
            TypeRule(
                message_type=MessageType.KARTLAGGNING,
                during=(
                    "Respektive deltagande enhet upprättar sin version av Kartläggningen och faxar "
                    "till övriga berörda enheter. Aktuellt tillstånd fylls i av slutenvård, "
                    "Bakgrund av kommun/öppenvård."
                ),
                reading=(
                    "Each participating unit sends its own part to all the other concerned units. "
                    "Aktuellt tillstånd is sent by an inpatient ward, Bakgrund by a municipality or "
                    "an outpatient unit (FaxdPart; when absent it follows from the sender's kind). "
                    "The municipality, outpatient unit and ward are required except the one the "
                    "sender is; participants and added units also receive it."
                ),
                sender_kinds=_ALL_KINDS,
                sender_words="each participating unit",
                required=(Role.MUNICIPALITY, Role.OUTPATIENT, Role.WARD),
                optional=(Role.PARTICIPANT, Role.ALSO),
                own_role_exempt=True,
                part_senders={
                    KartlaggningPart.AKTUELLT_TILLSTAND: frozenset({_I}),
                    KartlaggningPart.BAKGRUND: frozenset({_M, _O}),
                },
            ),
            TypeRule(
                message_type=MessageType.STALLNINGSTAGANDE,
                during=(
                    "Respektive deltagande enhet upprättar sin version av Ställningstagandet och "
                    "faxar till övriga berörda enheter."
                ),
                reading=(
                    "Each participating unit sends its own version to all the other concerned units: "
                    "the municipality, outpatient unit and ward are required except the one the "
                    "sender is; participants and added units also receive it."
                ),
                sender_kinds=_ALL_KINDS,
                sender_words="each participating unit",
                required=(Role.MUNICIPALITY, Role.OUTPATIENT, Role.WARD),
                optional=(Role.PARTICIPANT, Role.ALSO),
                own_role_exempt=True,
            ),
            TypeRule(
                message_type=MessageType.KALLELSE_SIP_SLUTENVARD,
                during=(
                    "Ansvarig öppenvårdsenhet faxar kallelse till SIP till berörd kommun och "
                    "eventuellt till slutenvårdsavdelning samt andra berörda enheter."
                ),
                reading=(
                    "Sent by the responsible outpatient unit to the patient's municipality "
                    "(required); possibly to the inpatient ward and other concerned units: the "
                    "patient's outpatient unit when it is not the sender, participants, added units."
                ),
                sender_kinds=frozenset({_O}),
                sender_words="the responsible outpatient unit",
                required=(Role.MUNICIPALITY,),
                optional=(Role.WARD, Role.OUTPATIENT, Role.PARTICIPANT, Role.ALSO),
            ),
            TypeRule(
                message_type=MessageType.KALLELSE_SIP_OPPENVARD,
                during=(
                    "Ansvarig öppenvårdsenhet faxar kallelse till SIP till berörd kommun och andra berörda enheter."
                ),
                reading=(
                    "Sent by the responsible outpatient unit to the patient's municipality "
                    "(required) and other concerned units: the patient's outpatient unit when it is "
                    "not the sender, participants, added units. The patient is not admitted, so "
                    "FaxdWard is not a recipient (add a ward to FaxdAlso if it is concerned)."
                ),
                sender_kinds=frozenset({_O}),
                sender_words="the responsible outpatient unit",
                required=(Role.MUNICIPALITY,),
                optional=(Role.OUTPATIENT, Role.PARTICIPANT, Role.ALSO),
            ),
            TypeRule(
                message_type=MessageType.SIP,
                during=(
                    "SIP upprättas i ett gemensamt dokument och undertecknas av berörda parter. "
                    "Samordningsansvarig arkiverar originalet enligt lokala rutiner och övriga "
                    "parter erhåller en kopia."
                ),
                reading=(
                    "Sent by the coordinating party, a municipality or an outpatient unit (a SIP is "
                    "coordinated by the municipality or the region's outpatient care), as a copy to "
                    "every other party: the municipality and outpatient unit are required except "
                    "the one the sender is; the ward, participants and added units when given."
                ),
                sender_kinds=frozenset({_M, _O}),
                sender_words="the coordinating party (municipality or outpatient care)",
                required=(Role.MUNICIPALITY, Role.OUTPATIENT),
                optional=(Role.WARD, Role.PARTICIPANT, Role.ALSO),
                own_role_exempt=True,
            ),
            TypeRule(
                message_type=MessageType.ANDRAD_UTSKRIVNING,
                during=(
                    "Meddelande om förändrad Beräknad tid för utskrivning och Utskrivningsklar "
                    "faxas till berörd kommun och öppenvård samt eventuellt andra berörda enheter."
                ),
                reading=(
                    "Sent by the inpatient ward (the routine makes it responsible for registering "
                    "it afterwards) to the patient's municipality and outpatient unit, both "
                    "required; possibly to other concerned units: another ward, participants, "
                    "added units."
                ),
                sender_kinds=frozenset({_I}),
                sender_words="the inpatient ward",
                required=(Role.MUNICIPALITY, Role.OUTPATIENT),
                optional=(Role.WARD, Role.PARTICIPANT, Role.ALSO),
            ),
        )
    }
)


# -- priorities ---------------------------------------------------------------------------

# Lower is sent first (the queue orders by it). The akutblad concerns a patient on the
# way to hospital; admission and discharge-date notices start or move the statutory
# discharge planning; SIP invitations and plans concern meetings days ahead.
PRIORITY_URGENT = 10
DEFAULT_PRIORITIES: Mapping[MessageType, int] = MappingProxyType(
    {
        MessageType.AKUTBLAD: PRIORITY_URGENT,
        MessageType.INSKRIVNINGSINFORMATION: 30,
        MessageType.ANDRAD_UTSKRIVNING: 30,
        MessageType.STALLNINGSTAGANDE: 50,
        MessageType.KARTLAGGNING: 50,
        MessageType.KALLELSE_SIP_SLUTENVARD: 70,
        MessageType.KALLELSE_SIP_OPPENVARD: 90,
        MessageType.SIP: 90,
        MessageType.CHECKLISTA_BESLUTSSTOD: 255,  # never faxed; listed so the table is total
    }
)


# -- the table for people ---------------------------------------------------------------


def _kinds(kinds: frozenset[UnitKind]) -> str:
    return " or ".join(k.value for k in UnitKind if k in kinds) or "—"


def _roles(roles: tuple[Role, ...]) -> str:
    return ", ".join(f"{_ROLE_WORDS[r]} (`{r.field_key}`)" for r in roles) or "—"


def rules_markdown() -> str:
    """The routine's table as the gateway applies it, in Markdown, for RULES.md."""
    lines = [
        "| # | Type (`FaxdType`) | Routine, during the outage | Sent by | Required recipients "
        "| Also sent to when given | Priority | Reading |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for message_type, rule in ROUTINE.items():
        name = f"{message_type.swedish_name} (`{message_type.code}`)"
        if not rule.faxed:
            lines.append(f"| {rule.row} | {name} | {rule.during} | **never faxed** | — | — | — | {rule.reading} |")
            continue
        sender = f"{rule.sender_words} (kind: {_kinds(rule.sender_kinds)})"
        for part, kinds in rule.part_senders.items():
            sender += f"; {part.swedish_name} (`{part.code}`) by {_kinds(kinds)}"
        required = _roles(rule.required)
        if rule.own_role_exempt:
            required += ", except the one the sender is"
        lines.append(
            f"| {rule.row} | {name} | {rule.during} | {sender} | {required} | {_roles(rule.optional)} "
            f"| {DEFAULT_PRIORITIES[message_type]} | {rule.reading} |"
        )
    lines += [
        "",
        "| # | Type | Routine, after the outage | Who registers | Date rule (`FaxdEventDate` against the day "
        "normal operation returned) |",
        "|---|---|---|---|---|",
    ]
    date_words = {
        DateRule.NOTHING_TO_REGISTER: "nothing to register",
        DateRule.ALWAYS: "always registered afterwards",
        DateRule.IF_AFTER_OUTAGE: (
            "date after that day: register; before: completed by fax; that very day or no date: check by hand"
        ),
    }
    for message_type, after in AFTER_OUTAGE.items():
        lines.append(
            f"| {message_type.number} | `{message_type.code}` | {after.after or '—'} | {after.registrar} "
            f"| {'always registered and adjusted afterwards' if after.adjust else date_words[after.date_rule]} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(rules_markdown(), end="")
