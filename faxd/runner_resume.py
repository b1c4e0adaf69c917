"""Resume only to the same machine (issue 13): a continuation, or the whole document again.

After a call broke off, the retry normally sends a continuation: a cover sheet that says
which pages follow, then the pages the remote did not confirm. That is only right if the
retry reaches the machine that holds the first part. Two things can make it another one:

- the directory changed the unit's number between the attempts: known before dialling,
  so the whole document is sent at once, with a cover sheet that says why;
- another station answers the same number (a replaced machine, a number moved to another
  unit): known only once the remote has sent its CSI. The continuation call therefore
  expects the CSI that confirmed the earlier pages, under the strict check, which ends
  the call with DCN before page one (T.30 5.3.6.1.8; Class 1 engine and Class 2 driver
  alike) if another station answers. The runner then starts the document again in full
  and queues it at once; the next call sends every page from page one.

Why end the call rather than switch to the full document within it: the pages of a call
are fixed before dialling (rendered into the attempt's archive, which is what the auditor
sees went on the line), and the cover sheet that announces a full resend is one of them;
the drivers and the engine (owned elsewhere) would need a new hook between CSI and page
one for every class. One more call, made only when a machine changed mid-document, is a
small price for keeping "the archive is what went on the line" true.

If the earlier call's CSI is unknown (the daemon died during that call, before its end was
recorded, or the remote sent none), only the number is compared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import structlog

from drivers.modem import StationCheck
from drivers.t30.negotiation import same_station
from faxd.store import Job, Store
from routing.directory import Unit

log = structlog.get_logger("faxd.runner")


class ResendReason(enum.StrEnum):
    """Why the whole document goes again; stored with the job and in the confirmation log."""

    NUMBER_CHANGED = "number_changed"
    STATION_CHANGED = "station_changed"

    @property
    def notice(self) -> str:
        """The cover sheet's line (Swedish, like the sheet); about numbers, never the patient."""
        where = {
            ResendReason.NUMBER_CHANGED: "ett annat faxnummer",
            ResendReason.STATION_CHANGED: "en annan faxmottagare (annat stations-id)",
        }[self]
        return f"Hela handlingen skickas igen från sida 1: en tidigare del gick till {where}."


def notice_for(reason: str | None) -> str | None:
    """The cover line for a job's stored ``resend_reason`` (None: no notice)."""
    try:
        return ResendReason(reason).notice if reason else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class CallPlan:
    """How the next call of a job goes: from which page, which station it must reach."""

    first_page: int  # 0-based document page after the cover sheet; > 0 is a continuation
    expected_remote_id: str | None
    station_check: StationCheck
    resend_reason: str | None  # a ResendReason value on a full send after a restart, else None
    # The CSI that confirmed the earlier pages; a continuation must reach that station.
    guard_station: str | None = None

    @property
    def notice(self) -> str | None:
        """The cover sheet's "sent again in full" line, or None."""
        return notice_for(self.resend_reason)


def plan_call(store: Store, job: Job, unit: Unit, number: str, check: StationCheck) -> CallPlan:
    """Returns the plan for ``job``'s next call to ``number`` (the dial string of ``unit``'s
    current entry). Starts the document again in full (recorded in the log) when the number
    differs from the one that got the earlier pages, or the directory now expects another
    station than the one that confirmed them."""
    full = CallPlan(0, unit.station_id, check, job.resend_reason)
    if job.pages_done == 0:
        return full
    earlier = store.earlier_delivery(job.id)
    if earlier is None:
        return CallPlan(job.pages_done, unit.station_id, check, None)
    reason: ResendReason | None = None
    if earlier.number != number:
        reason = ResendReason.NUMBER_CHANGED
    elif unit.station_id and earlier.remote_id and not same_station(unit.station_id, earlier.remote_id):
        reason = ResendReason.STATION_CHANGED
    if reason is not None:
        store.restart_in_full(job, reason.value, earlier=earlier, now={"number": number})
        log.warning("job.resend_in_full", reason=reason.value, pages_confirmed_earlier=job.pages_done)
        return CallPlan(0, unit.station_id, check, reason.value)
    if earlier.remote_id:
        return CallPlan(job.pages_done, earlier.remote_id, StationCheck.STRICT, None, guard_station=earlier.remote_id)
    return CallPlan(job.pages_done, unit.station_id, check, None)
