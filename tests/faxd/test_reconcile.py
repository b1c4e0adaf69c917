"""The reconciliation work list: every row of the routine's "after the outage" column,
both sides of each date rule, an outage ending at midnight, and what never arrived."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from faxd.audit.view import DocumentView, JobView, LogView
from faxd.outage import Outage
from faxd.reconcile import Action, action_for, reconcile
from routing.message_types import MessageType

ZONE = ZoneInfo("Europe/Stockholm")
# The outage ended 2026-03-10 at 14:30 Swedish time (13:30 UTC).
ENDED = datetime(2026, 3, 10, 14, 30, tzinfo=ZONE)
MIDNIGHT = datetime(2026, 3, 10, 0, 0, tzinfo=ZONE)
BEFORE, SAME_DAY, AFTER = date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)


@pytest.mark.parametrize(
    ("message_type", "expected"),
    [
        (MessageType.CHECKLISTA_BESLUTSSTOD, Action.NOTHING),
        (MessageType.AKUTBLAD, Action.NOTHING),
        (MessageType.INSKRIVNINGSINFORMATION, Action.REGISTER),
        (MessageType.KARTLAGGNING, Action.REGISTER),
        (MessageType.STALLNINGSTAGANDE, Action.REGISTER_AND_ADJUST),
        (MessageType.KALLELSE_SIP_OPPENVARD, Action.REGISTER),
    ],
)
def test_rows_without_a_date_rule(message_type: MessageType, expected: Action) -> None:
    """Rows 1-5 and 7 do not depend on the date: the same action before, on and after the end."""
    for day in (BEFORE, SAME_DAY, AFTER, None):
        assert action_for(message_type, day, ENDED, ZONE)[0] is expected


@pytest.mark.parametrize(
    "message_type", [MessageType.KALLELSE_SIP_SLUTENVARD, MessageType.SIP, MessageType.ANDRAD_UTSKRIVNING]
)
def test_date_rule_both_sides(message_type: MessageType) -> None:
    """Rows 6, 8, 9: a date after the end is registered, one before it was completed by fax,
    the end's own day (not at midnight) and a missing date are for a person to check."""
    assert action_for(message_type, AFTER, ENDED, ZONE)[0] is Action.REGISTER
    assert action_for(message_type, BEFORE, ENDED, ZONE)[0] is Action.COMPLETED_BY_FAX
    assert action_for(message_type, SAME_DAY, ENDED, ZONE)[0] is Action.CHECK
    assert action_for(message_type, None, ENDED, ZONE)[0] is Action.CHECK


@pytest.mark.parametrize(
    "message_type", [MessageType.KALLELSE_SIP_SLUTENVARD, MessageType.SIP, MessageType.ANDRAD_UTSKRIVNING]
)
def test_outage_ending_at_midnight(message_type: MessageType) -> None:
    """Ended at 00:00 on 10 March: the 10th is wholly after the outage, the 9th wholly during it."""
    assert action_for(message_type, SAME_DAY, MIDNIGHT, ZONE)[0] is Action.REGISTER
    assert action_for(message_type, BEFORE, MIDNIGHT, ZONE)[0] is Action.COMPLETED_BY_FAX
    # 00:00 Swedish time is 23:00 UTC the day before: the local day decides, not the UTC one.
    assert MIDNIGHT.astimezone(ZoneInfo("UTC")).date() == BEFORE


def _document(
    n: int, message_type: str, sender: str, event_date: str | None, received: str, jobs: dict[str, str]
) -> tuple[DocumentView, list[JobView]]:
    doc = DocumentView(
        document_id=f"D{n}",
        sha256="ab" * 32,
        received=received,
        state="routed",
        message_type=message_type,
        sender=sender,
        reference=f"REF-{n}",
        event_date=event_date,
        pages=1,
        directory_version="v1",
        jobs=[f"FX-{n}-{r}" for r in jobs],
    )
    views = [
        JobView(
            job_id=f"FX-{n}-{r}",
            document_id=f"D{n}",
            recipient=r,
            recipient_name=r.title(),
            number="0406280410",
            roles="municipality",
            rule="rule",
            directory_version="v1",
            created=received,
            state=state,
            outcome=None if state == "confirmed" else "busy",
            reason=None if state == "confirmed" else "the line was busy",
        )
        for r, state in jobs.items()
    ]
    return doc, views


def test_work_list_per_unit_and_what_never_arrived() -> None:
    """Documents of the outage get their action and unit; failed and queued recipients and
    refused documents are in the second list; documents outside the outage are not listed."""
    view = LogView()
    during = "2026-03-09T10:00:00.000+00:00"
    for doc, jobs in (
        _document(
            1,
            "inskrivningsinformation",
            "sus-lund-avd-12",
            None,
            during,
            {"kommun-lund": "confirmed", "vc-lund-norra": "failed"},
        ),
        _document(2, "andrad-utskrivning", "sus-lund-avd-12", "2026-03-12", during, {"kommun-lund": "confirmed"}),
        _document(3, "kallelse-sip-slutenvard", "vc-lund-norra", "2026-03-08", during, {"kommun-lund": "queued"}),
        _document(4, "akutblad", "kommun-lund", None, "2026-03-01T10:00:00.000+00:00", {"x": "confirmed"}),
    ):
        view.documents[doc.document_id] = doc
        view.jobs.update({j.job_id: j for j in jobs})
    view.documents["D5"] = DocumentView(
        document_id="D5",
        sha256="cd" * 32,
        received=during,
        state="quarantined",
        reason="routing data missing: FaxdType",
    )
    outage = Outage(
        "O-1",
        "Mina planer down",
        "2026-03-08T08:00:00.000+00:00",
        "coordinator",
        "2026-03-08T08:05:00.000+00:00",
        ENDED.astimezone(ZoneInfo("UTC")).isoformat(),
        "coordinator",
        ENDED.isoformat(),
    )
    result = reconcile(view, outage, ZONE)
    actions = {i.document_id: (i.action, i.unit) for i in result.items}
    assert actions == {
        "D1": (Action.REGISTER, "sus-lund-avd-12"),
        "D2": (Action.REGISTER, "sus-lund-avd-12"),
        "D3": (Action.COMPLETED_BY_FAX, None),
    }
    missing = {(m.document_id, m.recipient, m.state) for m in result.not_arrived}
    assert missing == {("D1", "vc-lund-norra", "failed"), ("D3", "kommun-lund", "queued"), ("D5", None, "refused")}
    assert all(m.todo for m in result.not_arrived)
    ward = reconcile(view, outage, ZONE, unit="sus-lund-avd-12")
    assert {i.document_id for i in ward.items} == {"D1", "D2"}
    assert {m.document_id for m in ward.not_arrived} == {"D1"}
    item = result.as_json()["items"][0]
    for key in ("document_id", "reference", "message_type", "sender", "event_date", "action", "unit", "reason"):
        assert key in item


@pytest.mark.parametrize("message_type", list(MessageType))
def test_every_rows_explanation_names_the_verb_once(message_type: MessageType) -> None:
    """The routine's registrar is put into a sentence that has its own verb: whatever the row,
    date and end, the explanation says "register" once at most."""
    for ended in (ENDED, MIDNIGHT):
        for day in (BEFORE, SAME_DAY, AFTER, None):
            explanation = action_for(message_type, day, ended, ZONE)[1]
            assert len(re.findall(r"\bregister", explanation)) <= 1, explanation


def test_row_5_reads_as_a_sentence() -> None:
    assert action_for(MessageType.STALLNINGSTAGANDE, None, ENDED, ZONE) == (
        Action.REGISTER_AND_ADJUST,
        "row 5: each participating unit (the sender, for its own version) must register and adjust it afterwards",
    )


@pytest.mark.parametrize("ended", [ENDED, MIDNIGHT])
def test_a_date_before_the_outage_began_is_not_said_to_fall_during_it(ended: datetime) -> None:
    """A SIP date weeks before the outage: still completed by fax, but the words are true."""
    action, explanation = action_for(MessageType.SIP, date(2026, 2, 1), ended, ZONE)
    assert action is Action.COMPLETED_BY_FAX
    assert "during" not in explanation and re.search(r"before (the day )?the outage ended", explanation)
