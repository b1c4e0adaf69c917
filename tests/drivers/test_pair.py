"""The T.30 sender against the simulator's answering fax, in process (``tests/harness/pair.py``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.page import FaxPage
from drivers.simulator.profiles import RemoteProfile
from drivers.t30 import T30Sender
from drivers.t30.events import CallOutcome
from tests.drivers.pages import random_boxes
from tests.harness.pair import CallPair

OUR_TSI = "+46 40 628 04 00"
PAGES = [FaxPage(random_boxes(seed, 400)) for seed in (1, 2, 3)]


def _pair(profile: RemoteProfile, pages: list[FaxPage] = PAGES, **engine: object) -> CallPair:
    sender = T30Sender(local_id=OUR_TSI, page_count=len(pages), **engine)  # type: ignore[arg-type]
    return CallPair(sender, pages, profile)


def _same_pages(received: tuple[np.ndarray, ...], sent: list[FaxPage]) -> bool:
    return len(received) == len(sent) and all(np.array_equal(r, s.pixels) for r, s in zip(received, sent, strict=True))


def test_a_plain_call_delivers_every_page_as_sent() -> None:
    """Without ECM: CSI/DIS, TSI/DCS, TCF, CFR, then each page confirmed; the remote holds the same pixels."""
    result = _pair(RemoteProfile()).run()
    assert result.disconnect.outcome is CallOutcome.CONFIRMED
    assert result.transcript[:4] == ("remote: CSI DIS", "caller: TSI DCS", "caller: TCF 14400", "remote: CFR")
    assert result.confirmed == (0, 1, 2)
    assert _same_pages(result.received.pages, PAGES)
    assert result.received.remote_tsi == OUR_TSI


def test_rtn_resends_the_page_and_ftt_falls_back() -> None:
    """FTT above 9600 makes the sender train lower; RTN on page 2 makes it send page 2 again."""
    result = _pair(RemoteProfile(ftt_above=9600, rtn_pages=frozenset({2}))).run()
    assert result.disconnect.outcome is CallOutcome.CONFIRMED
    assert result.received.bit_rate is not None and result.received.bit_rate <= 9600
    assert result.transcript.count("caller: page 2 MH") == 2
    assert result.received.page_outcomes == {"mcf": 3, "rtn": 1}
    assert _same_pages(result.received.pages, PAGES)


def test_ecm_repairs_lost_frames_with_ppr() -> None:
    """With ECM and MMR, frames lost in each block are asked for again (PPR) and the pages arrive whole."""
    profile = RemoteProfile(ecm=True, t6=True, two_d=True, ecm_lost_frames=frozenset({1, 4}))
    result = _pair(profile).run()
    assert result.disconnect.outcome is CallOutcome.CONFIRMED
    assert result.received.ecm and result.received.coding == "MMR"
    assert result.received.frames_resent >= 2
    assert "remote: PPR" in result.transcript
    assert _same_pages(result.received.pages, PAGES)


def test_dcn_after_the_first_page_keeps_that_page_confirmed() -> None:
    """A remote that hangs up after page 1 ends the call as remote_disconnected with page 1 confirmed."""
    result = _pair(RemoteProfile(dcn_after_page=1)).run()
    assert result.disconnect.outcome is CallOutcome.REMOTE_DISCONNECTED
    assert result.confirmed == (0,)
    assert len(result.received.pages) == 1


def test_a_wrong_station_gets_no_page() -> None:
    """Station check strict: a CSI other than the expected one ends the call before page 1."""
    result = _pair(RemoteProfile(csi="031 390 06 99"), expected_remote_id="040 628 04 99").run()
    assert result.disconnect.outcome is CallOutcome.STATION_MISMATCH
    assert result.confirmed == ()
    assert result.received.pages == ()


@settings(max_examples=15, deadline=None)
@given(
    rtn=st.frozensets(st.integers(1, 2), max_size=2),
    ftt_above=st.sampled_from([None, 9600, 4800]),
    ecm=st.booleans(),
    bad_fcs=st.frozensets(st.sampled_from(["DIS", "CFR", "MCF"]), max_size=2),
)
def test_any_scripted_line_ends_cleanly_and_confirmed_pages_arrived(
    rtn: frozenset[int], ftt_above: int | None, ecm: bool, bad_fcs: frozenset[str]
) -> None:
    """Whatever the remote scripts, the call ends in Disconnect, and every page the sender
    recorded as confirmed is one the remote accepted, pixel for pixel."""
    pages = PAGES[:2]
    profile = RemoteProfile(rtn_pages=rtn, ftt_above=ftt_above, ecm=ecm, t6=ecm, bad_fcs=bad_fcs)
    result = _pair(profile, pages).run()
    assert result.disconnect.outcome in set(CallOutcome)
    assert list(result.confirmed) == list(range(len(result.confirmed)))
    assert _same_pages(result.received.pages[: len(result.confirmed)], pages[: len(result.confirmed)])
    if not rtn and not ftt_above and not bad_fcs:
        assert result.disconnect.outcome is CallOutcome.CONFIRMED
