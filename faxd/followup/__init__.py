"""Follow-up of what never arrived: the printable package and the notice to the sender
(``settle``), the pages they are made of (``pages``, ``package``)."""

from __future__ import annotations

from faxd.followup.settle import NOTICE_TYPE, FollowUp, Settled

__all__ = ["NOTICE_TYPE", "FollowUp", "Settled"]
