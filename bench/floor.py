"""The floor of a call's line time: what T.30 requires for the pages at the rate reached.

``floor_seconds`` takes the SpanDSP peer's call record (its ``frames``, stamped in line
time: a frame the terminal sent at the start of its transmission, one it received at its
end) and the octets each page put on the line, and adds up what no sender can avoid:

- everything up to the end of the remote's DIS (its answer tone, CSI and DIS: the remote's
  doing, taken from the record);
- TSI + DCS (one V.21 transmission: 1 s of flags, then the frames), TCF (the training
  sequence of the negotiated modulation, then 1.5 s), CFR;
- per page: the training of the page carrier (short for V.17 after TCF), the page data at
  the negotiated rate, the post-page message (MPS/EOP, or PPS-x in ECM) and MCF;
- DCN.

Between any two carriers 75 ms of silence (T.30 5.3.1). A V.21 frame takes its octets
plus FCS and a flag at 300 bit/s. Retrainings, repeated commands, PPR rounds and the
sender's own pauses are what the floor leaves out: the overhead is the call's line time
above it. It does not include a failed attempt at a higher rate: measure it on a clean line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

GAP = 0.075
PREAMBLE = 1.0
TCF_SECONDS = 1.5
#: Training before page data, by rate: V.17 short train after TCF; V.29, V.27ter always the same.
PAGE_TRAINING = {14400: 0.142, 12000: 0.142, 9600: 0.142, 7200: 0.142, 4800: 0.708, 2400: 0.943}
#: Training before TCF (long train for V.17).
TCF_TRAINING = {14400: 1.393, 12000: 1.393, 9600: 1.393, 7200: 1.393, 4800: 0.708, 2400: 0.943}
V29_TRAINING = 0.253


def v21(octets: int) -> float:
    """Returns the time of one V.21 frame of ``octets`` (address to FIF) with FCS and a flag."""
    return (octets + 3) * 8 / 300


def ecm_octets(page: int, frame_size: int = 256) -> int:
    """Returns the octets a page of ``page`` coded octets takes in ECM frames (T.30 A.3):
    address, control, FCD and frame number, FCS and a flag per frame, three RCP."""
    frames = -(-page // frame_size)
    return page + frames * 7 + 3 * 7


def floor_seconds(record: dict[str, Any], page_octets: Sequence[int], *, v29: bool = False) -> float:
    """Returns the line seconds T.30 requires for this call; see the module docstring."""
    rate = int(record["bit_rate"])
    frames = record["frames"]
    dis = next(f for f in frames if f["dir"] == "tx" and f["type"] == "DIS")
    seconds = dis["at"] + v21(len(dis["hex"]) // 2)
    tsi = next((f for f in frames if f["type"] == "TSI"), None)
    dcs = next(f for f in frames if f["type"] == "DCS")
    seconds += GAP + PREAMBLE + (v21(len(tsi["hex"]) // 2) if tsi else 0.0) + v21(len(dcs["hex"]) // 2)
    training = V29_TRAINING if v29 else TCF_TRAINING[rate]
    seconds += GAP + training + TCF_SECONDS + GAP + PREAMBLE + v21(3)
    ecm = bool(record["ecm"])
    post_page = v21(7) if ecm else v21(3)  # PPS-x carries 4 octets of FIF
    for octets in page_octets:
        on_line = ecm_octets(octets) if ecm else octets
        seconds += GAP + (V29_TRAINING if v29 else PAGE_TRAINING[rate]) + on_line * 8 / rate
        seconds += GAP + PREAMBLE + post_page + GAP + PREAMBLE + v21(3)
    return seconds + GAP + PREAMBLE + v21(3)
