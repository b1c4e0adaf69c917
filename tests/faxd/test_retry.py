"""The retry decision per outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.modem import Outcome
from faxd.config import RetryConfig
from faxd.retry import decide
from faxd.store import JobState

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
POLICY = RetryConfig(
    max_attempts=3, delay_seconds=120, busy_delay_seconds=60, no_answer_delay_seconds=300, deadline_hours=1
)


@pytest.mark.parametrize(
    ("outcome", "wait"),
    [(Outcome.BUSY, 60), (Outcome.NO_ANSWER, 300), (Outcome.NO_CARRIER, 120), (Outcome.TRAINING_FAILED, 120)],
)
def test_retryable_outcomes_wait_their_own_delay(outcome: Outcome, wait: int) -> None:
    """Busy is tried again sooner than no answer; line trouble after the general delay."""
    decision = decide(outcome, 1, POLICY, NOW, NOW)
    assert decision.state is JobState.QUEUED and decision.next_attempt == NOW + timedelta(seconds=wait)


@pytest.mark.parametrize("outcome", [Outcome.STATION_MISMATCH, Outcome.NOT_A_FAX])
def test_wrong_receiver_is_never_retried(outcome: Outcome) -> None:
    """A station mismatch or a non-fax answer fails at once, on the first try."""
    decision = decide(outcome, 1, POLICY, NOW, NOW)
    assert decision.state is JobState.FAILED and "not retried" in decision.note


def test_deadline_stops_retries() -> None:
    """A retry that would fall after the job's deadline is not scheduled."""
    decision = decide(Outcome.NO_ANSWER, 1, POLICY, NOW, NOW - timedelta(minutes=58))
    assert decision.state is JobState.FAILED and "deadline" in decision.note


@given(st.sampled_from(Outcome), st.integers(min_value=1, max_value=10))
def test_never_more_tries_than_allowed(outcome: Outcome, attempts: int) -> None:
    """Whatever the outcome, a job with its tries used up is never queued again."""
    decision = decide(outcome, attempts, POLICY, NOW, NOW)
    if attempts >= POLICY.max_attempts:
        assert decision.state is not JobState.QUEUED
    if outcome is Outcome.CONFIRMED:
        assert decision.state is JobState.CONFIRMED
