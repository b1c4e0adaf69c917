"""Verification of the signed confirmation log against every way an attacker with write
access to the state folder could alter it, and on an intact log."""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import structlog

from drivers.modem import CallResult, Outcome
from faxd.audit import Break, Chain, Verification, generate, load_signer
from faxd.audit.chain import message
from faxd.audit.cli import run_verify
from faxd.cli import main as faxctl
from tests.faxd.site import Site, admission


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A site whose log holds documents, a busy try, a retry and confirmed pages."""
    site = Site(tmp_path, script=[CallResult(Outcome.BUSY, "the line was busy")], max_attempts=3)
    admission(site, "a.pdf")
    admission(site, "b.pdf")
    site.run_all()
    site.run_all()
    return site


def db(site: Site) -> sqlite3.Connection:
    return sqlite3.connect(site.config.database, isolation_level=None)


def verified(site: Site, **kw: str) -> Verification:
    return run_verify(site.config, **kw)


def first(result: Verification) -> tuple[Break, int | None]:
    assert not result.intact
    return result.breaks[0].kind, result.breaks[0].seq


def last_seq(site: Site) -> int:
    return int(db(site).execute("SELECT MAX(seq) FROM audit").fetchone()[0])


def test_an_intact_log_verifies_with_the_public_key_only(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """The untouched log passes, the published head matches its end, and faxctl says so with status 0."""
    result = verified(site)
    assert result.intact, result.problems
    assert result.entries == last_seq(site) == result.head_seq > 10
    assert faxctl(["--config", str(site.config.source), "audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    assert faxctl(["--config", str(site.config.source), "log", "--verify"]) == 0


def test_an_edited_entry_is_named(site: Site) -> None:
    """Changing a recorded field of entry 3 is reported as an edit of entry 3."""
    db(site).execute("UPDATE audit SET data = replace(data, '}', ',\"x\":1}') WHERE seq = 3")
    assert first(verified(site)) == (Break.EDITED, 3)


def test_a_deleted_entry_is_named(site: Site) -> None:
    """Removing entry 4 from the middle is reported as entry 4 deleted."""
    db(site).execute("DELETE FROM audit WHERE seq = 4")
    assert first(verified(site)) == (Break.DELETED, 4)


def test_an_inserted_entry_is_named(site: Site) -> None:
    """A forged entry slipped in at place 5 (the rest renumbered) is reported as inserted at 5."""
    conn = db(site)
    conn.execute("UPDATE audit SET seq = seq + 100000 WHERE seq >= 5")
    conn.execute("UPDATE audit SET seq = seq - 99999 WHERE seq > 100000")
    prev = conn.execute("SELECT sig FROM audit WHERE seq = 4").fetchone()[0]
    conn.execute(
        "INSERT INTO audit VALUES (5, '2026-01-01T00:00:00.000+00:00', 'page.confirmed', NULL, 'FX-1', '{}', ?, ?)",
        (prev, "ab" * 64),
    )
    assert first(verified(site)) == (Break.INSERTED, 5)


def test_reordered_entries_are_named(site: Site) -> None:
    """Two entries swapped in place are reported as moved at the first of them."""
    conn = db(site)
    rows = {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT seq, at, event, document_id, job_id, data, prev, sig FROM audit WHERE seq IN (6, 7)"
        )
    }
    for seq, other in ((6, 7), (7, 6)):
        conn.execute(
            "UPDATE audit SET at=?, event=?, document_id=?, job_id=?, data=?, prev=?, sig=? WHERE seq=?",
            (*rows[other], seq),
        )
    kind, seq = first(verified(site))
    assert (kind, seq) == (Break.REORDERED, 6)


def test_a_replayed_entry_is_named(site: Site) -> None:
    """A copy of an earlier entry added at the end is reported as a replay."""
    conn = db(site)
    end = last_seq(site)
    conn.execute(
        "INSERT INTO audit SELECT ?, at, event, document_id, job_id, data, prev, sig FROM audit WHERE seq = 3",
        (end + 1,),
    )
    result = verified(site)
    assert first(result) == (Break.REPLAYED, end + 1)
    assert "copy of entry 3" in result.breaks[0].detail


@pytest.mark.parametrize("dropped", [5, 65])
def test_truncation_of_the_newest_entries_is_caught_by_the_published_head(site: Site, dropped: int) -> None:
    """Dropping the newest entries leaves a chain that links, but the head file names them."""
    for n in range(4):
        admission(site, f"more-{n}.pdf")
    site.run_all()
    end = last_seq(site)
    assert end > 65
    db(site).execute("DELETE FROM audit WHERE seq > ?", (end - dropped,))
    result = verified(site)
    assert first(result) == (Break.TRUNCATED, end - dropped + 1)
    assert f"published entry {end}" in result.breaks[0].detail


def test_a_wiped_log_is_caught(site: Site) -> None:
    """Every entry deleted: the head file says entries existed."""
    db(site).execute("DELETE FROM audit")
    assert first(verified(site)) == (Break.WIPED, 1)


def test_a_dropped_table_is_caught(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """The log's table dropped: verification says so and exits non-zero, without a traceback."""
    db(site).execute("DROP TABLE audit")
    assert first(verified(site))[0] is Break.TABLE_MISSING
    assert faxctl(["--config", str(site.config.source), "audit", "verify", "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] is False and report["first_break"]["kind"] == "table_missing"


def test_an_edited_attempts_row_does_not_change_the_log_and_is_named(site: Site) -> None:
    """The busy attempt rewritten as confirmed in the attempts table: faxctl log still shows
    what the chain says, and verification names the row."""
    conn = db(site)
    busy = conn.execute("SELECT id FROM attempts WHERE outcome = 'busy'").fetchone()[0]
    conn.execute("UPDATE attempts SET outcome = 'confirmed', pages_confirmed = 2 WHERE id = ?", (busy,))
    result = verified(site)
    assert first(result)[0] is Break.STATE_DIFFERS
    assert any(f"attempts row {busy}: outcome is 'confirmed' but the log says 'busy'" in p for p in result.problems)
    shown = {e["attempt"]: e["outcome"] for e in site.store.confirmation_log()}
    assert shown[busy] == "busy"


def test_a_deleted_attempts_row_is_named(site: Site) -> None:
    """An attempt removed from the attempts table is reported as deleted from it."""
    conn = db(site)
    conn.execute("DELETE FROM attempts WHERE outcome = 'busy'")
    result = verified(site)
    assert first(result)[0] is Break.STATE_DIFFERS
    assert "deleted from the attempts table" in result.breaks[0].detail


def _resign(site: Site, chain: Chain, start: int) -> None:
    """What an attacker does with a key they control: rewrite entries from ``start`` on."""
    assert chain.signer is not None
    conn = db(site)
    rows = conn.execute("SELECT seq, at, event, document_id, job_id, data, prev, sig FROM audit ORDER BY seq")
    prev = None
    for seq, at, event, document_id, job_id, data, old_prev, _sig in rows.fetchall():
        if seq < start:
            prev = _sig
            continue
        if seq == start:
            data = data.replace("kommun-lund", "kommun-malmo")
        link = old_prev if prev is None else prev
        sig = chain.signer.sign(message(link, seq, at, event, document_id, job_id, data)).hex()
        conn.execute("UPDATE audit SET data = ?, prev = ?, sig = ? WHERE seq = ?", (data, link, sig, seq))
        prev = sig


def test_a_chain_resigned_with_a_key_from_the_state_folder_is_caught(site: Site) -> None:
    """An attacker makes a key pair in the state folder and rebuilds the chain from entry 3:
    the configured public key (outside the state folder) does not accept it."""
    rogue = site.config.state / "audit-signing.key"
    generate(rogue, site.config.state / "audit-public.pem")
    _resign(site, Chain(load_signer(rogue), None), 3)
    assert first(verified(site)) == (Break.RESIGNED, 3)


def test_the_database_and_head_file_rolled_back_together_are_caught_by_journal_checkpoints(
    site: Site, tmp_path: Path
) -> None:
    """The database and the head file restored from an old copy: the journal's
    audit.checkpoint lines still name the later head."""
    old_db, old_head = tmp_path / "old.sqlite3", tmp_path / "old-head"
    with closing(sqlite3.connect(old_db)) as backup, closing(db(site)) as live:
        live.backup(backup)
    head = site.config.audit.head_file
    assert head is not None
    shutil.copy(head, old_head)
    site.store.chain.checkpoint_every = 1
    with structlog.testing.capture_logs() as logs:
        admission(site, "later.pdf")
        site.run_all()
    journal = tmp_path / "journal.txt"
    journal.write_text(
        "".join(
            f"{e['event']} seq={e['seq']} signature={e['signature']}\n"
            for e in logs
            if e["event"] == "audit.checkpoint"
        )
    )
    site.store.close()
    gc.collect()  # connections a test left open close now, not after the copy below
    for suffix in ("-wal", "-shm"):
        Path(str(site.config.database) + suffix).unlink(missing_ok=True)
    shutil.copy(old_db, site.config.database)
    shutil.copy(old_head, head)
    assert verified(site).intact  # database and head file agree with each other ...
    result = verified(site, checkpoints=str(journal))  # ... but not with the journal
    assert first(result)[0] is Break.TRUNCATED


def test_the_database_alone_rolled_back_is_caught_by_the_head_file(site: Site, tmp_path: Path) -> None:
    """An older copy of the database put back: the head file names entries it lacks."""
    old_db = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(old_db)) as backup, closing(db(site)) as live:
        live.backup(backup)
    admission(site, "later.pdf")
    site.run_all()
    site.store.close()
    gc.collect()  # connections a test left open close now, not after the copy below
    for suffix in ("-wal", "-shm"):
        Path(str(site.config.database) + suffix).unlink(missing_ok=True)
    shutil.copy(old_db, site.config.database)
    assert first(verified(site))[0] is Break.TRUNCATED


def test_a_missing_key_is_a_clear_error_never_a_new_key(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the public key verification stops with one line; without the signing key the
    daemon's store cannot be opened, and no key file appears."""
    public = site.config.audit.public_key
    public.rename(public.with_suffix(".moved"))
    assert faxctl(["--config", str(site.config.source), "audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "public key" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not public.exists()
    signing = site.config.audit.signing_key
    signing.rename(signing.with_suffix(".moved"))
    from faxd.audit import KeyMissing
    from faxd.audit.wiring import signing_chain

    with pytest.raises(KeyMissing, match="faxctl audit keygen"):
        signing_chain(site.config)
    assert not signing.exists()


def test_keygen_never_replaces_a_key(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """faxctl audit keygen refuses when the key exists."""
    assert faxctl(["--config", str(site.config.source), "audit", "keygen"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_keys_and_head_inside_the_state_folder_are_refused(tmp_path: Path) -> None:
    """A configuration that puts the signing key in the state folder is refused at load."""
    from faxd.config import ConfigError, load_config

    site = Site(tmp_path)
    text = site.config.source.read_text().replace(
        f"{tmp_path}/keys/audit-signing.key", f"{tmp_path}/state/audit-signing.key"
    )
    site.config.source.write_text(text)
    with pytest.raises(ConfigError, match="outside the state folder"):
        load_config(site.config.source)
