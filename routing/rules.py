"""Routing: from a document's fields and the fax directory to the units that get a copy.

``route`` is pure: no clock, no files, no logging. It applies the routine's table
(``routine.ROUTINE``, rendered in ``RULES.md``) and these rules, in this order:

1. The type comes from ``FaxdType``; without it, from the title on page one. If both
   are there and disagree, the document is refused: a mislabelled document would go
   to the wrong units, and that is the breach the gateway exists to prevent.
2. A type that is never faxed (row 1) is refused with the routine's reason.
3. The sender must be named, be in the directory (valid today) and be of a kind the
   routine lets send the type (for the kartläggning, of the kind that fills in its part).
4. Recipients are taken only from the document's fields, never guessed. Every named
   unit of a role the type uses must be in the directory; the municipality,
   outpatient and ward roles must name units of that kind; a required role that is
   missing refuses the document naming its field. Everything wrong is reported at
   once.
5. The sender never receives its own message. A unit named in several roles gets one
   transmission, with all its roles. Units named in a role the type does not use are
   not sent to; the route's notes say so.

Raises ``RouteRefused`` (a ``RoutingError``) with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.directory import Directory, Unit, UnitKind
from routing.errors import RouteRefused
from routing.message_types import KartlaggningPart, MessageType, detect_part, detect_type
from routing.metadata import DocumentMeta, nearest
from routing.routine import DEFAULT_PRIORITIES, OWN_ROLE, ROUTINE, Role, TypeRule

__all__ = ["Role", "Route", "RoutedRecipient", "route"]


@dataclass(frozen=True, slots=True)
class RoutedRecipient:
    """One transmission: the unit, every role it was named in, and the rule line that chose it."""

    unit: Unit
    roles: tuple[Role, ...]
    rule: str


@dataclass(frozen=True, slots=True)
class Route:
    """Where one document goes. ``priority``: lower is sent first."""

    message_type: MessageType
    sender: Unit
    recipients: tuple[RoutedRecipient, ...]
    priority: int
    part: KartlaggningPart | None = None
    notes: tuple[str, ...] = ()
    directory_version: str = ""


def route(
    meta: DocumentMeta,
    directory: Directory,
    *,
    page_one_text: str | None = None,
    priorities: Mapping[MessageType, int] | None = None,
) -> Route:
    """The route of one document under the backup routine.

    ``page_one_text`` is the text of the document's first page, used to recognise
    the type when ``FaxdType`` is absent and to cross-check it when present.
    ``priorities`` overrides ``DEFAULT_PRIORITIES`` per type.

    Returns a Route with at least one recipient. Raises RouteRefused.
    """
    message_type = _message_type(meta, page_one_text)
    rule = ROUTINE[message_type]
    if not rule.faxed:
        raise RouteRefused(rule.refusal)
    sender = _sender(meta, directory, rule)
    part = _part(meta, rule, sender, page_one_text)
    notes: list[str] = []
    recipients = _recipients(meta, directory, rule, sender, notes)
    table = DEFAULT_PRIORITIES if priorities is None else {**DEFAULT_PRIORITIES, **priorities}
    return Route(
        message_type=message_type,
        sender=sender,
        recipients=recipients,
        priority=table[message_type],
        part=part,
        notes=tuple(notes),
        directory_version=directory.version,
    )


def _message_type(meta: DocumentMeta, page_one_text: str | None) -> MessageType:
    detected = detect_type(page_one_text) if page_one_text else None
    if meta.message_type is None:
        if detected is None:
            raise RouteRefused(
                "the document has no FaxdType and its type could not be recognised from the title on page one"
            )
        return detected
    declared = MessageType.from_code(meta.message_type)
    if declared is None:
        known = ", ".join(t.code for t in MessageType)
        raise RouteRefused(f"FaxdType {meta.message_type!r} is not a known message type; known: {known}")
    if detected is not None and detected is not declared:
        raise RouteRefused(
            f"FaxdType is {declared.code!r} but the title on page one reads as {detected.code!r} "
            f"({detected.swedish_name}); check which form this is before it is faxed"
        )
    return declared


def _unknown(unit_id: str, what: str, directory: Directory, key: str) -> str:
    """Why a unit id cannot be used: not in the directory, or outside its validity period."""
    inactive = directory.inactive.get(unit_id)
    if inactive is None:
        # Not the directory's id, so it may be anything a person typed (a name too): not
        # quoted; the nearest id the directory holds is ours to suggest.
        hint = nearest(unit_id, [*directory.units, *directory.inactive])
        return f"unknown {what} ({key}): not in the fax directory (version {directory.version}){hint}"
    start = inactive.valid_from.isoformat() if inactive.valid_from else "..."
    end = inactive.valid_to.isoformat() if inactive.valid_to else "..."
    return (
        f"{what} {unit_id!r} ({key}) is in the fax directory (version {directory.version}) but not valid "
        f"today (valid {start} to {end})"
    )


def _listed(unit_id: str, directory: Directory) -> str:
    """A named unit id as a note may show it: the directory's own ids only."""
    if unit_id in directory.units or unit_id in directory.inactive:
        return unit_id
    return "(a unit not in the fax directory)"


def _sender(meta: DocumentMeta, directory: Directory, rule: TypeRule) -> Unit:
    code = rule.message_type.code
    if meta.sender is None:
        raise RouteRefused(f"the document has no FaxdSender; {code} is sent by {rule.sender_words}")
    sender = directory.get(meta.sender)
    if sender is None:
        raise RouteRefused(_unknown(meta.sender, "sender", directory, "FaxdSender"))
    if sender.kind not in rule.sender_kinds:
        raise RouteRefused(
            f"sender {sender.id!r} is {sender.kind.description}; {code} is sent by {rule.sender_words} "
            f"(backup routine, row {rule.row})"
        )
    return sender


def _part(meta: DocumentMeta, rule: TypeRule, sender: Unit, page_one_text: str | None) -> KartlaggningPart | None:
    """The kartläggning part: declared, read from the title, or the sender's own."""
    if not rule.part_senders:
        return None
    declared = KartlaggningPart.from_code(meta.part) if meta.part else None
    if meta.part and declared is None:
        raise RouteRefused(f"FaxdPart {meta.part!r} is not a part of the kartläggning")
    detected = detect_part(page_one_text) if page_one_text else None
    if declared is not None and detected is not None and declared is not detected:
        raise RouteRefused(
            f"FaxdPart is {declared.code!r} but the title on page one reads as {detected.code!r}; "
            "check which part this is before it is faxed"
        )
    part = declared or detected
    if part is None:
        # Each party fills in its own part, so the sender's kind tells which one it is.
        return next(p for p, kinds in rule.part_senders.items() if sender.kind in kinds)
    if sender.kind not in rule.part_senders[part]:
        fillers = " or ".join(k.value for k in UnitKind if k in rule.part_senders[part])
        raise RouteRefused(
            f"sender {sender.id!r} is {sender.kind.description}; the kartläggning part {part.swedish_name} "
            f"is filled in and sent by {fillers} (backup routine, row {rule.row})"
        )
    return part


def _named(meta: DocumentMeta, role: Role) -> tuple[str, ...]:
    """The unit ids the document names in one role."""
    single = {Role.MUNICIPALITY: meta.municipality, Role.OUTPATIENT: meta.outpatient, Role.WARD: meta.ward}
    if role in single:
        value = single[role]
        return () if value is None else (value,)
    return meta.participants if role is Role.PARTICIPANT else meta.also


def _required(rule: TypeRule, sender: Unit) -> tuple[Role, ...]:
    if not rule.own_role_exempt:
        return rule.required
    return tuple(r for r in rule.required if r is not OWN_ROLE[sender.kind])


def _recipients(
    meta: DocumentMeta, directory: Directory, rule: TypeRule, sender: Unit, notes: list[str]
) -> tuple[RoutedRecipient, ...]:
    code = rule.message_type.code
    required = _required(rule, sender)
    problems: list[str] = []
    chosen: dict[str, tuple[Unit, list[Role]]] = {}
    for role in Role:
        named = _named(meta, role)
        if role in required and not named:
            problems.append(
                f"the document has no {role.field_key} ({_role_words(role)}); {code} goes to it "
                f"(backup routine, row {rule.row})"
            )
            continue
        if not named:
            continue
        if role not in rule.roles:
            others = [_listed(unit_id, directory) for unit_id in named if unit_id != sender.id]
            if others:
                notes.append(
                    f"{role.field_key} {', '.join(others)}: not a recipient of {code} "
                    f"(backup routine, row {rule.row}); not sent (name it in FaxdAlso to send it)"
                )
            continue
        for unit_id in named:
            unit = directory.get(unit_id)
            if unit is None:
                problems.append(_unknown(unit_id, "recipient", directory, role.field_key))
                continue
            if role.unit_kind is not None and unit.kind is not role.unit_kind:
                problems.append(
                    f"{role.field_key} {unit.id!r} is {unit.kind.description}, not {role.unit_kind.description}"
                )
                continue
            if unit.id == sender.id:
                continue  # the sender never receives its own message
            roles = chosen.setdefault(unit.id, (unit, []))[1]
            if role not in roles:  # a list may name the same unit twice
                roles.append(role)
    if problems:
        raise RouteRefused("; ".join(problems))
    if not chosen:
        raise RouteRefused(
            f"no recipient other than the sender: {code} goes to "
            f"{', '.join(r.field_key for r in rule.roles)} (backup routine, row {rule.row})"
        )
    recipients = tuple(
        RoutedRecipient(unit=unit, roles=tuple(roles), rule=_rule_line(rule, roles, required))
        for unit, roles in chosen.values()
    )
    _note_shared_numbers(recipients, sender, notes)
    return recipients


def _role_words(role: Role) -> str:
    return role.description.removesuffix(f" ({role.field_key})")


def _rule_line(rule: TypeRule, roles: list[Role], required: tuple[Role, ...]) -> str:
    """The human-readable rule that chose a recipient, e.g. for the journal and the audit log."""
    parts = [
        f"{role.description}, " + ("named by the routine" if role in required else "another concerned unit")
        for role in roles
    ]
    return f"row {rule.row} {rule.message_type.code}: " + "; ".join(parts)


def _note_shared_numbers(recipients: tuple[RoutedRecipient, ...], sender: Unit, notes: list[str]) -> None:
    seen: dict[str, str] = {sender.fax: sender.id}
    for recipient in recipients:
        unit = recipient.unit
        if unit.fax in seen:
            notes.append(
                f"{unit.id!r} shares its fax number {unit.fax_display} with {seen[unit.fax]!r} "
                "(shared_fax in the directory); each gets its own transmission"
            )
        else:
            seen[unit.fax] = unit.id
