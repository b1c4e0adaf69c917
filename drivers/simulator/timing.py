"""Line time on the simulated line, at speed 1.0 (the pty thread scales it by ``speed``).

The values are the nominal ones of T.30 5.3.1 and 5.4.3.1 and of the modulations'
training sequences (V.17 8.4, V.29 3.4, V.27ter 2.5), so a real-pace simulation takes
about as long as a real call: a page of 50 kB at 9600 bit/s takes 42 s.
"""

from __future__ import annotations

from drivers.simulator import wire

#: V.21 channel 2 runs at 300 bit/s; a transmission starts with 1 s of flags (T.30 5.3.1).
V21_BPS = 300
V21_PREAMBLE_SECONDS = 1.0
#: Silence between the end of one carrier and the start of the next (T.30 5.3.1: 75 ms).
CARRIER_GAP_SECONDS = 0.075
#: Ringing until the remote answers.
RING_SECONDS = 4.0
#: T.30 5.4.3.1 timers, as the remote's and the DCE's waits use them.
T0_SECONDS = 60.0  # waiting for an answer: then NO ANSWER
T1_SECONDS = 35.0  # answered, but no fax machine identified itself
T4_SECONDS = 3.0  # a command without a response is repeated after T4
#: A voice answer ("Hello? ... hello?") before the DCE gives up on it.
VOICE_SECONDS = 5.0

#: Training before high-speed data, by +FTM code: V.17 long/short, V.29, V.27ter.
_TRAINING_SECONDS = {
    24: 0.943,
    48: 0.708,
    72: 0.253,
    96: 0.253,
    73: 1.393,
    97: 1.393,
    121: 1.393,
    145: 1.393,
    74: 0.142,
    98: 0.142,
    122: 0.142,
    146: 0.142,
}


def training_seconds(code: int) -> float:
    """Returns the training time before data sent with ``+FTM=code``."""
    return _TRAINING_SECONDS.get(code, 0.0)


def v21_seconds(frame: bytes) -> float:
    """Returns the time a V.21 frame takes: its octets, FCS and a closing flag."""
    return (len(frame) + 3) * 8 / V21_BPS


def data_seconds(code: int, octets: int) -> float:
    """Returns the time ``octets`` of page data take at the rate of ``+FTM=code``."""
    return octets * 8 / wire.MODULATION_CODES[code][0]
