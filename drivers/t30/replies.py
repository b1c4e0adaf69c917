"""The calling station's choice among the remote's replies, as data (T.30 Figure 5-2, Annex A).

Each table maps the reply to one command (``None``: no valid reply before the timer ran
out) to a ``Reply``: whether it confirms the page (or ECM block), what the sender does
next, and the outcome when the call ends there. The handlers in ``phase_b``, ``phase_d``
and ``ecm`` look the reply up and carry out its ``Step``; they hold no choice of their
own. ``replies_markdown`` renders the tables into ``drivers/t30/REPLIES.md``, which a test
keeps in step, so a reader can hold them against T.30 without reading code.

A reply not in a table is a protocol error of the remote: DCN, ``PROTOCOL_ERROR``.

DIS in reply to MPS/EOP or PPS is faxd's own choice: HylaFAX (E134 "unknown frame received")
and SpanDSP's sender end the call there. But a receiver sends DIS there only because it
missed the command, its T2 ran out and it went back to phase B waiting for DCS (SpanDSP's
receiver does exactly that on a noisy line), so DCS + TCF and the unconfirmed page again
is the one way the call can still succeed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from drivers.t30.events import CallOutcome
from drivers.t30.frames import FCF


class Step(enum.Enum):
    """What the sender does after a reply; the value is the words the page shows."""

    START_PAGES = "phase C: send the page (ECM: its first block)"
    STEP_DOWN = "next lower rate (fallback order), TSI + DCS + TCF again; below the floor: end"
    REPEAT = "send the same command again after T4, at most 3 times in all (T.30 5.3.2)"
    LISTEN_ON = (
        "listen on until 7 s after TCF (the remote may be waiting out its T2), then the next lower rate "
        "(at the floor: the same); the 3rd silent training in a row: end"
    )
    NEXT = "next page (after the last: DCN)"
    RETRAIN_NEXT = "TSI + DCS + TCF (lower rate if the policy steps down on RTP), then the next page"
    RESEND_LOWER = "step down one rate, TSI + DCS + TCF, the same page again; after too many: end"
    RESEND_SAME = "TSI + DCS + TCF at the same rate, the whole page again; the 3rd DIS for one page: end"
    NEXT_BLOCK = "next block, next page, or DCN after the last"
    RESEND_FRAMES = "send the frames it lists again, then PPS; the 4th PPR: CTC one rate lower, or EOR"
    POLL = "RR until the remote is ready, for at most T5 (60 s) from the first RNR"
    CORRECT_LOWER = "send the missing frames at the rate CTC named, with long training"
    GIVE_UP_BLOCK = "carry on with the next block or page; the page stays unconfirmed"
    OPERATOR = "the remote wants an operator, faxd has none: DCN"
    HUNG_UP = "the remote hung up: no DCN back"


@dataclass(frozen=True, slots=True)
class Reply:
    step: Step
    confirms: bool = False  # the page (ECM: the block) counts as received
    outcome: CallOutcome | None = None  # how the call ends, when this step ends it
    clause: str = ""  # where T.30 says so


@dataclass(frozen=True, slots=True)
class ReplyTable:
    command: str  # what the reply answers
    clause: str
    replies: Mapping[FCF | None, Reply]

    def get(self, fcf: FCF | None) -> Reply | None:
        return self.replies.get(fcf)


def _table(command: str, clause: str, replies: dict[FCF | None, Reply]) -> ReplyTable:
    return ReplyTable(command, clause, MappingProxyType(replies))


_HUNG_UP = Reply(Step.HUNG_UP, outcome=CallOutcome.REMOTE_DISCONNECTED, clause="5.3.6.1.8")
_REPEAT = Reply(Step.REPEAT, outcome=CallOutcome.PROTOCOL_ERROR, clause="5.3.2, 5.4.3.1 T4")

#: Phase B: the reply to TSI + DCS + TCF.
TRAINING = _table(
    "DCS + TCF",
    "T.30 5.3.2.2, Figure 5-2",
    {
        FCF.CFR: Reply(Step.START_PAGES, clause="5.3.2.2"),
        FCF.FTT: Reply(Step.STEP_DOWN, outcome=CallOutcome.TRAINING_FAILED, clause="5.3.2.2"),
        FCF.DIS: Reply(Step.REPEAT, outcome=CallOutcome.TRAINING_FAILED, clause="5.3.2 (DCS not received)"),
        FCF.CRP: Reply(Step.REPEAT, outcome=CallOutcome.TRAINING_FAILED, clause="5.3.6.1.6"),
        FCF.DCN: _HUNG_UP,
        None: Reply(Step.LISTEN_ON, outcome=CallOutcome.TRAINING_FAILED, clause="5.3.2, T4; receiver's T2"),
    },
)

#: Phase D without ECM: the reply to MPS or EOP.
POST_PAGE = _table(
    "MPS / EOP",
    "T.30 5.3.6.1.4, 5.3.6.1.5, Figure 5-2",
    {
        FCF.MCF: Reply(Step.NEXT, confirms=True, outcome=CallOutcome.CONFIRMED, clause="5.3.6.1.5"),
        FCF.RTP: Reply(Step.RETRAIN_NEXT, confirms=True, outcome=CallOutcome.CONFIRMED, clause="5.3.6.1.5"),
        FCF.RTN: Reply(Step.RESEND_LOWER, outcome=CallOutcome.PAGE_REJECTED, clause="5.3.6.1.5"),
        # The remote missed MPS/EOP, its T2 ran out and it went back to phase B (DIS).
        FCF.DIS: Reply(Step.RESEND_SAME, outcome=CallOutcome.PROTOCOL_ERROR, clause="Figure 5-2b (receiver's T2)"),
        FCF.PIP: Reply(Step.OPERATOR, confirms=True, outcome=CallOutcome.REMOTE_DISCONNECTED, clause="5.3.6.1.5"),
        FCF.PIN: Reply(Step.OPERATOR, outcome=CallOutcome.REMOTE_DISCONNECTED, clause="5.3.6.1.5"),
        FCF.CRP: _REPEAT,
        FCF.DCN: _HUNG_UP,
        None: _REPEAT,
    },
)

#: Phase D with ECM: the reply to PPS (or to RR while the remote was not ready).
PARTIAL_PAGE = _table(
    "PPS (or RR)",
    "T.30 Annex A.4.3-A.4.5",
    {
        FCF.MCF: Reply(Step.NEXT_BLOCK, confirms=True, outcome=CallOutcome.CONFIRMED, clause="A.4.3"),
        FCF.PPR: Reply(Step.RESEND_FRAMES, clause="A.4.3, A.4.4"),
        FCF.RNR: Reply(Step.POLL, outcome=CallOutcome.PROTOCOL_ERROR, clause="A.4.5, T5"),
        # The remote missed PPS, its T2 ran out and it went back to phase B: the whole page.
        FCF.DIS: Reply(Step.RESEND_SAME, outcome=CallOutcome.PROTOCOL_ERROR, clause="Figure 5-2b (receiver's T2)"),
        FCF.PIP: Reply(Step.OPERATOR, confirms=True, outcome=CallOutcome.REMOTE_DISCONNECTED, clause="5.3.6.1.5"),
        FCF.PIN: Reply(Step.OPERATOR, outcome=CallOutcome.REMOTE_DISCONNECTED, clause="5.3.6.1.5"),
        FCF.CRP: _REPEAT,
        FCF.DCN: _HUNG_UP,
        None: _REPEAT,
    },
)

#: Phase D with ECM: the reply to CTC (continue to correct at a lower rate).
CONTINUE_TO_CORRECT = _table(
    "CTC",
    "T.30 Annex A.4.4",
    {
        FCF.CTR: Reply(Step.CORRECT_LOWER, clause="A.4.4"),
        FCF.RNR: Reply(Step.POLL, outcome=CallOutcome.PROTOCOL_ERROR, clause="A.4.5"),
        FCF.CRP: _REPEAT,
        FCF.DCN: _HUNG_UP,
        None: _REPEAT,
    },
)

#: Phase D with ECM: the reply to EOR (the block is given up).
END_OF_RETRANSMISSION = _table(
    "EOR",
    "T.30 Annex A.4.4",
    {
        FCF.ERR: Reply(Step.GIVE_UP_BLOCK, outcome=CallOutcome.PAGE_REJECTED, clause="A.4.4"),
        FCF.RNR: Reply(Step.POLL, outcome=CallOutcome.PROTOCOL_ERROR, clause="A.4.5"),
        FCF.CRP: _REPEAT,
        FCF.DCN: _HUNG_UP,
        None: _REPEAT,
    },
)

TABLES: tuple[ReplyTable, ...] = (TRAINING, POST_PAGE, PARTIAL_PAGE, CONTINUE_TO_CORRECT, END_OF_RETRANSMISSION)


def replies_markdown() -> str:
    """Returns the reply tables as the markdown page ``drivers/t30/REPLIES.md``."""
    lines = [
        "# What the faxd sender does with each reply",
        "",
        "Generated from `drivers/t30/replies.py` by `replies_markdown()`; a test keeps this page",
        "in step with the code. One table per command the calling station sends; hold them",
        "against T.30 Figure 5-2 and Annex A. A reply not listed is a protocol error of the",
        'remote (DCN, `protocol_error`). "(none)" is no valid reply before the timer ran out.',
        "",
    ]
    for table in TABLES:
        lines += [f"## Reply to {table.command} ({table.clause})", ""]
        lines += [
            "| reply | page confirmed | what the sender does | outcome if the call ends here | T.30 |",
            "|---|---|---|---|---|",
        ]
        for fcf, reply in table.replies.items():
            name = fcf.name if fcf is not None else "(none)"
            confirmed = "yes" if reply.confirms else "no"
            outcome = f"`{reply.outcome.value}`" if reply.outcome is not None else ""
            lines.append(f"| {name} | {confirmed} | {reply.step.value} | {outcome} | {reply.clause} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
