"""Fixtures every test package shares.

``simulator``: a started ``SimulatedModem`` on a pty, writing what its remote received under
``tmp_path/received``, stopped after the test. Its options are the requesting module's
``SIMULATOR_OPTIONS`` (a dict of ``SimulatedModem`` keyword arguments), updated with the
test's indirect parameter if it has one (``indirect=["simulator"]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.simulator import SimulatedModem


@pytest.fixture
def simulator(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SimulatedModem]:
    options: dict[str, Any] = dict(getattr(request.module, "SIMULATOR_OPTIONS", {}))
    options.update(getattr(request, "param", {}))
    modem = SimulatedModem(out_dir=tmp_path / "received", **options)
    modem.start()
    yield modem
    modem.stop()
