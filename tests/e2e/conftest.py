"""The ``gateway`` fixture: one test's faxd installation, its processes stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Gateway


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(root=tmp_path, device=str(tmp_path / "tty-sim"))
    try:
        yield gw
    finally:
        gw.stop_all()
