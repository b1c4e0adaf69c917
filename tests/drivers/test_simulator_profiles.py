"""Remote profiles: what their DIS says, profile files, and which profile answers a number."""

from __future__ import annotations

import inspect
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, Outcome, Station
from drivers.page import FAX_WIDTH, FaxPage
from drivers.simulator import (
    Answer,
    RemoteProfile,
    SimulatedModem,
    SimulatorProfileError,
    load_profiles,
    run_simulator,
    wire,
)
from drivers.simulator.host import ScriptedHost

ROOT = Path(__file__).resolve().parents[2]

TOML = """
[default]
csi = "040 628 04 99"
modulations = ["V.27ter", "V.29"]

[numbers."0406280401"]
answer = "busy"

[numbers."031-390 06 02"]
csi = "031 390 06 02"
ecm = true
t6 = true
rtn_pages = [2]
bad_fcs = ["MCF"]
wedge_seconds = 1.5
"""


def test_dis_bits() -> None:
    """T.30 Table 2: rates, fine, MR, widths, lengths, scan time, ECM, T.6."""
    dis = RemoteProfile(
        modulations=frozenset({"V.27ter", "V.29"}),
        two_d=True,
        ecm=True,
        t6=True,
        width="A3",
        length="unlimited",
        min_scan_ms=20,
    ).dis()
    on = [n for n in range(1, 33) if wire.bit(dis, n)]
    assert on == [10, 11, 12, 15, 16, 18, 20, 24, 27, 31]
    plain = [n for n in range(1, 33) if wire.bit(RemoteProfile(fine=False).dis(), n)]
    assert plain == [10, 11, 12, 14, 19, 21, 22, 23, 24]


def test_faults_are_named() -> None:
    profile = RemoteProfile(answer=Answer.VOICE, rtn_pages=frozenset({1}), bit_errors=3)
    assert profile.faults() == ["voice", "rtn_pages", "bit_errors"]
    assert RemoteProfile().faults() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"t6": True}, "t6: T.6"),
        ({"min_scan_ms": 7}, "min_scan_ms"),
        ({"modulations": frozenset({"V.34"})}, "modulations"),
        ({"csi": "x" * 21}, "csi"),
        ({"bad_fcs": frozenset({"XYZ"})}, "bad_fcs"),
        ({"rtn_pages": frozenset({0})}, "pages count from 1"),
    ],
)
def test_impossible_profiles_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(SimulatorProfileError, match=message):
        RemoteProfile(**fields)  # type: ignore[arg-type]  # the test feeds wrong values on purpose


def test_load_toml(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(TOML)
    profiles = load_profiles(path)
    assert set(profiles) == {"*", "0406280401", "0313900602"}
    assert profiles["0406280401"].answer is Answer.BUSY
    ecm = profiles["0313900602"]
    assert (ecm.ecm, ecm.t6, ecm.rtn_pages, ecm.bad_fcs, ecm.wedge_seconds) == (
        True,
        True,
        frozenset({2}),
        frozenset({"MCF"}),
        1.5,
    )
    assert profiles["*"].modulations == frozenset({"V.27ter", "V.29"})


def test_load_json(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"numbers": {"0846500401": {"answer": "no_dialtone", "dcn_after_page": 2}}}))
    profile = load_profiles(path)["0846500401"]
    assert (profile.answer, profile.dcn_after_page) == (Answer.NO_DIALTONE, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[numbers."0406280401"]\nanswr = "busy"\n', r"numbers\.0406280401\.answr: unknown field"),
        ('[numbers."0406280401"]\nanswer = "engaged"\n', r"answer: one of fax, busy"),
        ('[numbers."0406280401"]\nfine = "yes"\n', r"fine: must be a bool"),
        ('[numbers."0406280401"]\nrtn_pages = 2\n', r"rtn_pages: must be a list of numbers"),
        ('[numbers."0406280401"]\nbit_errors = true\n', r"bit_errors: must be a whole number"),
        ('[numbers."0406280401"]\nt6 = true\n', r"numbers\.0406280401\.t6: T\.6 \(MMR\) needs ecm"),
        ('[numbers."040x"]\nanswer = "busy"\n', r"numbers\.040x: the key must be the number's digits"),
        ("[modems]\n", "only 'default', 'numbers' and 'modem' tables"),
        ("[numbers\n", "not valid toml"),
    ],
)
def test_load_errors_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(text)
    with pytest.raises(SimulatorProfileError, match=message) as info:
        load_profiles(path)
    assert str(path) in str(info.value)


def test_lookup_by_digits_and_default(tmp_path: Path) -> None:
    """An outside-line prefix ("0,") does not hide the number; others get [default]."""
    path = tmp_path / "profiles.toml"
    path.write_text(TOML)
    modem = SimulatedModem(profiles=load_profiles(path))
    assert modem.profile_for("0,0406280401").answer is Answer.BUSY
    assert modem.profile_for("T0313900602").csi == "031 390 06 02"
    default = modem.profile_for("0406280455")
    assert default.modulations == frozenset({"V.27ter", "V.29"})


def test_profiles_from_a_file_drive_the_driver(tmp_path: Path) -> None:
    """The daemon's view: the number picks the fault; run_simulator takes the profiles."""
    assert "profiles" in inspect.signature(run_simulator).parameters
    path = tmp_path / "profiles.toml"
    path.write_text(TOML)
    page = FaxPage(np.zeros((20, FAX_WIDTH), dtype=np.bool_))
    station = Station(tsi="+46 40 628 04 00", header_name="test")
    with SimulatedModem(profiles=load_profiles(path)) as simulator:
        assert simulator.path is not None
        modem = Class1Modem(simulator.path, station=station, command_timeout=2.0)
        try:
            assert modem.send(CallRequest(number="040-628 04 01", pages=[page])).outcome is Outcome.BUSY
            result = modem.send(CallRequest(number="040-628 04 55", pages=[page]))
            assert (result.outcome, result.bit_rate) == (Outcome.CONFIRMED, 9600)
        finally:
            modem.close()


@pytest.mark.skipif(sys.platform != "linux", reason="pty behaviour checked on Linux only")
def test_run_simulator_answers_by_profile(tmp_path: Path) -> None:
    """``run_simulator(..., profiles=load_profiles(FILE))`` as ``faxctl modem simulate
    --profiles FILE`` will call it: the listed number is busy, the banner says so."""
    path = tmp_path / "profiles.toml"
    path.write_text(TOML)
    link = tmp_path / "ttyFAX0"
    code = (
        "import sys; from pathlib import Path; from drivers.simulator import run_simulator, load_profiles; "
        "run_simulator(Path(sys.argv[1]), '040 628 04 99', Path(sys.argv[2]), 0.0, load_profiles(Path(sys.argv[3])))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(link), str(tmp_path / "out"), str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = ""
        while "simulated Class 1 modem" not in line:  # log lines come first; each read blocks
            line = process.stdout.readline()
            assert line, "the simulator ended before it was up"
        assert "2 numbers with their own profile" in line
        with ScriptedHost(str(link)) as host:
            assert host.dial("0,0406280401") == "BUSY"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        summary = json.loads((tmp_path / "out" / "call-0001" / "summary.json").read_text())
        assert (summary["outcome"], summary["faults"]) == ("busy", ["busy"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
