"""The defects the hostile run found, one test each where the corpus does not already
pin it down, and garbage fed to the parsers (hypothesis): the only outcomes are
"accepted" and "quarantined with a reason"."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxd.audit.wiring import signing_chain
from faxd.config import load_config
from faxd.daemon import DirectoryHolder
from faxd.intake import Intake
from faxd.store import Store
from spool.folders import SpoolFolders
from spool.inspection import DocumentFacts, DocumentRejected, inspect
from spool.inspector import Inspector
from spool.queue import REASON_MAX, claim
from tests.faxd.keys import audit_config, ensure_keys
from tests.hostile import pdfbytes as pb
from tests.hostile.corpus import GOOD_PDF

ROOT = Path(__file__).resolve().parents[2]
CONFIG = (
    '[paths]\nspool = "spool"\nstate = "state"\ndirectory = "directory.csv"\n'
    '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "Test"\ncallback = "040-628 04 00"\n'
    '[outage]\nwhen_not_declared = "send"\n[[modem]]\nname = "m0"\ndevice = "/dev/null"\n'
)


class Spool:
    def __init__(self, base: Path) -> None:
        shutil.copy(ROOT / "examples" / "directory.csv", base / "directory.csv")
        (base / "faxd.toml").write_text(CONFIG + audit_config(base))
        ensure_keys(base)
        self.config = load_config(base / "faxd.toml")
        self.folders = SpoolFolders(self.config.spool)
        self.folders.create()
        self.store = Store(self.config.database, signing_chain(self.config))
        self.intake = Intake(self.config, self.store, self.folders, DirectoryHolder(base / "directory.csv").current)


@pytest.fixture(scope="module")
def spool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spool]:
    site = Spool(tmp_path_factory.mktemp("defects"))
    yield site
    site.intake.close()


def test_a_file_still_open_for_writing_is_not_claimed_until_closed(spool: Spool) -> None:
    """A writer that has not closed the file yet keeps it: the claim waits for the close."""
    path = spool.folders.incoming / "slow-writer.pdf"
    with path.open("wb") as writer:
        writer.write(GOOD_PDF[:100])
        writer.flush()
        assert claim(spool.folders, path) is None
        assert path.exists()
        writer.write(GOOD_PDF[100:])
    result = spool.intake.take(path)
    assert result is not None and result.job_ids, result


def test_a_pipe_left_in_work_does_not_block_recovery(spool: Spool) -> None:
    """After a kill -9 with a FIFO claimed into work/, recovery quarantines it, unblocked."""
    fifo = spool.folders.work / "D20260101T000000-abcdef.pdf"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert spool.intake.recover().set_aside == 1
    assert time.monotonic() - started < 10
    assert not os.path.lexists(fifo)
    reason = (spool.folders.quarantine / "D20260101T000000-abcdef.pdf.reason").read_text()
    assert "named pipe" in reason


def test_a_sidecar_pipe_does_not_block_the_intake(spool: Spool) -> None:
    """The defect: a FIFO named like a sidecar hung open() for good."""
    os.mkfifo(spool.folders.incoming / "piped.pdf.json")
    (spool.folders.incoming / "piped.pdf").write_bytes(GOOD_PDF)
    result = spool.intake.take(spool.folders.incoming / "piped.pdf")
    assert result is not None and result.quarantine_reason and "named pipe" in result.quarantine_reason


def test_a_bomb_in_the_inspector_is_stopped_by_its_memory_limit(tmp_path: Path) -> None:
    """A child under a small memory limit dies on a big document; the verdict says so."""
    bomb = tmp_path / "big.pdf"
    # 40 MB of page content: within pypdf's own output limit, above a 16 MB memory limit.
    bomb.write_bytes(
        pb.pdf(
            [
                pb.CATALOG,
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                pb.stream(pb.flate_zeros(60 << 20), b" /Filter /FlateDecode"),
            ]
        )
    )
    with Inspector(max_memory_mb=16) as inspector:
        with pytest.raises(DocumentRejected, match="memory|limit"):
            inspector.inspect(bomb, None, max_bytes=50 << 20, max_pages=10)
        # The next document gets a fresh child.
        good = tmp_path / "good.pdf"
        good.write_bytes(GOOD_PDF)
        assert inspector.inspect(good, None, max_bytes=50 << 20, max_pages=10).pages == 1


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for position, cut, insert in edits:
        at = position % (len(out) + 1)
        out[at : at + cut] = insert
    return bytes(out)


garbage = st.one_of(
    st.binary(max_size=4000).map(lambda b: b"%PDF-1.7\n" + b),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 64), st.binary(max_size=32)), min_size=1, max_size=8).map(
        lambda edits: _mutate(GOOD_PDF, edits)
    ),
    st.integers(1, len(GOOD_PDF) - 1).map(lambda n: GOOD_PDF[:n]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=garbage)
def test_the_reader_on_garbage_accepts_or_refuses_with_a_reason(tmp_path: Path, data: bytes) -> None:
    """spool.inspection.inspect, fed mangled PDFs: DocumentFacts or DocumentRejected, nothing else."""
    path = tmp_path / "g.pdf"
    path.write_bytes(data)
    try:
        facts = inspect(path, None, max_bytes=1 << 20, max_pages=50)
    except DocumentRejected as exc:
        assert str(exc).strip()
    else:
        assert isinstance(facts, DocumentFacts) and facts.pages >= 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=garbage, sidecar=st.one_of(st.none(), st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_the_intake_on_garbage_routes_or_quarantines_with_a_reason(
    spool: Spool, data: bytes, sidecar: bytes | None
) -> None:
    """The whole intake (claim, isolated reader, sidecar, routing, database): accepted or
    quarantined with a short one-line reason; never an exception, never left in work/."""
    path = spool.folders.incoming / "garbage.pdf"
    if sidecar is not None:
        (spool.folders.incoming / "garbage.pdf.json").write_bytes(sidecar)
    path.write_bytes(data)
    result = spool.intake.take(path)
    assert result is not None
    if result.quarantine_reason is None:
        assert result.job_ids
    else:
        reason = result.quarantine_reason
        assert reason and len(reason) <= REASON_MAX and reason.isprintable()
        assert not os.path.lexists(spool.folders.work / f"{result.document_id}.pdf")
