"""Subscribers to the log's events: how alarms become traps, journal fields and metrics.

The contract between helpers is that an alarm is just a structlog event with a stable
name (``modem.down``, ``job.failed``, ``alarm.*``). ``publish`` is a processor in the
chain (after redaction, so a subscriber only ever sees redacted fields) that hands each
event to every subscriber; SNMP notifications and metrics subscribe here. A subscriber
that raises is logged to stderr once per failure and never breaks the log call.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

Subscriber = Callable[[Mapping[str, Any]], None]

_lock = threading.Lock()
_subscribers: tuple[Subscriber, ...] = ()


def subscribe(subscriber: Subscriber) -> None:
    """Call ``subscriber(event)`` for every event logged from now on."""
    global _subscribers
    with _lock:
        _subscribers = (*_subscribers, subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    global _subscribers
    with _lock:
        _subscribers = tuple(s for s in _subscribers if s is not subscriber)


def deliver(event: Mapping[str, Any]) -> None:
    """Hand ``event`` (already redacted) to every subscriber."""
    for subscriber in _subscribers:
        try:
            subscriber(event)
        except Exception as exc:  # boundary: a broken subscriber must not break logging
            print(f"faxd: event subscriber {subscriber!r} failed: {exc!r}", file=sys.stderr)


def publish(_logger: object, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: deliver a copy of the event (with its level) to subscribers."""
    if _subscribers:
        event = dict(event_dict)
        event.setdefault("level", method)
        deliver(event)
    return event_dict
