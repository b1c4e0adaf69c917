"""T.30 timers and fixed durations (T.30 5.4.3 and Annex A), in seconds.

The engine never waits and reads no clock: the driver passes its monotonic time with each
event (``T30Sender.handle(event, now=...)``); the engine puts what is left of a timer into
an action (``ReceiveFrames(timeout)``) and the driver turns an expiry into an event
(``ReceiveTimeout``). T1 runs from the answer until DIS, however many other transmissions
come in between; T5 from the first RNR.
"""

from __future__ import annotations

import enum


class Timer(enum.Enum):
    """The T.30 timers; ``seconds`` is the nominal value of T.30 5.4.3.1."""

    T0 = "T0"  # called terminal waits for answer
    T1 = "T1"  # both sides: time to identify the other station (phase B)
    T2 = "T2"  # wait for a command
    T3 = "T3"  # operator alert
    T4 = "T4"  # wait for a response to a command
    T5 = "T5"  # ECM busy (RNR/RR)

    @property
    def seconds(self) -> float:
        return _SECONDS[self]


_SECONDS = {
    Timer.T0: 60.0,
    Timer.T1: 35.0,
    Timer.T2: 6.0,
    Timer.T3: 10.0,
    Timer.T4: 3.0,
    Timer.T5: 60.0,
}

#: TCF: zeros for 1.5 s +-10 % at the chosen rate (T.30 5.3.2.2 / 6.3.2 phase B).
TCF_SECONDS = 1.5

#: Silence between the end of one carrier and the start of the next (T.30 5.3.1: 75 +-20 ms).
CARRIER_GAP_MS = 75

#: How long after TCF the sender listens for CFR/FTT before it trains again. A receiver
#: whose high-speed receiver did not pick up the TCF answers only when its T2 (6 +-1 s)
#: runs out (SpanDSP: 7 s from DCS, i.e. about 5.5 s after TCF ends); DCS/TCF repeated
#: at T4 (3 s) talks over that FTT, and the caller hears neither. HylaFAX waits 2 x T2
#: where it knows the receiver lets T2 run out on purpose.
TRAINING_REPLY_SECONDS = 7.0

#: A command that got no valid response is sent again, at most 3 times in all (T.30 5.3.2).
MAX_COMMAND_TRIES = 3

#: The 4th PPR for one block brings CTC or EOR (T.30 A.4.4).
PPR_LIMIT = 4
