"""ECM and MMR through the simulated Class 2.0 / 2.1 firmware (T.30 Annex A done by the
DCE): the driver asks for them when +FCC=? offers them, the firmware frames the host's
page data, repairs lost frames after PPR, and the remote gets the pages pixel for pixel."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from drivers.class2 import Class2Modem
from drivers.modem import CallRequest, CallResult, Outcome, Station
from drivers.page import FaxPage
from drivers.simulator import ReceivedCall, RemoteProfile, SimulatedModem
from drivers.simulator.class2_line import ECM_BLOCK_FRAMES, ECM_FRAME_OCTETS
from drivers.t4 import Coding, encode_page
from drivers.t30 import Policy
from tests.drivers.pages import random_boxes

NUMBER = "0313900620"
CSI = "031 390 06 20"


def send(
    fax_class: str, profile: RemoteProfile, pages: list[npt.NDArray[np.bool_]], *, ecm: bool = True
) -> tuple[CallResult, ReceivedCall]:
    with SimulatedModem(fax_class=fax_class, profiles={NUMBER: profile}) as simulator:
        assert simulator.path is not None
        modem = Class2Modem(simulator.path, fax_class=fax_class, station=Station("+46 40 628 04 00", "t"),
                            command_timeout=2.0, phase_timeout=5.0)  # fmt: skip
        try:
            request = CallRequest(NUMBER, [FaxPage(p) for p in pages], expected_remote_id=CSI, policy=Policy(ecm=ecm))
            result = modem.send(request)
        finally:
            modem.close()
        (call,) = simulator.wait_for_calls(1, timeout=30)
    return result, call


def pages(count: int = 2) -> list[npt.NDArray[np.bool_]]:
    return [random_boxes(seed, 400, boxes=150, height=(1, 12), width=(2, 300)) for seed in range(count)]


@pytest.mark.parametrize("fax_class", ["2.0", "2.1"])
def test_ecm_and_mmr_when_both_ends_offer_them(fax_class: str) -> None:
    """+FCC=? offers ec 1 and df 3, the remote's DIS ECM and T.6: the session is ECM + MMR."""
    sent = pages()
    result, call = send(fax_class, RemoteProfile(csi=CSI, ecm=True, t6=True, two_d=True), sent)
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.ecm, result.coding, result.pages_confirmed) == (True, "MMR", 2)
    assert (call.ecm, call.coding, call.outcome) == (True, "MMR", Outcome.CONFIRMED)
    for got, page in zip(call.pages, sent, strict=True):
        assert np.array_equal(got, page)


def test_lost_frames_are_sent_again_after_ppr() -> None:
    """Frames 0 and 3 of each partial page's first transmission are lost: the firmware
    resends them after PPR and the page arrives whole."""
    sent = pages()
    profile = RemoteProfile(csi=CSI, ecm=True, t6=True, ecm_lost_frames=frozenset({0, 3}))
    result, call = send("2.0", profile, sent)
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert "ecm_lost_frames" in call.faults and call.frames_resent >= 2
    assert all(np.array_equal(got, page) for got, page in zip(call.pages, sent, strict=True))


def test_a_page_longer_than_one_partial_page() -> None:
    """A page of more than 256 frames goes as two partial pages (PPS-NULL, then PPS-EOP)."""
    rng = np.random.default_rng(7)
    noisy = rng.random((700, 1728)) < 0.3  # noise: MMR cannot shrink it below 64 KB
    assert len(encode_page(noisy, Coding.MMR)) > ECM_BLOCK_FRAMES * ECM_FRAME_OCTETS
    result, call = send("2.0", RemoteProfile(csi=CSI, ecm=True, t6=True, ecm_lost_frames=frozenset({5})), [noisy])
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert call.coding == "MMR" and np.array_equal(call.pages[0], noisy)


@pytest.mark.parametrize(
    ("fax_class", "profile", "ecm", "coding"),
    [
        ("2.0", RemoteProfile(csi=CSI, two_d=True), True, "MR"),  # the remote has no ECM
        ("2.0", RemoteProfile(csi=CSI, ecm=True, t6=True, two_d=True), False, "MR"),  # the driver told not to
        ("2", RemoteProfile(csi=CSI, ecm=True, t6=True, two_d=True), True, "MR"),  # SP-2388 firmware: ec 0
    ],
    ids=["remote-without-ecm", "driver-without-ecm", "class2-firmware"],
)
def test_no_ecm_unless_all_three_allow_it(fax_class: str, profile: RemoteProfile, ecm: bool, coding: str) -> None:
    sent = pages(1)
    result, call = send(fax_class, profile, sent, ecm=ecm)
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.ecm, call.ecm, call.coding) == (False, False, coding)
    assert np.array_equal(call.pages[0], sent[0])
