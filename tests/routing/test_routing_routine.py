"""The routine's table as data: RULES.md in sync, the after-outage column, priorities."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from routing.after_outage import AFTER_OUTAGE, DateRule, Duty, registration_duty
from routing.message_types import MessageType
from routing.routine import DEFAULT_PRIORITIES, ROUTINE, rules_markdown

RULES_MD = Path(__file__).resolve().parents[2] / "routing" / "RULES.md"
# shared/ lies beside the checkout, for developers and CI alike.
SOURCE = Path(__file__).resolve().parents[3] / "shared" / "domain" / "reservrutin-mina-planer.sv.txt"


def test_rules_md_shows_the_tables_the_code_applies() -> None:
    """Every line of the rendered tables is in RULES.md (regenerate with python -m routing.routine)."""
    text = RULES_MD.read_text(encoding="utf-8")
    missing = [line for line in rules_markdown().splitlines() if line and line not in text]
    assert missing == []


def test_the_tables_cover_every_type_once() -> None:
    """One rule per type in each column, one priority per type."""
    assert list(ROUTINE) == list(AFTER_OUTAGE) == list(MessageType)
    assert set(DEFAULT_PRIORITIES) == set(MessageType)


@pytest.mark.skipif(not SOURCE.exists(), reason="the customer's routine is not on this machine")
def test_the_quoted_routine_text_is_the_routines_own() -> None:
    """The Swedish quotes in the table are verbatim from the source, apart from line breaks."""
    source = " ".join(SOURCE.read_text(encoding="utf-8").split())
    quotes = [r.during for r in ROUTINE.values() if r.message_type is not MessageType.KARTLAGGNING]
    quotes += [a.after for a in AFTER_OUTAGE.values() if a.after]
    assert [q for q in quotes if " ".join(q.split()) not in source] == []


def test_only_the_checklist_is_never_faxed() -> None:
    """Row 1 is refused; every other row is faxed."""
    assert [t for t, r in ROUTINE.items() if not r.faxed] == [MessageType.CHECKLISTA_BESLUTSSTOD]


def test_the_date_rule_applies_to_rows_6_8_and_9() -> None:
    """The routine's right column makes registration depend on the date for those rows only."""
    dated = [t.number for t, a in AFTER_OUTAGE.items() if a.date_rule is DateRule.IF_AFTER_OUTAGE]
    assert dated == [6, 8, 9]


END = date(2026, 11, 28)  # the day Mina planer came back

DUTIES = [
    (MessageType.CHECKLISTA_BESLUTSSTOD, None, Duty.NONE),
    (MessageType.AKUTBLAD, date(2026, 12, 5), Duty.NONE),
    (MessageType.INSKRIVNINGSINFORMATION, None, Duty.REGISTER),
    (MessageType.INSKRIVNINGSINFORMATION, date(2026, 11, 1), Duty.REGISTER),
    (MessageType.KARTLAGGNING, None, Duty.REGISTER),
    (MessageType.STALLNINGSTAGANDE, None, Duty.REGISTER),
    (MessageType.KALLELSE_SIP_SLUTENVARD, date(2026, 12, 1), Duty.REGISTER),  # SIP after the outage
    (MessageType.KALLELSE_SIP_SLUTENVARD, date(2026, 11, 27), Duty.NONE),  # held during it: done by fax
    (MessageType.KALLELSE_SIP_SLUTENVARD, END, Duty.CHECK),
    (MessageType.KALLELSE_SIP_SLUTENVARD, None, Duty.CHECK),
    (MessageType.KALLELSE_SIP_OPPENVARD, date(2026, 11, 27), Duty.REGISTER),  # always, whatever the date
    (MessageType.SIP, date(2026, 12, 1), Duty.REGISTER),
    (MessageType.SIP, date(2026, 11, 20), Duty.NONE),
    (MessageType.ANDRAD_UTSKRIVNING, date(2026, 12, 3), Duty.REGISTER),
    (MessageType.ANDRAD_UTSKRIVNING, date(2026, 11, 25), Duty.NONE),
    (MessageType.ANDRAD_UTSKRIVNING, None, Duty.CHECK),
]


@pytest.mark.parametrize(("message_type", "event_date", "duty"), DUTIES)
def test_registration_after_the_outage_follows_the_right_column(
    message_type: MessageType, event_date: date | None, duty: Duty
) -> None:
    """Register, nothing (completed by fax), or check by hand when the date cannot decide."""
    result = registration_duty(message_type, event_date, END)
    assert result.duty is duty
    assert result.reason.startswith(f"row {message_type.number}: ")


def test_stallningstagande_is_registered_and_adjusted() -> None:
    """Row 5's units register and adjust their version."""
    assert "register and adjust" in registration_duty(MessageType.STALLNINGSTAGANDE, None, END).reason
