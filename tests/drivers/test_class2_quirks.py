"""A modem profile's [class2] section: read with clear errors, and applied to the driver."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from drivers.class2 import Class2Modem
from drivers.class2_quirks import Class2Quirks, class2_quirks
from drivers.modem import CallRequest, Outcome, Station
from drivers.page import FaxPage
from drivers.quirks import FlowControl, ProfileError, load_profile
from drivers.simulator import SimulatedModem
from tests.drivers.pages import random_boxes
from tests.drivers.test_class2_transcripts import CLASS2_CALL, STATION, ScriptedPort, setup_steps, two_pages


def test_section_read_into_driver_options() -> None:
    """Every key lands in the quirks, AT prefixes are dropped from init commands."""
    quirks = class2_quirks({"init": ["AT+FBUG=0", "&K3"], "reversed_bit_order": True, "wait_for_xon": False,
                            "ecm": False, "phase_timeout_seconds": 30, "prefer_class": "1"})  # fmt: skip
    assert quirks == Class2Quirks(init=("+FBUG=0", "&K3"), reversed_bit_order=True, wait_for_xon=False, ecm=False,
                                  phase_timeout_seconds=30.0, prefer_class="1")  # fmt: skip
    assert quirks.driver_options()["phase_timeout"] == 30.0
    assert class2_quirks(None) == Class2Quirks()


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"bogus": 1}, "bogus: unknown key"),
        ({"ecm": "yes"}, "ecm: must be bool"),
        ({"init": [1]}, "init: a list"),
        ({"prefer_class": "3"}, "prefer_class: one of"),
        ({"phase_timeout_seconds": True}, "phase_timeout_seconds: must be"),
    ],
)
def test_a_bad_section_names_the_key(section: dict[str, object], words: str) -> None:
    with pytest.raises(ProfileError, match=words):
        class2_quirks(section, source="site/usr.toml")


@pytest.mark.parametrize("fax_class", ["2", "2.0"])
def test_reversed_bit_order_quirk_still_delivers_the_page_exactly(fax_class: str) -> None:
    """A firmware that wants phase C data last bit first gets it so (+FBO/+FBOR=1), and the
    remote still receives the page pixel for pixel."""
    quirks = class2_quirks({"reversed_bit_order": True, "init": ["+FBUG=0"]})
    page = FaxPage(random_boxes(7, 200))
    with SimulatedModem(fax_class=fax_class) as simulator:
        assert simulator.path is not None
        modem = Class2Modem(simulator.path, fax_class=fax_class, station=Station("+46 40 628 04 00", "t"),
                            command_timeout=2.0, **quirks.driver_options())  # fmt: skip
        result = modem.send(CallRequest("0406280499", [page]))
        modem.close()
        calls = simulator.wait_for_calls(1, timeout=30)
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert np.array_equal(calls[0].pages[0], page.pixels)


def test_every_shipped_profile_has_a_readable_class2_section() -> None:
    """Each family's [class2] reads (the facts are comments where faxd's defaults already fit)."""
    for name in ("usr", "multitech", "rockwell", "conexant", "lucent"):
        profile = load_profile(name)
        assert "class2" in profile.sections, name
        class2_quirks(profile.sections["class2"], source=profile.source)
    assert class2_quirks(load_profile("lucent").sections["class2"]).flow_command == "+FLO"
    assert class2_quirks(load_profile("usr").sections["class2"]).prefer_class == "1"


def test_bad_flow_command_names_the_key() -> None:
    with pytest.raises(ProfileError, match=r"flow_command: \"\+FLO\" or"):
        class2_quirks({"flow_command": "+IFC"}, source="site/x.toml")


@pytest.mark.parametrize(("profile_name", "flow"), [("generic", []), ("lucent", ["+FLO=1"])])
def test_lucent_firmware_gets_its_flow_control_by_flo_in_class_2(profile_name: str, flow: list[str]) -> None:
    """SP-2388 has no +FLO, so a Class 2 set-up sends none; the Lucent profile (HylaFAX
    lucent-mt-2, mainpine-2) says its firmware takes one: XON/XOFF is asked with +FLO=1."""
    profile = load_profile(profile_name)
    flow_command = profile.flow_command(FlowControl.XONXOFF)
    steps = setup_steps("2", "+FDCC", "+FLID", "+FBOR", ["+FCR=1"], flow, flow_command=flow_command)
    port = ScriptedPort(deque([*steps, *CLASS2_CALL]), bytewise=False)
    driver = Class2Modem("scripted", fax_class="2", station=STATION, command_timeout=0.5, flow_control="xonxoff",
                         profile=profile, port=port)  # type: ignore[arg-type]  # the transcript stands in for the port  # fmt: skip
    result = driver.send(CallRequest("0406280499", two_pages()))
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert not port.steps
    assert ("AT+FLO=1" in port.written) is bool(flow)
