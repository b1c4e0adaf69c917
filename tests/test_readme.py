"""The README's promises that code can check."""

from __future__ import annotations

from pathlib import Path

from routing.routine import rules_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_readme_routing_table_is_the_one_the_code_applies() -> None:
    """Every row of the generated 'during the outage' table stands in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    during = rules_markdown().strip().split("\n\n")[0]
    rows = during.splitlines()
    assert rows and [r for r in rows if r not in readme] == []


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run calls the README's test command and nothing else."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec make test")
