"""The configuration file: the shipped example loads; each mistake names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxd.config import ConfigError, config_path, load_config

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
[paths]
spool = "spool"
state = "/srv/faxd/state"
directory = "dir.csv"
[station]
tsi = "+46 40 628 04 00"
header_name = "Test"
callback = "040-628 04 00"
[[modem]]
name = "m1"
device = "/dev/ttyUSB0"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faxd.toml"
    path.write_text(text)
    return path


def test_example_config_uses_only_var_under_the_checkout() -> None:
    """The shipped example puts spool and state under ./var/ of the checkout."""
    config = load_config(ROOT / "examples" / "faxd.toml")
    assert config.spool.is_relative_to(ROOT / "var")
    assert config.state.is_relative_to(ROOT / "var")
    assert config.modems[0].simulated


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    """A relative path resolves against the config file's folder, an absolute one stays."""
    config = load_config(write(tmp_path, GOOD))
    assert config.spool == (tmp_path / "spool").resolve()
    assert config.state == Path("/srv/faxd/state")
    assert config.directory == (tmp_path / "dir.csv").resolve()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda t: t.replace('tsi = "+46 40 628 04 00"', 'tsi = "FAX-GATEWAY"'), "[station.tsi]"),
        (lambda t: t.replace('callback = "040-628 04 00"', ""), "[station.callback]"),
        (lambda t: t.replace("[[modem]]", "[[nomodem]]"), "[modem]"),
        (lambda t: t + 'class = "2"\n', "[modem.0.class]"),
        (lambda t: t.replace("[paths]", "[paths]\nbogus = 1").replace('spool = "spool"', ""), "[paths.spool]"),
        (lambda t: t + "speed = 12\n", "[modem.0.speed]"),
    ],
)
def test_a_bad_value_names_its_key_and_file(tmp_path: Path, change, key: str) -> None:  # type: ignore[no-untyped-def]
    """Each kind of mistake gives one error that names the file and the key."""
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert key in str(err.value)


def test_not_toml_and_missing_file_are_clear(tmp_path: Path) -> None:
    """Broken TOML and a missing file are reported as such."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[paths\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_config_path_prefers_flag_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """--config wins over FAXD_CONFIG, which wins over /etc/faxd/faxd.toml."""
    monkeypatch.setenv("FAXD_CONFIG", "/tmp/env.toml")
    assert config_path("/tmp/flag.toml") == Path("/tmp/flag.toml")
    assert config_path(None) == Path("/tmp/env.toml")
    monkeypatch.delenv("FAXD_CONFIG")
    assert config_path(None) == Path("/etc/faxd/faxd.toml")


def test_dialing_rule_and_priorities_are_read(tmp_path: Path) -> None:
    """A PBX prefix with a pause, and a per-type priority override."""
    from routing.message_types import MessageType

    config = load_config(write(tmp_path, GOOD + '[dialing]\noutside_line_prefix = "0"\npause_after_prefix = ","\n'
                               "[priorities]\nsip = 5\n"))
    assert config.dial_rule.outside_line_prefix == "0" and config.dial_rule.pause_after_prefix == ","
    assert config.priorities == {MessageType.SIP: 5}


def test_unknown_priority_type_and_bad_dial_prefix_are_named(tmp_path: Path) -> None:
    """A misspelt message type code or an undialable prefix names its key."""
    with pytest.raises(ConfigError, match=r"\[priorities.akutbladet\] is not a message type code"):
        load_config(write(tmp_path, GOOD + "[priorities]\nakutbladet = 1\n"))
    with pytest.raises(ConfigError, match=r"\[dialing\] outside_line_prefix"):
        load_config(write(tmp_path, GOOD + '[dialing]\noutside_line_prefix = "0-"\n'))
