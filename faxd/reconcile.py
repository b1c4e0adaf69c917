"""The reconciliation after an outage: what each unit must register in Mina planer, and
what never reached its recipient.

Built from the signed log only (``faxd.audit.view``): the documents routed during the
outage, the routine's "after the outage" column (``routing.after_outage``) and the
recorded end of the outage. The date rules (rows 6, 8, 9) compare the message's date
(``FaxdEventDate``, a local date) with the end:

- an end at local midnight ends the outage before that day begins: a date on that day
  or later is after the return to normal operation, an earlier date is before the end
  (during the outage or before it began: completed by fax either way);
- any other end: a later day is after, an earlier day before the end, and the day of the end
  itself cannot be decided from the date alone: ``check`` (a person looks; nothing is
  silently dropped).

Actions: ``register``, ``register_and_adjust`` (row 5), ``completed_by_fax``,
``nothing`` (rows 1, 2), ``check``. ``unit`` is who registers (the sender, by the
readings in routing/RULES.md), null where nobody does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from faxd.audit.view import DocumentView, JobView, LogView
from faxd.outage import Outage
from routing.after_outage import AFTER_OUTAGE, DateRule, Duty, registration_duty
from routing.message_types import MessageType


class Action(enum.StrEnum):
    REGISTER = "register"
    REGISTER_AND_ADJUST = "register_and_adjust"
    COMPLETED_BY_FAX = "completed_by_fax"
    NOTHING = "nothing"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class Item:
    """One faxed message and what must be done about it in Mina planer."""

    document_id: str
    reference: str | None
    message_type: str
    row: int
    sender: str | None
    event_date: str | None
    received: str
    action: Action
    unit: str | None  # who registers; None where nobody does
    reason: str  # the routine's words (Swedish), "after the outage" column
    explanation: str  # how the rule was applied, in English


@dataclass(frozen=True, slots=True)
class NotArrived:
    """A recipient a document never reached, or a document refused, and what to do."""

    document_id: str
    reference: str | None
    message_type: str | None
    sender: str | None
    recipient: str | None
    recipient_name: str | None
    state: str  # failed, queued, active, held, refused
    outcome: str | None
    reason: str | None
    todo: str


@dataclass(frozen=True, slots=True)
class Reconciliation:
    outage: Outage
    items: tuple[Item, ...]
    not_arrived: tuple[NotArrived, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "outage": self.outage.as_json(),
            "items": [asdict(i) | {"action": i.action.value} for i in self.items],
            "not_arrived": [asdict(n) for n in self.not_arrived],
        }


def action_for(
    message_type: MessageType, event_date: date | None, ended: datetime, zone: ZoneInfo
) -> tuple[Action, str]:
    """The action for one message, and how the rule was applied. Pure; never raises."""
    rule = AFTER_OUTAGE[message_type]
    local_end = ended.astimezone(zone)
    at_midnight = local_end.timetz().replace(tzinfo=None) == time(0, 0)
    if rule.date_rule is DateRule.IF_AFTER_OUTAGE and event_date is not None and at_midnight:
        # The outage ended as local_end's day began: that whole day is after it.
        first_day_after = local_end.date()
        if event_date >= first_day_after:
            return (
                Action.REGISTER_AND_ADJUST if rule.adjust else Action.REGISTER,
                f"row {message_type.number}: the date {event_date} is after the outage ended "
                f"({local_end:%Y-%m-%d %H:%M}); {rule.registrar} registers it",
            )
        return (
            Action.COMPLETED_BY_FAX,
            f"row {message_type.number}: the date {event_date} is before the outage ended "
            f"({local_end:%Y-%m-%d %H:%M}); the process was completed by fax",
        )
    duty = registration_duty(message_type, event_date, local_end.date())
    if duty.duty is Duty.REGISTER:
        return (Action.REGISTER_AND_ADJUST if rule.adjust else Action.REGISTER), duty.reason
    if duty.duty is Duty.CHECK:
        return Action.CHECK, duty.reason
    if rule.date_rule is DateRule.NOTHING_TO_REGISTER:
        return Action.NOTHING, duty.reason
    return Action.COMPLETED_BY_FAX, duty.reason


def in_outage(document: DocumentView, view: LogView, outage: Outage) -> bool:
    """Received during the outage, or faxed during it (held before it was declared)."""
    if outage.covers(document.received):
        return True
    return any(
        outage.covers(view.attempts[a].started)
        for job in document.jobs
        if job in view.jobs
        for a in view.jobs[job].attempts
        if a in view.attempts
    )


def reconcile(view: LogView, outage: Outage, zone: ZoneInfo, *, unit: str | None = None) -> Reconciliation:
    """The work list for ``outage`` (which must have ended). ``unit`` keeps one unit's items
    (what it registers) and what it sent that never arrived."""
    if outage.ended is None:
        raise ValueError(f"outage {outage.id} has not ended")
    ended = datetime.fromisoformat(outage.ended)
    items: list[Item] = []
    missing: list[NotArrived] = []
    for document in sorted(view.documents.values(), key=lambda d: d.received):
        if not in_outage(document, view, outage):
            continue
        if document.state == "quarantined":
            missing.append(
                NotArrived(
                    document.document_id,
                    document.reference,
                    document.message_type,
                    document.sender,
                    None,
                    None,
                    "refused",
                    None,
                    document.reason,
                    "the gateway refused the document: the sending unit corrects it as the reason "
                    "says and sends it again, or faxes it by hand",
                )
            )
            continue
        message_type = MessageType.from_code(document.message_type or "")
        if message_type is None:
            continue
        event_date = date.fromisoformat(document.event_date) if document.event_date else None
        action, explanation = action_for(message_type, event_date, ended, zone)
        registers = action in (Action.REGISTER, Action.REGISTER_AND_ADJUST, Action.CHECK)
        items.append(
            Item(
                document_id=document.document_id,
                reference=document.reference,
                message_type=message_type.code,
                row=message_type.number,
                sender=document.sender,
                event_date=document.event_date,
                received=document.received,
                action=action,
                unit=document.sender if registers else None,
                reason=AFTER_OUTAGE[message_type].after or "—",
                explanation=explanation,
            )
        )
        for job_id in document.jobs:
            job = view.jobs.get(job_id)
            if job is not None and job.state != "confirmed":
                missing.append(_not_arrived(document, job))
    if unit is not None:
        items = [i for i in items if i.unit == unit]
        missing = [m for m in missing if m.sender == unit]
    return Reconciliation(outage, tuple(items), tuple(missing))


def _not_arrived(document: DocumentView, job: JobView) -> NotArrived:
    if job.state == "failed":
        todo = (
            f"not delivered: phone {job.recipient_name} and fax again by hand, or send the follow-up "
            f"package; the sending unit {document.sender} is told"
        )
    else:
        todo = "still in the gateway's queue: see `faxctl status`; if it is urgent, phone the recipient"
    return NotArrived(
        document.document_id,
        document.reference,
        document.message_type,
        document.sender,
        job.recipient,
        job.recipient_name,
        job.state,
        job.outcome,
        job.reason,
        todo,
    )


def select(periods: Iterable[Outage], outage_id: str | None) -> Outage | None:
    """The outage asked for, or the latest one (which may still be in force)."""
    periods = list(periods)
    if outage_id is not None:
        return next((o for o in periods if o.id == outage_id), None)
    return periods[-1] if periods else None
