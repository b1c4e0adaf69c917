"""Each confirmed page is reported with how it went on the line (bit rate, coding, ECM),
by the Class 1 driver (from the engine's SendPage/SendBlock) and by the Class 2 driver
(from the session the modem reported), against the simulator on a pty."""

from __future__ import annotations

import pytest

from drivers.class1 import Class1Modem
from drivers.class2 import Class2Modem
from drivers.modem import CallRequest, Outcome, PageConfirmation, Station
from drivers.page import FaxPage
from drivers.simulator import RemoteProfile, SimulatedModem
from tests.drivers.pages import random_boxes

STATION = Station(tsi="+46 40 628 04 00", header_name="t")
PAGES = [FaxPage(random_boxes(seed, 120)) for seed in (3, 4)]


@pytest.mark.parametrize(("ecm", "coding"), [(False, "MR"), (True, "MMR")], ids=["plain", "ecm"])
def test_class1_reports_each_page_with_its_rate_coding_and_ecm(ecm: bool, coding: str) -> None:
    profile = RemoteProfile(csi="040 628 04 99", two_d=True, ecm=ecm, t6=ecm)
    with SimulatedModem(profiles={"0406280499": profile}) as simulator:
        assert simulator.path is not None
        modem = Class1Modem(simulator.path, station=STATION, name="sim0", command_timeout=3.0)
        confirmed: list[PageConfirmation] = []
        result = modem.send(CallRequest("0406280499", PAGES), on_page_confirmed=confirmed.append)
        modem.close()
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert confirmed == [PageConfirmation(i, 14400, coding, ecm) for i in range(2)]
    assert (result.coding, result.ecm) == (coding, ecm)


@pytest.mark.parametrize("fax_class", ["2", "2.0"])
def test_class2_reports_each_page_with_the_session_the_modem_reported(fax_class: str) -> None:
    with SimulatedModem(fax_class=fax_class) as simulator:
        assert simulator.path is not None
        modem = Class2Modem(simulator.path, fax_class=fax_class, station=STATION, command_timeout=2.0)
        confirmed: list[PageConfirmation] = []
        result = modem.send(CallRequest("0406280499", PAGES), on_page_confirmed=confirmed.append)
        modem.close()
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.bit_rate and result.coding and result.ecm is not None
    assert confirmed == [PageConfirmation(i, result.bit_rate, result.coding, result.ecm) for i in range(2)]
