"""The Class 1 driver against a simulated remote that behaves as SpanDSP's receiver does
on a noisy line (issue 15): it misses the post-page command and comes back with DIS
after its T2, and after an FTT it answers the next TCF only when its T2 runs out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, CallResult, Outcome, Policy, Station
from drivers.page import FaxPage
from drivers.simulator import RemoteProfile, SimulatedModem
from tests.drivers.pages import random_boxes

STATION = Station(tsi="+46 40 628 04 00", header_name="Region Skane test")
NUMBER = "040-628 04 21"
PAGES = [FaxPage(random_boxes(seed, 300, boxes=40, width=(3, 150))) for seed in (1, 2)]


def _send(
    profile: RemoteProfile, tmp_path: Path, *, ecm: bool, pages: list[FaxPage] = PAGES, speed: float = 0.0
) -> tuple[CallResult, SimulatedModem]:
    simulator = SimulatedModem(out_dir=tmp_path / "received", profiles={"0406280421": profile}, speed=speed)
    path = simulator.start()
    try:
        modem = Class1Modem(path, station=STATION, name="sim0", command_timeout=2.0)
        try:
            result = modem.send(CallRequest(number=NUMBER, pages=pages, policy=Policy(ecm=ecm)))
        finally:
            modem.close()
        simulator.wait_for_calls(1, timeout=10)
    finally:
        simulator.stop()
    return result, simulator


@pytest.mark.parametrize(("missed", "ecm"), [(1, False), (2, False), (1, True), (2, True)])
def test_a_missed_post_page_command_brings_dcs_and_the_page_again(tmp_path: Path, missed: int, ecm: bool) -> None:
    """The remote misses MPS (page 1) or EOP (page 2), or the PPS carrying it, and sends
    DIS. Before issue 15 the driver ended with protocol_error ("got DIS")."""
    result, simulator = _send(RemoteProfile(missed_post_page=frozenset({missed}), ecm=ecm, t6=ecm), tmp_path, ecm=ecm)
    call = simulator.calls[0]
    assert "missed_post_page" in call.faults
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.pages_confirmed == 2 and len(call.pages) == 2
    for sent, got in zip(PAGES, call.pages, strict=True):
        assert np.array_equal(sent.pixels, got)
    assert any(f"page {missed} again" in warning for warning in result.warnings), result.warnings


def test_a_remote_that_waits_out_its_t2_after_ftt_is_heard(tmp_path: Path) -> None:
    """FTT at 14400; after that the remote answers each TCF 5.5 s late (SpanDSP: T2 of
    7 s from DCS) and is deaf meanwhile. Before issue 15 the driver repeated DCS/TCF at
    T4 (3 s) into that silence, lost the late FTT and ended training_failed. Line time
    at half pace (``speed=0.5``: DCS + TCF again take about 1.6 s, so a repeat at T4
    still covers the late answer at 4 s; SpanDSP's comes about 5.5 s after TCF)."""
    profile = RemoteProfile(ftt_above=9600, ftt_silence=4.0)
    result, simulator = _send(profile, tmp_path, ecm=False, pages=[FaxPage(random_boxes(3, 60))], speed=0.5)
    call = simulator.calls[0]
    assert "ftt_silence" in call.faults
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.bit_rate == 9600 and len(call.pages) == 1


def test_the_new_faults_are_profile_file_keys(tmp_path: Path) -> None:
    from drivers.simulator import SimulatorProfileError, load_profiles

    path = tmp_path / "profiles.toml"
    path.write_text('[numbers."0406280421"]\nmissed_post_page = [2]\nftt_silence = 5.5\n')
    profile = load_profiles(path)["0406280421"]
    assert (profile.missed_post_page, profile.ftt_silence) == (frozenset({2}), 5.5)
    assert profile.faults() == ["missed_post_page", "ftt_silence"]
    path.write_text('[numbers."0406280421"]\nftt_silence = -1\n')
    with pytest.raises(SimulatorProfileError, match="ftt_silence"):
        load_profiles(path)
