"""``faxctl modem probe`` against each simulated personality: it names what the modem is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.probe import choose_class, parse_classes
from drivers.simulator import SimulatedModem
from faxd.cli import main

EXPECTED = {
    "1": (["0", "1", "1.0"], "1", "+FTM=?"),
    "2": (["0", "2"], "2", "(0,1),(0-5)"),
    "2.0": (["0", "2.0"], "2.0", "(0,1),(0-5)"),
    "2.1": (["0", "2.0", "2.1"], "2.1", "(0,1),(0-5)"),
}


@pytest.mark.parametrize("fax_class", list(EXPECTED))
def test_probe_reports_each_simulated_personality(fax_class: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON report lists the classes, each class's capabilities and identity, and what auto picks."""
    classes, preferred, capability = EXPECTED[fax_class]
    with SimulatedModem(fax_class=fax_class) as modem:
        assert modem.path is not None
        assert main(["modem", "probe", modem.path, "--json"]) == 0
        out = capsys.readouterr().out  # the simulator's own log lines may precede the report
        report, _ = json.JSONDecoder().raw_decode(out[out.index('{\n  "device"') :])
        assert main(["modem", "probe", modem.path]) == 0
        text = capsys.readouterr().out
    assert report["classes"] == classes and report["preferred"] == preferred
    assert f"simulated Class {fax_class} modem" in report["identification"]["I0"]
    details = {detail["fax_class"]: detail for detail in report["details"]}
    assert set(details) == {c for c in classes if c in ("1", "2", "2.0", "2.1")}
    if fax_class == "1":
        assert "145" in details["1"]["capabilities"]
    else:
        assert capability in details[preferred]["capabilities"]
        assert details[preferred]["model"] == f"faxd simulated Class {fax_class} modem"
    assert f'class = "auto" uses: {preferred}' in text
    # No shipped family profile claims the simulator: the generic profile is used.
    assert report["quirk_profile"] is None and "quirk profile: (none matches; generic)" in text


@pytest.mark.parametrize("fax_class", ["1", "2", "2.0", "2.1"])
def test_probe_chooses_a_site_profile_that_matches(
    fax_class: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site profile whose ``match`` names the simulated model is chosen, and its
    ``[class2] prefer_class`` is what auto uses when the modem offers that class."""
    (tmp_path / "simsite.toml").write_text(
        'extends = "generic"\nmatch = ["faxd simulated Class"]\n[class2]\nprefer_class = "2.0"\n'
    )
    classes = EXPECTED[fax_class][0]
    with SimulatedModem(fax_class=fax_class) as modem:
        assert modem.path is not None
        assert main(["modem", "probe", modem.path, "--json", "--profile-dir", str(tmp_path)]) == 0
        out = capsys.readouterr().out
    report, _ = json.JSONDecoder().raw_decode(out[out.index('{\n  "device"') :])
    assert report["quirk_profile"] == "simsite"
    assert report["preferred"] == ("2.0" if "2.0" in classes else EXPECTED[fax_class][1])


def test_a_bad_site_profile_stops_the_probe_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile in --profile-dir with a bad [class2] key: one line naming file and key, exit 2."""
    (tmp_path / "ward7.toml").write_text('extends = "usr"\n[class2]\nwait_for_xonn = true\n')
    with SimulatedModem(fax_class="2.0") as modem:
        assert modem.path is not None
        assert main(["modem", "probe", modem.path, "--profile-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"faxctl: {tmp_path / 'ward7.toml'}: [class2] wait_for_xonn: unknown key (known: ")
    assert err.count("\n") == 1


def test_probe_of_nothing_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A device that is not there: one clear line, exit 1."""
    assert main(["modem", "probe", "/dev/faxd-no-such-modem"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_class_preference() -> None:
    """Class 1 first, then 2.1, 2.0, 2; a quirk profile's preference wins when offered."""
    assert parse_classes("(0,1,2,2.0)") == ("0", "1", "2", "2.0")
    assert choose_class(("0", "1", "2", "2.0")) == "1"
    assert choose_class(("0", "2", "2.0")) == "2.0"
    assert choose_class(("0", "1", "2.0"), prefer="2.0") == "2.0"
    assert choose_class(("0",)) is None
