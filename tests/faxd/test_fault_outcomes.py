"""Each fault of the simulated line, through the real driver of each fax class (Class 1, and
Class 2, 2.0, 2.1 against the simulator's personalities) and the queue runner: the outcome
in the confirmation log, and what becomes of the job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivers.class1 import Class1Modem
from drivers.class2 import Class2Modem
from drivers.modem import FaxModem, Station
from drivers.simulator import Answer, RemoteProfile, SimulatedModem
from tests.faxd.site import Site, admission

# The municipality of the admission notice is the unit under test; the outpatient unit
# always answers normally, so every case also shows the fault touches only its own job.
MUNICIPALITY_NUMBER = "0406280416"  # kommun-lund in examples/directory.csv
MUNICIPALITY_CSI = "+46 40 628 04 16"

# fault -> (expected outcome of the first call, job state after it, log reason contains)
CASES: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "busy": ({"answer": Answer.BUSY}, "busy", "queued", "busy"),
    "no-answer": ({"answer": Answer.NO_ANSWER}, "no_answer", "queued", "answer"),
    "no-dialtone": ({"answer": Answer.NO_DIALTONE}, "no_dialtone", "queued", "dial tone"),
    "voice": ({"answer": Answer.VOICE}, "not_a_fax", "failed", "not retried"),
    "ftt-everywhere": ({"ftt_above": 0}, "training_failed", "queued", ""),
    "rtn-every-time": ({"bit_errors": 40}, "page_rejected", "queued", ""),
    "dcn-after-cover": ({"dcn_after_page": 1}, "remote_disconnected", "queued", "1 of 2"),
    "wrong-csi": ({"csi": "031 390 06 99"}, "station_mismatch", "failed", "not retried"),
    "blank-csi": ({"csi": ""}, "station_mismatch", "failed", "not retried"),
    "rtp": ({"rtp_pages": frozenset({1})}, "confirmed", "confirmed", ""),
    "modem-stops-answering": ({"wedge_after_page": 1, "wedge_seconds": 1.0}, "modem_error", "queued", "modem"),
    "ecm-lost-frames": ({"ecm": True, "t6": True, "ecm_lost_frames": frozenset({0})}, "confirmed", "confirmed", ""),
}
#: ECM: Class 1, and the simulated 2.0/2.1 firmware; the SP-2388 personality has none (class2_line.py).
NOT_IN_CLASS2 = {"ecm-lost-frames"}
CLASSES = ("1", "2", "2.0", "2.1")
MATRIX = [
    (fault, fax_class) for fax_class in CLASSES for fault in CASES if fax_class != "2" or fault not in NOT_IN_CLASS2
]
#: The simulator at speed 0 spends no line time, so the drivers need not allow 1.5 times a
#: page's line time for the modem's answer after page data: "modem stops answering" then
#: ends after about 2 s instead of 13-20 s (the same outcome and reason).
LINE_TIME_FACTOR = 0.1


def open_modem(path: str, fax_class: str) -> FaxModem:
    station = Station(tsi="+46 40 628 04 00", header_name="Test")
    if fax_class == "1":
        return Class1Modem(path, station=station, name="sim0", command_timeout=2.0, line_time_factor=LINE_TIME_FACTOR)
    return Class2Modem(
        path,
        fax_class=fax_class,
        station=station,
        name="sim0",
        command_timeout=2.0,
        phase_timeout=5.0,
        line_time_factor=LINE_TIME_FACTOR,
    )


def _simulator_options(fault: str, fax_class: str) -> dict[str, Any]:
    """The shared ``simulator`` fixture's options (tests/conftest.py): the municipality's remote plays ``fault``."""
    profile = RemoteProfile(**({"csi": MUNICIPALITY_CSI} | CASES[fault][0]))
    return {"receive_timeout": 0.3, "fax_class": fax_class, "profiles": {MUNICIPALITY_NUMBER: profile}}


@pytest.mark.parametrize(
    ("simulator", "outcome", "job_state", "reason"),
    [(_simulator_options(fault, fax_class), *CASES[fault][1:]) for fault, fax_class in MATRIX],
    ids=[f"class{fax_class}-{fault}" for fault, fax_class in MATRIX],
    indirect=["simulator"],
)
def test_fault_gives_outcome_log_entry_and_job_state(
    tmp_path: Path, simulator: SimulatedModem, outcome: str, job_state: str, reason: str
) -> None:
    """The first call's outcome is logged with a reason, and the job is retried or not as the outcome says."""
    assert simulator.path is not None
    path = simulator.path
    site = Site(
        tmp_path,
        max_attempts=3,
        open_modem=lambda: open_modem(path, simulator.fax_class),
        modem_keys="max_page_resends = 1\n",  # the call policy, from the configuration through the runner
    )
    admission(site)
    assert site.runner.run_once() and site.runner.run_once()  # one call per recipient
    log = {e["recipient"]: e for e in site.store.confirmation_log()}
    entry = log["kommun-lund"]
    assert entry["outcome"] == outcome
    assert reason.lower() in entry["reason"].lower()
    assert entry["ended"] is not None and entry["number"] == MUNICIPALITY_NUMBER
    jobs = {j["recipient"]: j for j in site.store.jobs()}
    assert jobs["kommun-lund"]["state"] == job_state
    assert jobs["vc-lund-norra"]["state"] == "confirmed"
    assert site.store.verify_log().intact
