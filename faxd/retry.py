"""What happens to a job after a call: done, try again later, or stop for follow-up.

The outcome decides. A station mismatch is never retried automatically: the number may
reach the wrong receiver, and a person has to look; nor is a number answered by
something that is not a fax. Busy is retried sooner than no answer; everything else
after ``retry.delay_seconds``. A job stops when its tries are used up or when the next
try would fall after its deadline, counted from when the document was routed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from drivers.modem import Outcome
from faxd.config import RetryConfig
from faxd.store import JobState

NEVER_RETRIED = frozenset({Outcome.STATION_MISMATCH, Outcome.NOT_A_FAX})


@dataclass(frozen=True, slots=True)
class Decision:
    state: JobState
    next_attempt: datetime | None
    note: str  # added to the reason in the log when the job stops


def delay_for(outcome: Outcome, policy: RetryConfig) -> timedelta:
    if outcome is Outcome.BUSY:
        return timedelta(seconds=policy.busy_delay_seconds)
    if outcome is Outcome.NO_ANSWER:
        return timedelta(seconds=policy.no_answer_delay_seconds)
    return timedelta(seconds=policy.delay_seconds)


def decide(outcome: Outcome, attempts_made: int, policy: RetryConfig, now: datetime, created: datetime) -> Decision:
    if outcome is Outcome.CONFIRMED:
        return Decision(JobState.CONFIRMED, None, "")
    if outcome in NEVER_RETRIED:
        return Decision(JobState.FAILED, None, "not retried automatically: check the number and the receiver")
    if attempts_made >= policy.max_attempts:
        return Decision(JobState.FAILED, None, f"gave up after {attempts_made} attempts")
    next_attempt = now + delay_for(outcome, policy)
    deadline = created + timedelta(hours=policy.deadline_hours)
    if next_attempt > deadline:
        return Decision(JobState.FAILED, None, f"gave up: the deadline {deadline:%Y-%m-%d %H:%M} UTC has passed")
    return Decision(JobState.QUEUED, next_attempt, "")
