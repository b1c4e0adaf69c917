"""Two modems on one queue, and a modem's health (issue 13): priorities hold across modems,
and a modem whose call failed in the modem while it still answers is ``degraded``."""

from __future__ import annotations

import threading
from pathlib import Path

from structlog.testing import capture_logs

from drivers.class1 import Class1Modem
from drivers.class2 import Class2Modem
from drivers.fake import FakeModem
from drivers.modem import CallRequest, CallResult, ModemUnavailable, Outcome, PageConfirmed, Station
from drivers.probe import detect_class
from faxd.health import ServiceState, snapshot
from faxd.runner import IDLE_WAIT_SECONDS, ModemRunner, ModemState
from tests.faxd.site import Site, admission


class HeldModem(FakeModem):
    """A modem whose call lasts until the test lets it end."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.in_call = threading.Event()
        self.hang_up = threading.Event()

    def send(self, request: CallRequest, on_page_confirmed: PageConfirmed | None = None) -> CallResult:
        self.dialled = request.number
        self.in_call.set()
        assert self.hang_up.wait(60), "the test never ended the call"
        return super().send(request, on_page_confirmed)


class SickModem(FakeModem):
    """Answers AT (or not, when ``answers`` is cleared), and fails calls in the modem."""

    def __init__(self, name: str, script: list[CallResult]) -> None:
        super().__init__(name, script)
        self.answers = True

    def probe(self) -> None:
        if not self.answers:
            raise ModemUnavailable("no answer to AT")


class CountedModem(FakeModem):
    """Counts the AT probes; ``probed`` is set at the third."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.probes = 0
        self.probed = threading.Event()

    def probe(self) -> None:
        self.probes += 1
        if self.probes >= 3:
            self.probed.set()


def second_runner(site: Site, modem: FakeModem, name: str, probe_seconds: float | None = None) -> ModemRunner:
    probe = site.config.modems[0].probe_seconds if probe_seconds is None else probe_seconds
    return site.new_runner(lambda: modem, name=name, device=f"/dev/{name}", probe_seconds=probe)


def test_a_more_urgent_job_queued_later_goes_first_on_the_modem_that_comes_free(tmp_path: Path) -> None:
    """m0 is in a call; routine jobs wait; an akutblad arrives last: m1 takes the akutblad
    first, then the routine jobs in the order they came, except the one whose number m0 is
    calling (one call per number), which waits for m0's call to end."""
    held = HeldModem("m0")
    site = Site(tmp_path, open_modem=lambda: held)
    first = admission(site, "first.pdf")  # two routine jobs; m0 takes the first (the municipality)
    call = threading.Thread(target=site.runner.run_once)
    call.start()
    free = FakeModem("m1")
    other = second_runner(site, free, "m1")
    try:
        assert held.in_call.wait(30)
        second = admission(site, "second.pdf")  # two more routine jobs, queued after
        akut = site.drop("akut.pdf", FaxdType="akutblad", FaxdSender="kommun-lund", FaxdWard="sus-malmo-akuten")
        assert other.open()
        while other.run_once():
            pass
        busy_number = held.dialled
    finally:
        held.hang_up.set()
        call.join(30)
    directory = site.directory.current()
    ward, outpatient = directory.get("sus-malmo-akuten"), directory.get("vc-lund-norra")
    assert ward is not None and outpatient is not None
    assert [r.number for r in free.requests] == [ward.fax, outpatient.fax, outpatient.fax]
    assert busy_number not in {r.number for r in free.requests}
    jobs = {j["job_id"]: j for j in site.store.jobs()}
    to_outpatient = [i for i in (*first, *second) if jobs[i]["recipient"] == "vc-lund-norra"]
    on_m1 = [e["job_id"] for e in site.store.confirmation_log() if e["modem"] == "m1"]
    assert on_m1 == [*akut, *to_outpatient]  # the akutblad, then the others in arrival order
    # m0's number is free again: its second job goes now.
    while other.run_once():
        pass
    assert free.requests[-1].number == busy_number
    assert {j["state"] for j in site.store.jobs()} == {"confirmed"} and len(site.store.jobs()) == 5
    other.close()


def test_a_modem_error_while_the_modem_still_answers_is_degraded_then_ready_again(tmp_path: Path) -> None:
    """A call ending in a modem error, with AT still answered: the modem is ``degraded`` with the
    reason (modem.degraded logged once), the job is retried; the next good call makes it ready."""
    failing = CallResult(Outcome.MODEM_ERROR, "the modem answered ERROR to AT+FTM=96", None, 0, 0, None)
    modem = SickModem("fake0", [failing])
    site = Site(tmp_path, open_modem=lambda: modem, max_attempts=3)
    admission(site)
    with capture_logs() as logs:
        assert site.runner.run_once()
    [state] = site.store.modems()
    assert (state["state"], state["detail"]) == (ModemState.DEGRADED.value, failing.reason)
    assert next(e for e in logs if e["event"] == "modem.degraded")["reason"] == failing.reason
    # It still takes calls: the service is degraded, not down, and says why.
    health = snapshot(site.store)
    assert health.state is ServiceState.DEGRADED and failing.reason in health.reasons[0], health.reasons
    assert site.store.confirmation_log()[0]["outcome"] == "modem_error"
    site.run_all()
    assert site.store.modems()[0]["state"] == ModemState.READY.value
    assert {j["state"] for j in site.store.jobs()} == {"confirmed"}


def test_a_modem_error_when_the_modem_no_longer_answers_is_down_and_the_try_is_kept(tmp_path: Path) -> None:
    """The same error, but AT goes unanswered: not degraded but down, and the job keeps its try."""
    failing = CallResult(Outcome.MODEM_ERROR, "the port failed mid-call", None, 0, 0, None)
    modem = SickModem("fake0", [failing])
    site = Site(tmp_path, open_modem=lambda: modem)
    ids = admission(site)
    modem.answers = False
    assert site.runner.run_once()
    assert site.store.modems()[0]["state"] == ModemState.DOWN.value
    assert {j["job_id"]: j["attempts"] for j in site.store.jobs()}[ids[0]] == 0
    modem.answers = True
    assert site.runner.open()
    site.run_all()
    assert {j["state"] for j in site.store.jobs()} == {"confirmed"}


def test_an_idle_modem_is_probed_every_probe_seconds(tmp_path: Path) -> None:
    """With nothing to send, the runner's loop checks the modem with AT every probe_seconds
    (here 0.2 s), not only when its idle wait (IDLE_WAIT_SECONDS) ends: the open and two
    idle probes come well before one idle wait could pass."""
    site = Site(tmp_path)
    modem = CountedModem("m1")
    runner = second_runner(site, modem, "m1", probe_seconds=0.2)
    runner.start()
    try:
        assert modem.probed.wait(IDLE_WAIT_SECONDS / 3), f"{modem.probes} probe(s) only"
    finally:
        runner.stopping.set()
        runner.work.notify()
        runner.join(IDLE_WAIT_SECONDS)
    assert not runner.is_alive()


def test_a_modem_whose_device_is_gone_is_down_and_its_detail_names_the_path_once(tmp_path: Path) -> None:
    """The reopen error of a missing device, as Class 1, Class 2 and class = "auto" word it,
    is the status detail: it names the device path once, with the OS's reason."""
    site = Site(tmp_path)
    device = str(tmp_path / "ttyGONE")
    station = Station(tsi="+46 40 628 04 00", header_name="Test")
    openers = {
        "c1": lambda: Class1Modem(device, station=station, name="c1"),
        "c2": lambda: Class2Modem(device, fax_class="2.0", station=station, name="c2"),
        "auto": lambda: Class1Modem(device, station=station, name=detect_class(device)),
    }
    for name, opener in openers.items():
        runner = site.new_runner(opener, name=name, device=device)
        assert not runner.open()
    details = {m["name"]: m["detail"] for m in site.store.modems() if m["state"] == ModemState.DOWN.value}
    assert set(details) == set(openers)
    for detail in details.values():
        assert detail.count("ttyGONE") == 1 and "No such file or directory" in detail, detail
