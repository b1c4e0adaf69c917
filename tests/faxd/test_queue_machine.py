"""The durable queue as a hypothesis state machine (issue 13): drops, duplicate drops,
claims, jobs taken and finished, and crashes at the two places a kill leaves work behind
(a file claimed into work/ but not recorded; a job active in a call), then recovery, in
any order. Invariants after every step: nothing lost, nothing doubled; after recovery no
job is left active; at the end every document has reached a final state once."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from faxd.store import now_utc
from spool import queue
from spool.queue import sha256_of
from tests.faxd.site import WARD, Site

FINAL_JOB_STATES = {"confirmed", "failed"}


def document_bytes(number: int, pages: int) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for page in range(1, pages + 1):
        c.drawString(72, 760, "Testformulär")
        c.drawString(72, 740, f"dokument {number} sida {page}")
        c.showPage()
    c.save()
    return buf.getvalue()


class DurableQueue(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="queue-machine-")
        self.site = Site(Path(self._tmp.name), max_attempts=3)
        self.drops: Counter[str] = Counter()  # sha256 -> times dropped (originals and copies)
        self.originals: list[tuple[bytes, str]] = []  # (pdf, sidecar) of each distinct document
        self.names = 0

    def teardown(self) -> None:
        self.site.intake.close()
        self.site.runner.close()
        self.site.store.close()
        self._tmp.cleanup()

    # -- what arrives ---------------------------------------------------------------------

    def _put(self, pdf: bytes, sidecar: str) -> None:
        self.names += 1
        name = f"drop-{self.names:03d}.pdf"
        incoming = self.site.folders.incoming
        (incoming / f"{name}.json").write_text(sidecar)
        (incoming / name).write_bytes(pdf)
        self.drops[sha256_of(incoming / name)] += 1

    @rule(pages=st.integers(1, 2))
    def drop(self, pages: int) -> None:
        """A new document: an admission notice to two units."""
        pdf = document_bytes(len(self.originals), pages)
        sidecar = json.dumps(
            {
                "FaxdType": "inskrivningsinformation",
                "FaxdSender": WARD,
                "FaxdMunicipality": "kommun-lund",
                "FaxdOutpatient": "vc-lund-norra",
                "FaxdReference": f"Q-{len(self.originals)}",
            }
        )
        self.originals.append((pdf, sidecar))
        self._put(pdf, sidecar)

    @precondition(lambda self: self.originals)
    @rule(data=st.data())
    def drop_again(self, data: st.DataObject) -> None:
        """The same document (bytes and routing fields) dropped again, as a retrying care system does."""
        pdf, sidecar = data.draw(st.sampled_from(self.originals))
        self._put(pdf, sidecar)

    # -- what the daemon does ---------------------------------------------------------------

    def _incoming(self) -> list[Path]:
        return sorted(p for p in self.site.folders.incoming.glob("*.pdf"))

    @precondition(lambda self: any(self.site.folders.incoming.glob("*.pdf")))
    @rule(data=st.data())
    def take(self, data: st.DataObject) -> None:
        """Claim, inspect, route and record one waiting file."""
        self.site.intake.take(data.draw(st.sampled_from(self._incoming())))

    @precondition(lambda self: any(self.site.folders.incoming.glob("*.pdf")))
    @rule(data=st.data())
    def crash_after_claim(self, data: st.DataObject) -> None:
        """Killed right after the claim's rename: the file is in work/, recorded nowhere."""
        assert queue.claim(self.site.folders, data.draw(st.sampled_from(self._incoming()))) is not None

    @rule()
    def send_one(self) -> None:
        """A runner takes the most urgent due job and finishes it (the fake modem confirms)."""
        self.site.runner.run_once()

    @rule()
    def crash_mid_call(self) -> None:
        """Killed during a call: a job is active with an attempt open."""
        job = self.site.store.claim_next_job("fake0", now_utc())
        if job is not None:
            self.site.store.start_attempt(job, "fake0", job.number, 2, now_utc())

    @rule()
    def restart(self) -> None:
        """The daemon starts again: interrupted jobs back to the queue, work/ looked at, incoming/ rescanned."""
        self.site.store.recover_interrupted(now_utc())
        self.site.intake.recover()
        states = {j["state"] for j in self.site.store.jobs()}
        assert "active" not in states, "a job was left active after recovery"
        with self.site.store.transaction() as conn:
            assert conn.execute("SELECT COUNT(*) FROM attempts WHERE ended IS NULL").fetchone()[0] == 0

    # -- invariants -------------------------------------------------------------------------

    def _recorded(self) -> list[tuple[str, str, str, str | None]]:
        with self.site.store.transaction() as conn:
            return conn.execute("SELECT id, sha256, state, reason FROM documents").fetchall()

    @invariant()
    def nothing_lost(self) -> None:
        """Every drop is a file waiting in incoming/, an unrecorded file in work/, or a recorded document."""
        recorded = self._recorded()
        ids = {row[0] for row in recorded}
        found: Counter[str] = Counter(sha for _, sha, _, _ in recorded)
        for path in self._incoming():
            found[sha256_of(path)] += 1
        for path in self.site.folders.work.glob("*.pdf"):
            if path.name.removesuffix(".pdf") not in ids:
                found[sha256_of(path)] += 1
        assert found == self.drops

    @invariant()
    def nothing_doubled(self) -> None:
        """One document per content is routed (copies are set aside as duplicates), and no
        recipient got a document twice."""
        routed = Counter(sha for _, sha, state, _ in self._recorded() if state != "quarantined")
        assert all(count == 1 for count in routed.values()), routed
        with self.site.store.transaction() as conn:
            confirmed = conn.execute(
                "SELECT d.sha256, j.recipient, COUNT(*) FROM jobs j JOIN documents d ON d.id = j.document_id"
                " WHERE j.state = 'confirmed' GROUP BY d.sha256, j.recipient HAVING COUNT(*) > 1"
            ).fetchall()
        assert confirmed == []
        copies = [reason for _, _, state, reason in self._recorded() if state == "quarantined"]
        assert all(reason and "duplicate" in reason.lower() for reason in copies), copies

    def finish(self) -> None:
        """Restart, take everything waiting, send everything: every drop is accounted for."""
        self.restart()
        while self._incoming():
            self.site.intake.take(self._incoming()[0])
        self.site.run_all()
        self.restart()
        assert not list(self.site.folders.work.glob("*.pdf"))
        states = Counter(state for _, _, state, _ in self._recorded())
        assert set(states) <= {"done", "quarantined"}, states
        assert states["done"] == len(self.originals)
        assert {j["state"] for j in self.site.store.jobs()} <= FINAL_JOB_STATES
        self.nothing_lost()
        self.nothing_doubled()


class FinishingQueue(DurableQueue):
    def teardown(self) -> None:
        try:
            self.finish()
        finally:
            super().teardown()


TestDurableQueue = FinishingQueue.TestCase
TestDurableQueue.settings = settings(
    max_examples=15,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
