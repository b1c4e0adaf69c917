"""The real daemon against remotes that misbehave, chosen by dialled number in the
simulator's profile file: what each fault does to the job, the log and the pages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivers.page import Resolution
from imaging import header_rows, render_pdf
from tests.e2e.harness import (
    ALL_CLASSES,
    MUNICIPALITY,
    OUTPATIENT,
    SAMPLE_DIRECTORY,
    Gateway,
    admission_meta,
    make_pdf,
    tiff_pages,
)

pytestmark = pytest.mark.e2e


def digits(unit_id: str) -> str:
    unit = SAMPLE_DIRECTORY.get(unit_id)
    assert unit is not None
    return unit.fax


@ALL_CLASSES
def test_a_call_cut_off_mid_document_resumes_after_the_confirmed_pages(gateway: Gateway, tmp_path: Path) -> None:
    """DCN after the 2nd page of every call: each retry starts with a continuation cover sheet
    and the next unconfirmed page, until every page has been confirmed once."""
    gateway.start_simulator(profiles={digits(OUTPATIENT): {"dcn_after_page": 2}})
    daemon = gateway.start_daemon()
    pdf = make_pdf(tmp_path / "three.pdf", 3, metadata=admission_meta())
    gateway.send(pdf)
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)

    attempts = [e for e in gateway.log() if e["recipient"] == OUTPATIENT]
    assert [e["outcome"] for e in attempts] == ["remote_disconnected", "remote_disconnected", "confirmed"]
    assert [e["pages_total"] for e in attempts] == [4, 3, 2]  # cover + pages 1-3, then 2-3, then 3
    assert [e["pages_confirmed"] for e in attempts] == [2, 2, 2]

    number = digits(OUTPATIENT)
    calls = [c for c in gateway.calls() if c["number"].endswith(number)]
    received = [tiff_pages(Path(c["dir"]) / "pages.tif") for c in calls]
    document = [p.pixels for p in render_pdf(pdf, resolution=Resolution.FINE)]
    strip = header_rows(Resolution.FINE)
    # Each call delivered one new document page after its (continuation) cover sheet.
    delivered = [pages[1] for pages in received]
    for got, expected in zip(delivered, document, strict=True):
        assert np.array_equal(got[strip:], expected[strip:])
    # The continuation cover sheets differ from the first one: they say which pages follow.
    assert not np.array_equal(received[0][0][strip:], received[1][0][strip:])


# Class 2 (SP-2388): the simulated firmware has no ECM; 2.0 and 2.1 do it in the DCE.
@pytest.mark.parametrize("gateway", ["1", "2.0", "2.1"], indirect=True, ids=lambda c: f"class{c}")
def test_training_failure_at_high_rates_falls_back_and_ecm_mmr_is_used_when_offered(
    gateway: Gateway, tmp_path: Path
) -> None:
    """A remote that fails training above 9600 bit/s gets the fax at 9600; one offering ECM
    and T.6 gets MMR pages in ECM."""
    gateway.start_simulator(
        profiles={
            digits(MUNICIPALITY): {"ftt_above": 9600},
            digits(OUTPATIENT): {"ecm": True, "t6": True},
        }
    )
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "a.pdf", 2, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)
    log = {e["recipient"]: e for e in gateway.log()}
    assert log[MUNICIPALITY]["outcome"] == "confirmed" and log[MUNICIPALITY]["bit_rate"] == 9600
    assert log[OUTPATIENT]["outcome"] == "confirmed" and log[OUTPATIENT]["bit_rate"] == 14400
    calls = {c["number"][-len(digits(OUTPATIENT)) :]: c for c in gateway.calls()}
    assert calls[digits(OUTPATIENT)]["ecm"] is True and calls[digits(OUTPATIENT)]["coding"] == "MMR"
    assert calls[digits(MUNICIPALITY)]["ecm"] is False


@ALL_CLASSES
def test_a_busy_number_is_tried_up_to_the_limit_then_left_for_follow_up(gateway: Gateway, tmp_path: Path) -> None:
    """Busy every time: three tries, then the job fails with the reason; the other recipient is unaffected."""
    gateway.start_simulator(profiles={digits(MUNICIPALITY): {"answer": "busy"}})
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "b.pdf", 1, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.failed", timeout=120)
    daemon.wait_for(r"event=job\.sent", timeout=60)
    busy = [e for e in gateway.log() if e["recipient"] == MUNICIPALITY]
    assert [e["outcome"] for e in busy] == ["busy"] * 3
    assert "gave up after 3 attempts" in busy[-1]["reason"]
    assert [j["recipient"] for j in gateway.status()["failed_jobs"]] == [MUNICIPALITY]


#: A fault the municipality's remote (or our modem, on calls to it) plays on every call ->
#: the outcome each of the job's three attempts must get.
EVERY_CALL = {
    "no-answer": ({"answer": "no_answer"}, "no_answer"),
    "page-rejected": ({"bit_errors": 40}, "page_rejected"),  # RTN for every copy of every page
    "modem-stops-answering": ({"wedge_after_page": 1, "wedge_seconds": 1.0}, "modem_error"),
}


@pytest.mark.parametrize("fault", list(EVERY_CALL))
@ALL_CLASSES
def test_a_fault_on_every_call_is_retried_to_the_limit_and_touches_only_its_job(
    gateway: Gateway, tmp_path: Path, fault: str
) -> None:
    """No answer, every page rejected, or the modem going silent after the first page: three
    attempts with that outcome and no page confirmed, then the job fails; the other
    recipient's job is confirmed through the same modem."""
    profile, outcome = EVERY_CALL[fault]
    if fault == "modem-stops-answering":
        # A Class 2 driver waits phase_timeout_seconds (60 s by default) for the modem's answer
        # after a page: a site profile shortens it, so three attempts fit the test's time.
        (gateway.root / "profiles").mkdir()
        (gateway.root / "profiles" / "quick.toml").write_text("[class2]\nphase_timeout_seconds = 5\n")
        gateway.extra_config = 'profile = "quick"\nprofile_dir = "profiles"\n'
    gateway.start_simulator(profiles={digits(MUNICIPALITY): profile})
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "f.pdf", 2, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.failed", timeout=180)
    daemon.wait_for(r"event=job\.sent", timeout=60)
    log = gateway.log()
    failing = [e for e in log if e["recipient"] == MUNICIPALITY]
    assert [(e["outcome"], e["pages_confirmed"]) for e in failing] == [(outcome, 0)] * 3, failing
    assert "gave up after 3 attempts" in failing[-1]["reason"]
    other = [e for e in log if e["recipient"] == OUTPATIENT]
    assert [(e["outcome"], e["pages_confirmed"], e["pages_total"]) for e in other] == [("confirmed", 3, 3)]
    assert [j["recipient"] for j in gateway.status()["failed_jobs"]] == [MUNICIPALITY]
