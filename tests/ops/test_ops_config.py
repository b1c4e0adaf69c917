"""The operations tables of the configuration: defaults off, SNMPv3 by default, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxd.config import ConfigError, load_config
from tests.faxd.test_config import GOOD, write


def test_everything_is_off_by_default(tmp_path: Path) -> None:
    """Without [snmp], [metrics] and [drill] nothing listens and no drill runs."""
    ops = load_config(write(tmp_path, GOOD)).ops
    assert (ops.snmp, ops.metrics, ops.drill, ops.journal) == (None, None, None, "auto")


def test_snmp_defaults_to_v3_on_loopback(tmp_path: Path) -> None:
    """[snmp] with keys: loopback, SHA-256 and AES-128, no v2c, managers read."""
    text = GOOD + '[snmp]\nauth_key = "0123456789"\npriv_key = "abcdefghij"\n[[snmp.manager]]\naddress = "127.0.0.1"\n'
    snmp = load_config(write(tmp_path, text)).ops.snmp
    assert snmp is not None
    assert (snmp.address, snmp.auth_protocol, snmp.priv_protocol, snmp.community) == (
        "127.0.0.1",
        "SHA-256",
        "AES-128",
        None,
    )
    assert snmp.managers[0].port == 162 and snmp.engine_id[:4] == bytes([0x80, 0x00, 0x7E, 0xD9])
    assert snmp.managers[0].notify == "trap"  # informs only when asked for


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[snmp]\nauth_key = "short"\npriv_key = "abcdefghij"\n', "[snmp.auth_key]"),
        ('[snmp]\nauth_key = "0123456789"\npriv_key = "abcdefghij"\nauth_protocol = "MD5"\n', "[snmp.auth_protocol]"),
        (
            '[snmp]\nauth_key = "0123456789"\npriv_key = "abcdefghij"\n[[snmp.manager]]\nversion = "v2c"\n',
            "[snmp.manager.0.version]",
        ),
        (
            '[snmp]\nauth_key = "0123456789"\npriv_key = "abcdefghij"\n[[snmp.manager]]\nnotify = "fire-and-forget"\n',
            "[snmp.manager.0.notify]",
        ),
        (
            '[snmp]\nauth_key = "0123456789"\npriv_key = "abcdefghij"\n[[snmp.manager]]\nretries = -1\n',
            "[snmp.manager.0.retries]",
        ),
        ('[metrics]\naddress = "localhost:80"\n', "[metrics.address]"),
        ("[drill]\ninterval_hours = 1\n", "[drill.recipient]"),
        ('[logging]\njournal = "maybe"\n', "[logging.journal]"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, extra: str, key: str) -> None:
    """Each mistake in the operations tables is one message naming file and key."""
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, GOOD + extra))
