"""Modem profiles as data (issue 15): the shipped families load, a site extends them without
code, and the driver sends what the profile says, in order, and works around its quirks.
Driver checks run against a scripted modem, one byte at a time, on a fake clock."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
import structlog

from drivers.at_link import T31Link
from drivers.class1 import Class1Modem
from drivers.class1_runner import CallRunner
from drivers.modem import ModemUnavailable, Station
from drivers.port import SerialPort
from drivers.quirks import (
    SHIPPED_DIR,
    Class1Quirks,
    FlowControl,
    ProfileError,
    available,
    load_profile,
    match_profile,
)
from drivers.t30.events import SendFrames
from drivers.t30.frames import FCF, Frame
from faxd.config import ConfigError, load_config
from tests.drivers.scripted_port import DATA, ScriptedPort, Step, install, ok

STATION = Station(tsi="+46 40 628 04 00", header_name="test")
FAMILIES = ["usr", "multitech", "rockwell", "lucent", "conexant"]


def test_every_shipped_profile_loads_and_sets_each_kind_of_flow_control() -> None:
    names = available()
    assert {"generic", *FAMILIES} <= set(names)
    for name in names:
        profile = load_profile(name)
        assert profile.name == name and profile.description
        if name != "spandsp":
            assert all(profile.flow_command(flow) for flow in FlowControl), name
        if name in FAMILIES:
            assert profile.match, name
            assert profile.flow_commands != load_profile("generic").flow_commands, name


def test_a_probe_finds_the_family_by_identification() -> None:
    profile = match_profile("U.S. Robotics 56K FAX EXT V1.2")
    assert profile is not None and profile.name == "usr"
    assert match_profile("something nobody makes") is None


def test_a_site_profile_extends_a_shipped_one_and_changes_one_key(tmp_path: Path) -> None:
    (tmp_path / "ward7.toml").write_text('extends = "rockwell"\n[class1]\neop_pause_ms = 120\n')
    profile = load_profile("ward7", tmp_path)
    rockwell = load_profile("rockwell")
    assert profile.class1.eop_pause_ms == 120
    assert profile.class1.switching_command == rockwell.class1.switching_command
    assert profile.flow_commands == rockwell.flow_commands
    assert "ward7.toml" in profile.source and "rockwell.toml" in profile.source


def test_a_site_file_of_a_shipped_name_may_extend_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "usr.toml").write_text('extends = "usr"\ninit = ["E0V1Q0X4", "S7=60"]\n')
    profile = load_profile("usr", tmp_path)
    assert profile.init == ("E0V1Q0X4", "S7=60")
    assert profile.flow_commands[FlowControl.RTSCTS] == load_profile("usr").flow_commands[FlowControl.RTSCTS]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[class1]\neop_pause = 9\n", "unknown [class1] key"),
        ("[class1]\nreceived_fcs_octets = 1\n", "received_fcs_octets"),
        ("[class1]\ntm_connect_delay_ms = 'long'\n", "whole number"),
        ('flow_control = "cts"\n', "flow_control is one of"),
        ('init = "E0\\rATZ"\n', "one line"),
        ('extends = "bad"\n', "loops"),
        ("init = [", "not valid TOML"),
        ('[class1]\nswitching_command = "+FRS=7"\n', "{tens}"),
        ("[class2]\nwait_for_xonn = true\n", "[class2] wait_for_xonn: unknown key"),
        ("[class2]\nphase_timeout_seconds = 0\n", "[class2] phase_timeout_seconds"),
        ("[clas2]\nprefer_class = '2.0'\n", "unknown section [clas2] (did you mean [class2]?)"),
        ("[probe]\nmatch = 'x'\n", "unknown section [probe]"),
    ],
)
def test_a_bad_profile_is_one_clear_line_naming_the_file(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profile("bad", tmp_path)
    message = str(caught.value)
    assert words in message and "bad" in message and "\n" not in message


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="known: conexant, generic"):
        load_profile("hayes")


def _modem(port: ScriptedPort, **kwargs: object) -> Class1Modem:
    return Class1Modem("scripted", station=STATION, command_timeout=2.0, port=port, **kwargs)  # type: ignore[arg-type]


def _setup_script(*commands: str, refused: str | None = None) -> deque[Step]:
    steps = [Step(b"AT\r", b"\r\nOK\r\n")]
    for command in commands:
        if command == refused:
            steps.append(Step(f"AT{command}\r".encode(), b"\r\nERROR\r\n"))
            return deque(steps)
        steps.append(ok(command))
    steps.append(Step(b"AT+FTM=?\r", b"\r\n24,48,72,96\r\n\r\nOK\r\n"))
    steps.append(ok("H0"))
    return deque(steps)


@pytest.mark.parametrize(
    ("name", "flow", "flow_command"),
    [
        ("usr", FlowControl.XONXOFF, "&H2&R1&I2"),
        ("rockwell", FlowControl.RTSCTS, "&K3"),
        ("multitech", FlowControl.NONE, "&E3"),
        ("generic", FlowControl.RTSCTS, "+IFC=2,2"),
    ],
)
def test_the_modem_is_set_up_as_its_profile_says(
    monkeypatch: pytest.MonkeyPatch, name: str, flow: FlowControl, flow_command: str
) -> None:
    """Old driver: ATZ, E0V1, +FCLASS=1 only; flow control never set on the modem."""
    profile = load_profile(name)
    expected = [profile.reset, "E0V1", *profile.init, flow_command, "+FCLASS=1"]
    port = ScriptedPort(_setup_script(*expected))
    install(monkeypatch, port)
    _modem(port, profile=profile, flow_control=flow).probe()
    assert port.commands() == ["AT", *(f"AT{c}" for c in expected), "AT+FTM=?", "ATH0"]
    assert not port.unexpected and not port.script


def test_a_refused_flow_control_command_names_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = load_profile("usr")
    port = ScriptedPort(_setup_script(profile.reset, "E0V1", *profile.init, "&H1&R2&I0", refused="&H1&R2&I0"))
    install(monkeypatch, port)
    with pytest.raises(
        ModemUnavailable, match="rtscts flow control command AT&H1&R2&I0 with ERROR; check modem profile 'usr'"
    ):
        _modem(port, profile=profile).probe()


@pytest.mark.parametrize("flow", list(FlowControl))
def test_the_port_gets_the_same_flow_control(flow: FlowControl) -> None:
    """XON/XOFF is honoured on the port only while page data is sent (received frames may
    hold 0x11/0x13 octets); RTS/CTS always."""
    port = SerialPort("loop://", flow_control=flow)
    assert port.rtscts is (flow is FlowControl.RTSCTS)
    assert port.xonxoff is False
    port.pace_output(True)
    assert port.xonxoff is (flow is FlowControl.XONXOFF)
    port.pace_output(False)
    assert port.xonxoff is False
    port.close()


def _link(port: ScriptedPort, **quirks: object) -> T31Link:
    return T31Link(port, command_timeout=2.0, quirks=Class1Quirks(**quirks))  # type: ignore[arg-type]


def test_no_frs_switches_with_a_host_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    port = ScriptedPort(deque())
    install(monkeypatch, port)
    start = port.clock.now
    _link(port, switching_command="").silence(75, after_receive=True)
    assert port.written == [] and port.clock.now - start >= 0.08


def test_another_switching_command(monkeypatch: pytest.MonkeyPatch) -> None:
    port = ScriptedPort(deque([ok("+FTS=8")]))
    install(monkeypatch, port)
    _link(port, switching_command="+FTS={tens}").silence(75, after_receive=True)
    assert port.commands() == ["AT+FTS=8"] and not port.unexpected


def test_data_waits_the_connect_delay_and_is_paced(monkeypatch: pytest.MonkeyPatch) -> None:
    port = ScriptedPort(deque([Step(b"AT+FTM=96\r", b"\r\nCONNECT\r\n"), Step(DATA, b"\r\nOK\r\n")]))
    install(monkeypatch, port)
    times: list[float] = []
    original = port.write

    def timed(data: bytes) -> None:
        times.append(port.clock.now)
        original(data)

    port.write = timed  # type: ignore[method-assign]
    _link(port, tm_connect_delay_ms=50).send_data(96, b"\x00" * 100, bps=9600)
    assert times[1] - times[0] == pytest.approx(0.05)
    assert port.pacing == [True, False] and not port.unexpected


def test_config_reads_profile_flow_control_and_quirks(tmp_path: Path) -> None:
    site = tmp_path / "profiles"
    site.mkdir()
    (site / "ours.toml").write_text('extends = "lucent"\ninit = ["E0V1Q0", "S0=0"]\n')
    text = (
        '[paths]\nspool = "spool"\nstate = "state"\ndirectory = "dir.csv"\n'
        '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "T"\ncallback = "040-628 04 00"\n'
        '[[modem]]\nname = "m1"\ndevice = "/dev/ttyUSB0"\nprofile = "ours"\nprofile_dir = "profiles"\n'
        'flow_control = "xonxoff"\nreset = "&F"\n[modem.quirks]\neop_pause_ms = 120\n'
        '[[modem]]\nname = "m2"\ndevice = "/dev/ttyUSB1"\n'
    )
    (tmp_path / "faxd.toml").write_text(text)
    one, two = load_config(tmp_path / "faxd.toml").modems
    assert one.profile is not None and two.profile is not None
    assert one.flow_control is FlowControl.XONXOFF and one.profile.reset == "&F"
    assert one.profile.init == ("E0V1Q0", "S0=0") and one.profile.class1.eop_pause_ms == 120
    assert one.profile.flow_commands == load_profile("lucent").flow_commands
    assert two.profile.name == "generic" and two.flow_control is FlowControl.RTSCTS
    (tmp_path / "faxd.toml").write_text(text.replace("eop_pause_ms", "eop_pause"))
    with pytest.raises(ConfigError, match=r"\[modem.0.profile\].*unknown \[class1\] key"):
        load_config(tmp_path / "faxd.toml")


def test_profiles_ship_with_the_package() -> None:
    assert SHIPPED_DIR.is_dir() and (SHIPPED_DIR / "README.md").is_file()


class _SilenceLink:
    """A link stand-in that records silences and frame transmissions in order."""

    def __init__(self, quirks: Class1Quirks) -> None:
        self.quirks = quirks
        self.calls: list[str] = []

    def silence(self, ms: int, *, after_receive: bool) -> None:
        self.calls.append(f"silence {ms}")

    def send_frames(self, frames: list[bytes]) -> None:
        self.calls.append(f"frames {frames[-1][2] & 0xFE:#04x}")


@pytest.mark.parametrize("pause", [0, 90])
def test_the_pause_before_eop_comes_from_the_profile(pause: int) -> None:
    """Quirk eop_pause_ms: an extra silence before EOP (and only before EOP)."""
    link = _SilenceLink(Class1Quirks(eop_pause_ms=pause))
    runner = CallRunner(link, [], None, structlog.get_logger("test"))  # type: ignore[arg-type]
    runner.execute(SendFrames((Frame(fcf=FCF.MPS, x_bit=True),)))
    runner.execute(SendFrames((Frame(fcf=FCF.EOP, x_bit=True),)))
    expected = ["frames 0x4e", *([f"silence {pause}"] if pause else []), "frames 0x2e"]
    assert link.calls == expected
