"""The ``gateway`` fixture: one test's faxd installation, its processes stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Gateway


@pytest.fixture
def gateway(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Gateway]:
    """A gateway with a simulated modem of the class the test is parametrised with (default 1)."""
    fax_class = getattr(request, "param", "1")
    gw = Gateway(root=tmp_path, device=str(tmp_path / "tty-sim"), fax_class=fax_class)
    try:
        yield gw
    finally:
        gw.stop_all()
