"""faxctl's commands, run in-process against the example configuration or a temporary one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from faxd.cli import main
from spool.folders import SpoolFolders

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "faxd.toml")
FORMS = ROOT / "examples" / "forms"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_route_dry_run_names_recipients_numbers_and_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """An admission notice is routed to the municipality and outpatient unit, with the rule for each."""
    code, out = run(capsys, "--config", EXAMPLE, "route", str(FORMS / "03-inskrivningsinformation.pdf"), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["message_type"] == "inskrivningsinformation"
    roles = {r["id"]: r["roles"] for r in result["recipients"]}
    assert "municipality" in sum(roles.values(), []) and "outpatient" in sum(roles.values(), [])
    assert all(r["rule"] and r["dial"].isdigit() for r in result["recipients"])


def test_route_dry_run_refuses_the_checklist(capsys: pytest.CaptureFixture[str]) -> None:
    """Type 1 is never faxed, and the dry run says so with exit status 1."""
    code, out = run(capsys, "--config", EXAMPLE, "route", str(FORMS / "01-checklista-beslutsstod.pdf"))
    assert code == 1
    assert out.startswith("refused:") and "never faxed" in out


def test_route_uses_the_sidecar_beside_the_pdf(capsys: pytest.CaptureFixture[str]) -> None:
    """A PDF with its routing data only in NAME.pdf.json is routed by the sidecar."""
    code, out = run(capsys, "--config", EXAMPLE, "route", str(FORMS / "08-sip.pdf"), "--json")
    assert code == 0 and json.loads(out)["message_type"] == "sip"


def test_directory_check_lists_problems_with_line_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken fax list is reported problem by problem, with exit status 1."""
    broken = tmp_path / "dir.csv"
    broken.write_text(
        "id,name,kind,municipality,fax,station_id,valid_from,valid_to\n"
        "kommun-lund,Lund,municipality,,040-628 04 16,,,\n"
        "kommun-lund,Lund igen,municipality,,040-628 04 17,,,\n"
        "vc-x,VC X,hospital,kommun-lund,12,,,\n",
        encoding="utf-8",
    )
    code, out = run(capsys, "directory", "check", str(broken))
    assert code == 1
    assert "NOT valid" in out and "line 3" in out and "line 4" in out
    code, out = run(capsys, "directory", "check", str(ROOT / "examples" / "directory.csv"))
    assert code == 0 and "valid" in out


def test_send_renames_into_incoming_with_sidecar_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """faxctl send leaves exactly the PDF and its sidecar in incoming/, no temporary files."""
    config = tmp_path / "faxd.toml"
    config.write_text(
        (ROOT / "examples" / "faxd.toml")
        .read_text()
        .replace("../var/", f"{tmp_path}/var/")
        .replace('"directory.csv"', f'"{ROOT}/examples/directory.csv"')
    )
    folders = SpoolFolders(tmp_path / "var" / "spool")
    folders.create()
    meta = tmp_path / "m.json"
    meta.write_text('{"FaxdType": "sip"}')
    code, _ = run(capsys, "--config", str(config), "send", str(FORMS / "08-sip.pdf"), "--meta", str(meta))
    assert code == 0
    assert sorted(p.name for p in folders.incoming.iterdir()) == ["08-sip.pdf", "08-sip.pdf.json"]
    code, _ = run(capsys, "--config", str(config), "send", str(FORMS / "08-sip.pdf"))
    assert code == 0 and (folders.incoming / "08-sip-1.pdf").exists()


def test_render_and_preview_write_fax_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """render writes the document pages as TIFF; preview adds the cover sheet."""
    tif = tmp_path / "out.tif"
    code, _ = run(capsys, "render", str(FORMS / "04-kartlaggning-bakgrund.pdf"), "-o", str(tif), "--coding", "mmr")
    assert code == 0
    with Image.open(tif) as image:
        assert image.size[0] == 1728 and image.n_frames == 2
    code, out = run(
        capsys,
        "--config",
        EXAMPLE,
        "preview",
        str(FORMS / "04-kartlaggning-bakgrund.pdf"),
        "-o",
        str(tmp_path / "p.png"),
    )
    assert code == 0 and "3 pages (cover sheet included)" in out
    assert len(list(tmp_path.glob("p-*.png"))) == 3


def test_a_bad_config_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """faxctl with a broken configuration exits 2 naming the file."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[paths]\n")
    assert main(["--config", str(bad), "status"]) == 2
    assert str(bad) in capsys.readouterr().err


def _config_with(tmp_path: Path, directory: str, extra: str = "") -> Path:
    config = tmp_path / "faxd.toml"
    config.write_text(
        (ROOT / "examples" / "faxd.toml")
        .read_text()
        .replace("../var/", f"{tmp_path}/var/")
        .replace('"directory.csv"', f'"{directory}"')
        + extra
    )
    return config


COMMANDS = (
    ("status",),
    ("status", "--json"),
    ("log",),
    ("log", "--json"),
    ("log", "--verify"),
    ("directory", "show"),
    ("directory", "show", "kommun-lund"),
    ("route", str(FORMS / "08-sip.pdf")),
    ("send", str(FORMS / "08-sip.pdf")),
    ("preview", str(FORMS / "08-sip.pdf"), "-o", "/nonexistent/p.pdf"),
)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("problem", ["missing directory", "invalid directory", "typo in config", "not toml"])
def test_every_command_turns_a_setup_error_into_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...], problem: str
) -> None:
    """Configuration and fax-directory errors: one line on stderr, exit status 2, no traceback."""
    if problem == "missing directory":
        config = _config_with(tmp_path, str(tmp_path / "no-such.csv"))
    elif problem == "invalid directory":
        bad = tmp_path / "dir.csv"
        bad.write_text("id,name,kind,municipality,fax,station_id,valid_from,valid_to\nx,X,hospital,,12,,,\n")
        config = _config_with(tmp_path, str(bad))
    elif problem == "typo in config":
        config = _config_with(tmp_path, f"{ROOT}/examples/directory.csv", "[retyr]\nmax_attempts = 1\n")
    else:
        config = tmp_path / "faxd.toml"
        config.write_text("[paths\n")
    SpoolFolders(tmp_path / "var" / "spool").create()
    needs_directory = command[0] in ("directory", "route", "preview")
    code = main(["--config", str(config), *command])
    captured = capsys.readouterr()
    if problem.endswith("directory") and not needs_directory:
        assert code in (0, 1), captured  # commands that do not read the directory are not stopped by it
        return
    assert code == 2, captured
    assert captured.err.startswith("faxctl: ") and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    if problem == "typo in config":
        assert "did you mean `retry`?" in captured.err


def test_directory_show_with_a_missing_directory_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The defect: `faxctl directory show` printed a traceback for a missing directory file."""
    config = _config_with(tmp_path, str(tmp_path / "gone.csv"))
    assert main(["--config", str(config), "directory", "show"]) == 2
    err = capsys.readouterr().err
    assert "gone.csv" in err and "cannot read" in err and err.count("\n") == 1
