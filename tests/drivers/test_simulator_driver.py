"""Class1Modem against the faults it recovers from: FTT fallback, RTN resend, ECM with
lost frames and RNR. These need the driver's fallback, RTN and ECM handling (issue
"Class 1 ... a simulated modem that can fail every way a line fails", driver side)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, Outcome, Station
from drivers.page import FaxPage
from drivers.simulator import RemoteProfile, SimulatedModem
from tests.drivers.pages import random_boxes

PROFILES = {
    "0846500430": RemoteProfile(csi="08 465 004 30", ftt_above=9600),
    "0846500431": RemoteProfile(csi="08 465 004 31", rtn_pages=frozenset({2})),
    "0846500432": RemoteProfile(csi="08 465 004 32", rtp_pages=frozenset({1})),
    "0846500433": RemoteProfile(csi="08 465 004 33", ecm=True, t6=True, ecm_lost_frames=frozenset({0, 2})),
    "0846500434": RemoteProfile(csi="08 465 004 34", ecm=True, t6=True, bit_errors=3, rnr_count=1),
}


def _page(seed: int, rows: int = 200) -> npt.NDArray[np.bool_]:
    return random_boxes(seed, rows, height=(6, 7), width=(2, 300))


@pytest.fixture
def pair() -> Iterator[tuple[SimulatedModem, Class1Modem]]:
    with SimulatedModem(profiles=PROFILES, receive_timeout=0.5) as simulator:
        assert simulator.path is not None
        modem = Class1Modem(simulator.path, station=Station(tsi="+46 40 628 04 00", header_name="t"))
        yield simulator, modem
        modem.close()


@pytest.mark.parametrize(
    ("number", "fault", "results", "ecm"),
    [
        ("08-465 004 30", "ftt_above", ("mcf", "mcf"), False),
        ("08-465 004 31", "rtn_pages", ("mcf", "rtn", "mcf"), False),
        ("08-465 004 32", "rtp_pages", ("rtp", "mcf"), False),
        ("08-465 004 33", "ecm_lost_frames", ("mcf", "mcf"), True),
        ("08-465 004 34", "rnr_count", ("mcf", "mcf"), True),
    ],
)
def test_driver_recovers(
    pair: tuple[SimulatedModem, Class1Modem], number: str, fault: str, results: tuple[str, ...], ecm: bool
) -> None:
    """The fault happens, the driver recovers, both pages arrive pixel for pixel."""
    simulator, modem = pair
    pages = [FaxPage(_page(seed)) for seed in (1, 2)]
    result = modem.send(CallRequest(number=number, pages=pages))
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.pages_confirmed == 2
    (call,) = simulator.wait_for_calls(1, timeout=5)
    assert fault in call.faults and call.page_results == results
    assert call.ecm is ecm and (call.frames_resent > 0) is (fault in ("ecm_lost_frames", "rnr_count"))
    for sent, received in zip(pages, call.pages, strict=True):
        assert np.array_equal(sent.pixels, received)
    if fault == "ftt_above":
        assert result.bit_rate is not None and result.bit_rate <= 9600
