"""Access: the state database, archive, follow-up folder and signing key are made (or
repaired) so only the daemon's user and the auditors' group read them; faxctl refuses a
caller without access in one line, exit status 2 (run as an unprivileged user)."""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from faxd import access
from faxd.access import AccessError
from faxd.audit import generate
from faxd.audit.wiring import signing_chain
from faxd.config import Config, load_config
from faxd.store import Store

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NOBODY = 65534
AUDITORS = "users"  # a group every Debian system has; stands in for faxaudit


def _write_config(root: Path, *, group: str | None) -> Config:
    (root / "faxd.toml").write_text(
        f'[paths]\nspool = "spool"\nstate = "state"\ndirectory = "{ROOT / "examples" / "directory.csv"}"\n'
        '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "Test"\ncallback = "040-628 04 00"\n'
        f'[audit]\nsigning_key = "{root}/keys/signing.key"\npublic_key = "{root}/public/public.pem"\n'
        f'head_file = "{root}/log/audit-head"\n'
        + (f'group = "{group}"\n' if group else "")
        + '[[modem]]\nname = "m0"\ndevice = "/dev/null"\n'
    )
    (root / "faxd.toml").chmod(0o644)  # whatever the umask: faxctl runs as another user
    return load_config(root / "faxd.toml")


def _install(root: Path, *, group: str | None) -> Config:
    """A configuration, its key pair and a database with entries, secured as the daemon does."""
    config = _write_config(root, group=group)
    generate(config.audit.signing_key, config.audit.public_key)
    access.secure(config)
    store = Store(config.database, signing_chain(config))
    with store.transaction() as conn:
        store.chain.append(conn, "2026-12-02T20:00:00.000+00:00", "test.entry")
    access.secure(config)
    return config


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_daemon_makes_its_paths_closed_to_others(tmp_path: Path) -> None:
    """State and its folders 0750, database 0640 (its -wal too), signing key owner-only."""
    config = _install(tmp_path, group=None)
    assert _mode(config.state) == 0o750
    assert _mode(config.state / "archive") == 0o750
    assert _mode(config.followup_folder) == 0o750
    assert _mode(config.database) == 0o640
    assert _mode(Path(f"{config.database}-wal")) & 0o007 == 0
    assert _mode(config.audit.signing_key) & 0o077 == 0


def test_too_open_modes_are_repaired_with_a_journal_line_and_a_readable_key_is_an_alarm(tmp_path: Path) -> None:
    config = _install(tmp_path, group=None)
    os.chmod(config.state, 0o777)
    os.chmod(config.database, 0o666)
    os.chmod(config.audit.signing_key, 0o644)
    with capture_logs() as logs:
        fixed = access.secure(config)
    assert _mode(config.state) == 0o750 and _mode(config.database) == 0o640
    assert _mode(config.audit.signing_key) == 0o600
    assert len(fixed) == 3 and any("was mode 0666, now 0640" in line for line in fixed)
    assert [e["event"] for e in logs].count("access.fixed") == 3
    assert [e["event"] for e in logs].count("alarm.signing_key_exposed") == 1


def test_the_auditors_group_owns_the_state_and_its_folders_pass_it_on(tmp_path: Path) -> None:
    gid = grp.getgrnam(AUDITORS).gr_gid
    config = _install(tmp_path, group=AUDITORS)
    for path in (config.state, config.state / "archive", config.followup_folder):
        assert path.stat().st_gid == gid and path.stat().st_mode & stat.S_ISGID, path
    assert config.database.stat().st_gid == gid
    assert config.audit.signing_key.stat().st_gid != gid  # never the key


def test_an_unknown_group_stops_the_daemon_in_one_line(tmp_path: Path) -> None:
    config = _write_config(tmp_path, group="no-such-group-faxd")
    generate(config.audit.signing_key, config.audit.public_key)
    with pytest.raises(AccessError, match="'no-such-group-faxd' is not a group on this machine"):
        access.secure(config)
    result = subprocess.run(
        [str(BIN / "faxd"), "--config", str(config.source)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no-such-group-faxd" in result.stderr, result.stderr


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's tmp_path is closed to others)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run faxctl as another user")
    root = Path(tempfile.mkdtemp(prefix="faxd-access-"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root)


def _faxctl_as_nobody(config: Config, *args: str, groups: str | None = None) -> subprocess.CompletedProcess[str]:
    who = ["--reuid", str(NOBODY), "--regid", str(NOBODY)]
    who += ["--groups", groups] if groups else ["--clear-groups"]
    return subprocess.run(
        ["setpriv", *who, str(BIN / "faxctl"), "--config", str(config.source), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


def test_faxctl_refuses_a_caller_outside_the_group_in_one_line(shared_root: Path) -> None:
    config = _install(shared_root, group=AUDITORS)
    os.chmod(config.audit.public_key.parent, 0o755)
    for command in (["log"], ["status"], ["audit", "verify"], ["audit", "export"], ["reconcile"], ["outage", "list"]):
        result = _faxctl_as_nobody(config, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and "cannot read the state database" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_member_of_the_auditors_group_verifies_but_cannot_sign(shared_root: Path) -> None:
    config = _install(shared_root, group=AUDITORS)
    os.chmod(config.audit.public_key.parent, 0o755)
    (shared_root / "log").chmod(0o755)
    gid = str(grp.getgrnam(AUDITORS).gr_gid)
    verified = _faxctl_as_nobody(config, "audit", "verify", groups=gid)
    assert verified.returncode == 0, verified.stderr
    assert "confirmation log intact: 1 entries" in verified.stdout
    declared = _faxctl_as_nobody(config, "outage", "start", "--reason", "test", groups=gid)
    assert declared.returncode == 2 and declared.stderr.count("\n") == 1, declared.stderr
    assert "cannot read the log's signing key" in declared.stderr
