"""The configuration file: the shipped example loads; each mistake names file and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from faxd.cli import main as faxctl
from faxd.config import ConfigError, config_path, load_config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

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
        (lambda t: t + 'class = "3"\n', "[modem.0.class]"),
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

    config = load_config(
        write(
            tmp_path, GOOD + '[dialing]\noutside_line_prefix = "0"\npause_after_prefix = ","\n[priorities]\nsip = 5\n'
        )
    )
    assert config.dial_rule.outside_line_prefix == "0" and config.dial_rule.pause_after_prefix == ","
    assert config.priorities == {MessageType.SIP: 5}


def test_unknown_priority_type_and_bad_dial_prefix_are_named(tmp_path: Path) -> None:
    """A misspelt message type code or an undialable prefix names its key."""
    with pytest.raises(ConfigError, match=r"\[priorities.akutbladet\] is not a message type code"):
        load_config(write(tmp_path, GOOD + "[priorities]\nakutbladet = 1\n"))
    with pytest.raises(ConfigError, match=r"\[dialing\] outside_line_prefix"):
        load_config(write(tmp_path, GOOD + '[dialing]\noutside_line_prefix = "0-"\n'))


@pytest.mark.parametrize(
    ("addition", "key", "suggestion"),
    [
        ("[retry]\nmax_atempts = 5\n", "[retry.max_atempts]", "max_attempts"),
        ("[retyr]\nmax_attempts = 5\n", "[retyr]", "retry"),
        ("simulator_sped = 1.0\n", "[modem.0.simulator_sped]", "simulator_speed"),
        ("[limits]\nmax_page = 10\n", "[limits.max_page]", "max_pages"),
        ("[logging]\nfromat = 'json'\n", "[logging.fromat]", "format"),
    ],
)
def test_an_unknown_key_or_table_is_refused_with_the_nearest_known_one(
    tmp_path: Path, addition: str, key: str, suggestion: str
) -> None:
    """A typo stops the load naming the file, the key and the key probably meant."""
    path = write(tmp_path, GOOD + addition)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and key in message and f"did you mean `{suggestion}`?" in message
    assert "\n" not in message


def test_unknown_keys_in_every_modem_table_and_no_suggestion_for_nonsense(tmp_path: Path) -> None:
    """Keys of [[modem]] tables are known from any of them; a key like nothing known gets no guess."""
    text = GOOD + "ecm = false\n[[modem]]\nname = 'm2'\ndevice = '/dev/ttyUSB1'\nzzqx = 1\n"
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert "[modem.1.zzqx] is not a known key" in str(err.value) and "did you mean" not in str(err.value)


def test_a_missing_required_key_points_at_its_typo(tmp_path: Path) -> None:
    """`callbak` instead of `callback`: the error for the missing key names the typo too."""
    path = write(tmp_path, GOOD.replace("callback =", "callbak ="))
    with pytest.raises(ConfigError, match=r"\[station.callback\].*\[station.callbak\]: did you mean `callback`"):
        load_config(path)


def test_the_shipped_example_and_every_documented_key_are_known(tmp_path: Path) -> None:
    """Every key the example sets is read, so none of them is refused as unknown."""
    load_config(ROOT / "examples" / "faxd.toml")
    full = GOOD + (
        "trace = false\necm = true\nmin_bit_rate = 2400\nmax_page_resends = 2\nspeed = 115200\nclass = '1'\n"
        "[dialing]\noutside_line_prefix = ''\npause_after_prefix = ''\n[priorities]\nsip = 5\n"
        "[retry]\nmax_attempts = 3\ndelay_seconds = 1\nbusy_delay_seconds = 1\nno_answer_delay_seconds = 1\n"
        "deadline_hours = 1\n[limits]\nmax_document_mb = 5\nmax_pages = 5\n[archive]\nretention_days = 1\n"
        "[logging]\nformat = 'json'\n"
    )
    load_config(write(tmp_path, full))


@pytest.mark.parametrize("fax_class", ["1", "2", "2.0", "2.1", "auto"])
def test_every_fax_class_and_auto_is_accepted(tmp_path: Path, fax_class: str) -> None:
    """class takes 1, 2, 2.0, 2.1 or auto; a simulated modem's personality follows it (1 for auto)."""
    config = load_config(write(tmp_path, GOOD + f'class = "{fax_class}"\n'))
    assert config.modems[0].fax_class == fax_class
    assert config.modems[0].simulator_class == (fax_class if fax_class != "auto" else "1")


BAD_PROFILES = [
    ("[class2]\nwait_for_xonn = true\n", "[class2] wait_for_xonn: unknown key"),
    ('[class2]\necm = "yes"\n', "[class2] ecm: must be bool"),
    ('[class2]\nprefer_class = "3"\n', "[class2] prefer_class: one of 1, 2, 2.0, 2.1"),
    ("[class1]\neop_pause = 9\n", "unknown [class1] key(s) ['eop_pause']"),
]


def _site_profile(tmp_path: Path, text: str, fax_class: str) -> Path:
    """A site profile ``ward7`` (extending a shipped one) with ``text``, named by a [[modem]]."""
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "ward7.toml").write_text('extends = "usr"\n' + text)
    modem = f'class = "{fax_class}"\nprofile = "ward7"\nprofile_dir = "profiles"\n'
    audit = "[audit]\nsigning_key = 'keys/s.key'\npublic_key = 'keys/p.pem'\nhead_file = 'log/head'\n"
    return write(tmp_path, audit + GOOD.replace("/srv/faxd/state", "state") + modem)


@pytest.mark.parametrize("fax_class", ["1", "2", "2.0", "auto"])
@pytest.mark.parametrize(("text", "words"), BAD_PROFILES)
def test_a_bad_profile_section_stops_the_load_whatever_the_class(
    tmp_path: Path, fax_class: str, text: str, words: str
) -> None:
    """Both the [class1] and [class2] tables of the profile a [[modem]] names are checked
    when the configuration is read, not when a driver is built: one line, file and key."""
    path = _site_profile(tmp_path, text, fax_class)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: [modem.0.profile] ") and "\n" not in message
    assert f"{tmp_path / 'profiles' / 'ward7.toml'}: " in message and words in message


def test_a_good_class2_section_in_a_site_profile_loads(tmp_path: Path) -> None:
    config = load_config(_site_profile(tmp_path, '[class2]\nprefer_class = "2.0"\necm = false\n', "auto"))
    profile = config.modems[0].profile
    assert profile is not None and profile.sections["class2"]["prefer_class"] == "2.0"


def test_a_bad_class2_section_stops_faxd_and_faxctl_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real daemon exits 2 with one line and no traceback, and creates nothing; so does
    a faxctl command that reads the configuration."""
    path = _site_profile(tmp_path, "[class2]\nwait_for_xonn = true\n", "1")
    result = subprocess.run([str(BIN / "faxd"), "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"faxd: {path}: [modem.0.profile] {tmp_path / 'profiles' / 'ward7.toml'}: ")
    assert "[class2] wait_for_xonn: unknown key" in result.stderr
    assert not (tmp_path / "state").exists() and not (tmp_path / "spool").exists()
    assert faxctl(["--config", str(path), "status"]) == 2
    assert "[class2] wait_for_xonn: unknown key" in capsys.readouterr().err
