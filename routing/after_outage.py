"""The backup routine's "after the outage" column, as data: who registers what in Mina planer.

The reconciliation after an outage builds, per unit, the work list of what it must
register afterwards. This module holds the routine's right-hand column (quoted in
``after``) and the one rule that needs a computation: for rows 6, 8 and 9 whether
anything is registered depends on the date the message is about (``FaxdEventDate``)
against the day normal operation returned. ``registration_duty`` is pure.

Readings (to be confirmed by a care coordinator; also in RULES.md):
- "samordningsansvarig enhet" (rows 6-8) is taken to be the unit that sent the
  invitation or the plan, i.e. the sender of the fax;
- row 8's "Se rubrik Kalla till SIP ovan" is read as row 6's date rule;
- a date on the very day normal operation returned cannot be placed before or after
  the return from the date alone: it is CHECK, never silently dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from routing.message_types import MessageType


class DateRule(enum.StrEnum):
    """Whether registering afterwards depends on the date the message is about."""

    NOTHING_TO_REGISTER = "nothing"  # rows 1, 2
    ALWAYS = "always"  # register afterwards whatever the date
    IF_AFTER_OUTAGE = "if-after-outage"  # only if FaxdEventDate is after the return to normal


@dataclass(frozen=True, slots=True, kw_only=True)
class AfterOutageRule:
    """One row of the routine's table, "after the outage" column."""

    message_type: MessageType
    after: str  # the routine's own words, Swedish ("" when the column is empty)
    registrar: str  # who registers in Mina planer, in the routine's terms: a subject, no verb
    registrar_is_sender: bool  # our reading: the unit that sent the fax is that unit
    date_rule: DateRule
    adjust: bool = False  # row 5: "registrering och justering"


_SIP_AFTER = (
    "Om datum för SIP är efter återgång till normal drift av Mina Planer ansvarar "
    "samordningsansvarig enhet för registrering i Mina Planer. Om SIP genomförs under "
    "driftstoppet slutförs processen Samverkan vid utskrivning via fax."
)
AFTER_OUTAGE: Mapping[MessageType, AfterOutageRule] = MappingProxyType(
    {
        rule.message_type: rule
        for rule in (
            AfterOutageRule(
                message_type=MessageType.CHECKLISTA_BESLUTSSTOD,
                after="",
                registrar="nobody",
                registrar_is_sender=False,
                date_rule=DateRule.NOTHING_TO_REGISTER,
            ),
            AfterOutageRule(
                message_type=MessageType.AKUTBLAD,
                after="",
                registrar="nobody",
                registrar_is_sender=False,
                date_rule=DateRule.NOTHING_TO_REGISTER,
            ),
            AfterOutageRule(
                message_type=MessageType.INSKRIVNINGSINFORMATION,
                after="Slutenvården ansvarar för registrering i efterhand i Mina Planer.",
                registrar="inpatient care (the sending ward)",
                registrar_is_sender=True,
                date_rule=DateRule.ALWAYS,
            ),
            AfterOutageRule(
                message_type=MessageType.KARTLAGGNING,
                after="Respektive deltagande enhet ansvarar för registrering i efterhand i Mina Planer.",
                registrar="each participating unit (the sender, for its own version)",
                registrar_is_sender=True,
                date_rule=DateRule.ALWAYS,
            ),
            AfterOutageRule(
                message_type=MessageType.STALLNINGSTAGANDE,
                after=(
                    "Respektive deltagande enhet ansvarar för registrering och justering i efterhand i Mina Planer."
                ),
                registrar="each participating unit (the sender, for its own version)",
                registrar_is_sender=True,
                date_rule=DateRule.ALWAYS,
                adjust=True,
            ),
            AfterOutageRule(
                message_type=MessageType.KALLELSE_SIP_SLUTENVARD,
                after=_SIP_AFTER,
                registrar="the coordinating unit (taken to be the inviting outpatient unit, the sender)",
                registrar_is_sender=True,
                date_rule=DateRule.IF_AFTER_OUTAGE,
            ),
            AfterOutageRule(
                message_type=MessageType.KALLELSE_SIP_OPPENVARD,
                after=(
                    "Efter återgång till normal drift av Mina Planer ansvarar samordningsansvarig "
                    "enhet för registrering i efterhand i Mina Planer."
                ),
                registrar="the coordinating unit (taken to be the inviting outpatient unit, the sender)",
                registrar_is_sender=True,
                date_rule=DateRule.ALWAYS,
            ),
            AfterOutageRule(
                message_type=MessageType.SIP,
                after="Se rubrik Kalla till SIP ovan.",
                registrar="the coordinating party (the sender)",
                registrar_is_sender=True,
                date_rule=DateRule.IF_AFTER_OUTAGE,
            ),
            AfterOutageRule(
                message_type=MessageType.ANDRAD_UTSKRIVNING,
                after=(
                    "Meddelande om förändrad Beräknad tid för utskrivning och Utskrivningsklar, där "
                    "datum är efter återgång till normal drift av Mina Planer, ansvarar "
                    "slutenvårdsavdelning för registrering i efterhand i Mina Planer. I övriga fall "
                    "slutförs processen Samverkan vid utskrivning via fax."
                ),
                registrar="the inpatient ward (the sender)",
                registrar_is_sender=True,
                date_rule=DateRule.IF_AFTER_OUTAGE,
            ),
        )
    }
)


class Duty(enum.StrEnum):
    """What a unit must do in Mina planer about one faxed message once the outage is over."""

    NONE = "none"  # nothing to register (the type has no registration, or it was completed by fax)
    REGISTER = "register"
    CHECK = "check"  # the date does not decide it: a person must look


@dataclass(frozen=True, slots=True)
class RegistrationDuty:
    duty: Duty
    registrar: str
    reason: str


def registration_duty(message_type: MessageType, event_date: date | None, outage_ended_on: date) -> RegistrationDuty:
    """What must be registered afterwards for one faxed message, by the routine's right column.

    For the date rule (rows 6, 8, 9) a date after the day the outage ended means
    "register"; a date before it means the process was completed by fax. The day the
    outage ended itself, or a missing FaxdEventDate, cannot be decided from dates alone:
    CHECK, so nothing is silently dropped. Returns a RegistrationDuty; never raises.
    """
    rule = AFTER_OUTAGE[message_type]
    row = message_type.number
    if rule.date_rule is DateRule.NOTHING_TO_REGISTER:
        return RegistrationDuty(Duty.NONE, rule.registrar, f"row {row}: nothing is registered afterwards")
    what = "register and adjust" if rule.adjust else "register"
    if rule.date_rule is DateRule.ALWAYS:
        return RegistrationDuty(Duty.REGISTER, rule.registrar, f"row {row}: {rule.registrar} must {what} it afterwards")
    if event_date is None:
        return RegistrationDuty(
            Duty.CHECK,
            rule.registrar,
            f"row {row}: no FaxdEventDate, so the date rule cannot be applied; check by hand",
        )
    if event_date > outage_ended_on:
        return RegistrationDuty(
            Duty.REGISTER,
            rule.registrar,
            f"row {row}: the date {event_date} is after the return to normal operation ({outage_ended_on}); "
            f"{rule.registrar} must {what} it",
        )
    if event_date < outage_ended_on:
        return RegistrationDuty(
            Duty.NONE,
            rule.registrar,
            f"row {row}: the date {event_date} is before the day the outage ended ({outage_ended_on}); "
            "the process was completed by fax",
        )
    return RegistrationDuty(
        Duty.CHECK,
        rule.registrar,
        f"row {row}: the date {event_date} is the day normal operation returned; check whether it was before or after",
    )
