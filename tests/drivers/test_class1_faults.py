"""Class1Modem end to end against the simulated modem's fault script: the whole T.30
sender (fallback, RTN/RTP, DCN, station check, ECM with PPR and RNR) on a real pty."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, CallResult, Outcome, Policy, Station, StationCheck
from drivers.page import FaxPage
from drivers.simulator import RemoteProfile, SimulatedModem
from drivers.simulator.remote import ReceivedCall
from tests.drivers.pages import random_boxes

STATION = Station(tsi="+46 40 628 04 00", header_name="Region Skane test")
ECM = {"ecm": True, "t6": True, "two_d": True}

PROFILES = {
    "0406280420": RemoteProfile(csi="040 628 04 20", ftt_above=9600),
    "0406280421": RemoteProfile(csi="040 628 04 21", rtn_pages=frozenset({2})),
    "0406280422": RemoteProfile(csi="040 628 04 22", rtp_pages=frozenset({1})),
    "0406280423": RemoteProfile(csi="040 628 04 23", dcn_after_page=1),
    "0406280424": RemoteProfile(csi="031 390 06 99"),
    "0406280425": RemoteProfile(csi=""),
    "0406280426": RemoteProfile(csi="040 628 04 26", bad_fcs=frozenset({"DIS", "MCF"})),
    "0406280427": RemoteProfile(csi="040 628 04 27", ecm_lost_frames=frozenset({0, 2}), **ECM),  # type: ignore[arg-type]
    "0406280428": RemoteProfile(csi="040 628 04 28", rnr_count=2, **ECM),  # type: ignore[arg-type]
    "0406280429": RemoteProfile(csi="040 628 04 29", bit_errors=5, **ECM),  # type: ignore[arg-type]
    "0406280430": RemoteProfile(csi="040 628 04 30", two_d=True),
    "0406280431": RemoteProfile(csi="040 628 04 31", ftt_above=2400),
}
# The shared ``simulator`` fixture (tests/conftest.py) starts the simulated modem with these.
SIMULATOR_OPTIONS = {"profiles": PROFILES, "receive_timeout": 0.3}


def _pixels(seed: int, rows: int = 300) -> npt.NDArray[np.bool_]:
    return random_boxes(seed, rows)


PAGES = [FaxPage(_pixels(seed)) for seed in (1, 2, 3)]


def _send(
    simulator: SimulatedModem, number: str, expected_remote_id: str | None = None, **policy: Any
) -> tuple[CallResult, ReceivedCall]:
    assert simulator.path is not None
    modem = Class1Modem(simulator.path, station=STATION, name="sim0", command_timeout=2.0)
    request = CallRequest(number, PAGES, expected_remote_id, policy=Policy(min_bps=4800, **policy))
    try:
        result = modem.send(request)
    finally:
        modem.close()
    (call,) = simulator.wait_for_calls(1, timeout=10)
    return result, call


def _all_pages_arrived(call: ReceivedCall) -> None:
    assert len(call.pages) == len(PAGES)
    for number, (sent, got) in enumerate(zip(PAGES, call.pages, strict=True), start=1):
        assert np.array_equal(sent.pixels, got), f"page {number} differs"


def test_ftt_falls_back_until_the_remote_trains(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 20")
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.bit_rate == call.bit_rate == 9600
    _all_pages_arrived(call)


def test_ftt_at_every_allowed_rate_is_training_failed(simulator: SimulatedModem) -> None:
    result, _ = _send(simulator, "040-628 04 31")
    assert result.outcome is Outcome.TRAINING_FAILED
    assert "4800" in result.reason and result.pages_sent == 0


def test_rtn_page_is_sent_again(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 21")
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert call.page_outcomes == {"mcf": 3, "rtn": 1}
    _all_pages_arrived(call)


def test_rtp_retrains_and_confirms(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 22")
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.pages_confirmed == 3
    _all_pages_arrived(call)


def test_dcn_mid_call_keeps_confirmed_pages(simulator: SimulatedModem) -> None:
    result, _ = _send(simulator, "040-628 04 23")
    assert result.outcome is Outcome.REMOTE_DISCONNECTED
    assert result.pages_confirmed == 1 and "1 of 3 pages confirmed" in result.reason


def test_strict_station_check_sends_nothing(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 24", expected_remote_id="040-628 04 24")
    assert result.outcome is Outcome.STATION_MISMATCH
    assert "031 390 06 99" in result.reason and "040-628 04 24" in result.reason
    assert result.pages_sent == 0 and call.pages == ()


def test_warn_station_check_sends_and_warns(simulator: SimulatedModem) -> None:
    result, call = _send(
        simulator, "040-628 04 24", expected_remote_id="040-628 04 24", station_check=StationCheck.WARN
    )
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert len(result.warnings) == 1 and "031 390 06 99" in result.warnings[0]
    assert "warning" in result.reason
    _all_pages_arrived(call)


def test_blank_csi_is_a_mismatch(simulator: SimulatedModem) -> None:
    result, _ = _send(simulator, "040-628 04 25", expected_remote_id="040-628 04 25")
    assert result.outcome is Outcome.STATION_MISMATCH and "(no CSI)" in result.reason


def test_station_check_off(simulator: SimulatedModem) -> None:
    result, _ = _send(simulator, "040-628 04 25", expected_remote_id="040-628 04 25", station_check=StationCheck.OFF)
    assert result.outcome is Outcome.CONFIRMED, result.reason


def test_bad_fcs_on_dis_and_mcf_is_recovered(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 26")
    assert result.outcome is Outcome.CONFIRMED, result.reason
    _all_pages_arrived(call)


def test_mr_when_the_remote_offers_two_dimensional_coding(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 30")
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.coding, result.ecm) == ("MR", False)
    _all_pages_arrived(call)


@pytest.mark.parametrize("number", ["040-628 04 27", "040-628 04 29"], ids=["lost-frames", "bit-errors"])
def test_ecm_resends_what_ppr_asks_for(simulator: SimulatedModem, number: str) -> None:
    result, call = _send(simulator, number)
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.coding, result.ecm, call.ecm) == ("MMR", True, True)
    assert call.frames_resent > 0
    _all_pages_arrived(call)


def test_ecm_receiver_not_ready_is_polled_with_rr(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 28")
    assert result.outcome is Outcome.CONFIRMED, result.reason
    _all_pages_arrived(call)


def test_ecm_can_be_refused_per_call(simulator: SimulatedModem) -> None:
    result, call = _send(simulator, "040-628 04 28", ecm=False)
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.ecm, result.coding, call.ecm) == (False, "MR", False)
