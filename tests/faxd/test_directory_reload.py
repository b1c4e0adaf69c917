"""The fax directory in force: reloaded on change, and never replaced by an invalid one."""

from __future__ import annotations

import shutil
from pathlib import Path

from faxd.daemon import DirectoryHolder

ROOT = Path(__file__).resolve().parents[2]


def test_a_changed_file_is_reloaded_on_next_use(tmp_path: Path) -> None:
    """Editing the list changes the version the next lookup sees."""
    path = tmp_path / "directory.csv"
    shutil.copy(ROOT / "examples" / "directory.csv", path)
    holder = DirectoryHolder(path)
    before = holder.current().version
    path.write_text(path.read_text(encoding="utf-8").replace("Lund", "Lunds", 1), encoding="utf-8")
    assert holder.current().version != before


def test_an_invalid_file_leaves_the_previous_directory_in_force(tmp_path: Path) -> None:
    """A half-edited list that does not validate is refused whole."""
    path = tmp_path / "directory.csv"
    shutil.copy(ROOT / "examples" / "directory.csv", path)
    holder = DirectoryHolder(path)
    before = holder.current()
    path.write_text(path.read_text(encoding="utf-8") + "broken,Broken,nonsense,,12,,,\n", encoding="utf-8")
    holder.reload()
    assert holder.current().version == before.version
    assert holder.current().get("kommun-lund") is not None
