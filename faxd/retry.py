"""What happens to a job after a call: done, try again later, or stop for follow-up.

The outcome decides. A station mismatch is never retried automatically: the number may
reach the wrong receiver, and a person has to look. Line trouble is retried after a
delay, busy sooner, until the configured number of tries is used up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from drivers.modem import Outcome
from faxd.config import RetryConfig
from faxd.store import JobState

NEVER_RETRIED = frozenset({Outcome.STATION_MISMATCH, Outcome.NOT_A_FAX})
SOONER = frozenset({Outcome.BUSY})


@dataclass(frozen=True, slots=True)
class Decision:
    state: JobState
    next_attempt: datetime | None
    note: str  # added to the reason in the log when the job stops


def decide(outcome: Outcome, attempts_made: int, policy: RetryConfig, now: datetime) -> Decision:
    if outcome is Outcome.CONFIRMED:
        return Decision(JobState.CONFIRMED, None, "")
    if outcome in NEVER_RETRIED:
        return Decision(JobState.FAILED, None, "not retried automatically: check the number and the receiver")
    if attempts_made >= policy.max_attempts:
        return Decision(JobState.FAILED, None, f"gave up after {attempts_made} attempts")
    delay = policy.delay_seconds / 2 if outcome in SOONER else policy.delay_seconds
    return Decision(JobState.QUEUED, now + timedelta(seconds=delay), "")
