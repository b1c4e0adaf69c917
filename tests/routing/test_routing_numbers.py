"""Swedish fax numbers: normalisation, display, dialling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.directory import DialRule, dial_string, normalise_number
from routing.numbers import display_number, international_number
from tests.routing.routing_testdata import small_directory


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("040-628 04 00", "0406280400"),
        ("040 6280400", "0406280400"),
        ("+46 40 628 04 00", "0406280400"),
        ("+46 (0)40 628 04 00", "0406280400"),
        ("0046 40 628 04 00", "0406280400"),
        ("+46406280400", "0406280400"),
        ("031-390 06 99", "0313900699"),
        ("08-465 004 00", "0846500400"),
        ("08 465 004 00", "0846500400"),
        ("(040) 628 04 00", "0406280400"),
        ("040.628.04.00", "0406280400"),
        ("040‐628 04 00", "0406280400"),  # a Unicode hyphen from a word processor
    ],
)
def test_usual_writings_become_canonical_national_digits(text: str, digits: str) -> None:
    """Every usual writing of a number gives the same digits."""
    assert normalise_number(text) == digits


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("+45 00 00 00 00", "not a Swedish number"),
        ("0045 00 00 00 00", "dials abroad"),
        ("040-628 04 0O", "not digits: O"),
        ("6280400", "no area code"),
        ("040-628", "digits"),
        ("040-628 04 00 12", "digits"),
        ("+46 040 628 04 00", "a 0 too many"),
        ("fax: 040-628 04 00", "not digits"),
    ],
)
def test_unusable_numbers_are_refused_with_a_reason(text: str, reason: str) -> None:
    """A number that is not a Swedish number raises ValueError saying why."""
    with pytest.raises(ValueError, match=reason):
        normalise_number(text)


@pytest.mark.parametrize(
    ("digits", "display", "international"),
    [
        ("0406280400", "040-628 04 00", "+46 40 628 04 00"),
        ("0313900612", "031-390 06 12", "+46 31 390 06 12"),
        ("0846500400", "08-465 004 00", "+46 8 465 004 00"),
    ],
)
def test_display_forms_follow_the_swedish_convention(digits: str, display: str, international: str) -> None:
    """Area code, hyphen, groups from the right; international without the trunk 0."""
    assert (display_number(digits), international_number(digits)) == (display, international)


canonical_numbers = st.one_of(
    st.from_regex(r"08[1-9][0-9]{5,7}", fullmatch=True),
    st.from_regex(r"0(31|40|46|42|44)[1-9][0-9]{4,6}", fullmatch=True),
    st.from_regex(r"0(41[0-9]|45[0-9])[1-9][0-9]{3,5}", fullmatch=True),
)


@given(canonical_numbers)
def test_display_and_international_forms_read_back_to_the_same_digits(digits: str) -> None:
    """normalise(display(d)) == normalise(international(d)) == d."""
    assert normalise_number(display_number(digits)) == normalise_number(international_number(digits)) == digits


@given(st.text(max_size=30))
def test_normalise_either_returns_canonical_digits_or_raises_value_error(text: str) -> None:
    """Any text gives 8-10 ASCII digits starting with one 0, or ValueError."""
    try:
        digits = normalise_number(text)
    except ValueError:
        return
    assert digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 10
    assert digits.startswith("0") and not digits.startswith("00")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (DialRule(), "0406280400"),
        (DialRule(outside_line_prefix="0"), "00406280400"),
        (DialRule(outside_line_prefix="0", pause_after_prefix=","), "0,0406280400"),
        (DialRule(outside_line_prefix="9", pause_after_prefix="W"), "9W0406280400"),
        (DialRule(pause_after_prefix=","), "0406280400"),  # no prefix, no pause
    ],
)
def test_the_dial_string_applies_the_sites_rule(rule: DialRule, expected: str) -> None:
    """Prefix, then pause, then the national number."""
    assert dial_string("040-628 04 00", rule) == expected


def test_dial_string_takes_a_unit() -> None:
    """A Unit dials its canonical fax number."""
    unit = small_directory().get("kommun-a")
    assert unit is not None
    assert dial_string(unit, DialRule(outside_line_prefix="0", pause_after_prefix=",")) == "0,0406280400"


@pytest.mark.parametrize(
    "kwargs", [{"outside_line_prefix": "0;"}, {"pause_after_prefix": "p"}, {"outside_line_prefix": "ATD"}]
)
def test_a_dial_rule_with_characters_a_modem_cannot_dial_is_refused(kwargs: dict[str, str]) -> None:
    """A typo in the site's dial rule fails at start-up, not at the first call."""
    with pytest.raises(ValueError, match="may hold only"):
        DialRule(**kwargs)


def test_dial_string_refuses_a_bad_number() -> None:
    """Nothing is dialled from a number that does not normalise."""
    with pytest.raises(ValueError, match="no area code"):
        dial_string("112")
