"""The simulator's Class 2 and 2.0 personalities, proved with Class 2 hosts none of us wrote.

Debian's ``efax`` (``-o2``: Class 2, ``-o0``: Class 2.0) and mgetty-fax's ``sendfax``
(``-C cls2`` / ``-C c2.0``) dial the simulated modem's pty and send three pages; the
simulated remote's received pages are compared pixel for pixel with what the host sent:

- efax sends TIFF-G3 files made by ``efix``; "what it sent" is that file as libtiff (via
  Pillow) decodes it. efax puts 20 white scan lines above every page (its ``HDRSPCE``,
  the room for its page header; ``-h ""`` leaves the header empty), so the received page
  is those 20 lines and then the file's rows, exactly.
- sendfax sends raw G3 files made by mgetty's ``pbm2g3`` from a PBM; the received page is
  the PBM, exactly.

If these pass, the personalities behave as Class 2 DCEs as others understand them, and a
failure of our own Class 2 driver against them is the driver's fault.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageSequence

from drivers.modem import Outcome
from drivers.simulator.pty_modem import SimulatedModem
from drivers.simulator.remote import RemoteProfile

CSI = "+46 40 628 04 99"
TSI = "+46 40 628 04 00"
NUMBER = "0406280499"
PAGES = 3
#: efax 0.9a divides by a page's whole seconds and dies of SIGFPE under one second;
#: real line pace keeps each of these small pages over a second.
EFAX_SPEED = 1.0
#: efax's blank lines above each page (efax.c HDRSPCE).
EFAX_TOP_LINES = 20


def _pages(tmp_path: Path) -> list[Path]:
    """Three different 1728-wide bilevel pages as PBM files."""
    rng = np.random.default_rng(12)
    paths = []
    for number in range(1, PAGES + 1):
        pixels = np.zeros((300 + 40 * number, 1728), dtype=np.bool_)
        for _ in range(40):
            y, x = int(rng.integers(0, pixels.shape[0] - 20)), int(rng.integers(0, 1600))
            pixels[y : y + int(rng.integers(1, 18)), x : x + int(rng.integers(1, 120))] = True
        path = tmp_path / f"page{number}.pbm"
        Image.fromarray(~pixels).convert("1").save(path)
        paths.append(path)
    return paths


def _black(image: Image.Image) -> npt.NDArray[np.bool_]:
    return ~np.asarray(image.convert("1"), dtype=np.bool_)


def _received(modem: SimulatedModem) -> tuple[str | None, list[npt.NDArray[np.bool_]]]:
    """Returns the one call's TSI and pages, once it ended confirmed."""
    calls = modem.wait_for_calls(1, timeout=60)
    assert len(calls) == 1
    call = calls[0]
    assert call.outcome is Outcome.CONFIRMED, call.reason
    return call.remote_tsi, list(call.pages)


@pytest.mark.parametrize(("option", "fax_class"), [("-o2", "2"), ("-o0", "2.0")])
def test_efax_sends_three_pages_through_the_class2_personality(tmp_path: Path, option: str, fax_class: str) -> None:
    """efax in Class 2 / 2.0 sends three pages; the remote got exactly what efax's files hold."""
    if shutil.which("efax") is None or shutil.which("efix") is None:
        pytest.skip("efax/efix not installed: scripts/setup.sh installs them")
    sent = []
    for pbm in _pages(tmp_path):
        tiff = pbm.with_suffix(".tif")
        with tiff.open("wb") as out:
            subprocess.run(
                ["efix", "-i", "pbm", "-o", "tiffg3", "-r", "204x196", str(pbm)],
                stdout=out,
                stderr=subprocess.DEVNULL,
                check=True,
            )
        sent.append(tiff)
    link = tmp_path / "ttyFAX"
    profile = RemoteProfile(csi=CSI)
    with SimulatedModem(fax_class=fax_class, link=link, speed=EFAX_SPEED, profiles={"*": profile}) as modem:
        efax = subprocess.run(
            ["efax", "-d", str(link), option, "-l", TSI, "-h", "", "-v", "ewinchamr", "-t", NUMBER, *map(str, sent)],
            capture_output=True, text=True, timeout=180, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert efax.returncode == 0, efax.stderr
        tsi, received = _received(modem)
    assert tsi == TSI
    transcript = " ".join(efax.stderr.split())
    assert f'remote ID -> "{CSI}"' in transcript, transcript
    assert len(received) == PAGES
    for tiff, page in zip(sent, received, strict=True):
        with Image.open(tiff) as image:
            expected = _black(next(ImageSequence.Iterator(image)))
        assert not page[:EFAX_TOP_LINES].any()
        assert page.shape == (EFAX_TOP_LINES + expected.shape[0], 1728)
        assert np.array_equal(page[EFAX_TOP_LINES:], expected), f"{tiff.name} differs"


@pytest.mark.parametrize(("option", "fax_class"), [("cls2", "2"), ("c2.0", "2.0")])
def test_sendfax_sends_three_pages_through_the_class2_personality(tmp_path: Path, option: str, fax_class: str) -> None:
    """mgetty's sendfax in Class 2 / 2.0 sends three pages; the remote got exactly the PBMs."""
    if shutil.which("sendfax") is None and not Path("/usr/sbin/sendfax").exists():
        pytest.skip("sendfax not installed: scripts/setup.sh installs mgetty-fax")
    sendfax = shutil.which("sendfax") or "/usr/sbin/sendfax"
    pbms = _pages(tmp_path)
    sent = []
    for pbm in pbms:
        g3 = pbm.with_suffix(".g3")
        with g3.open("wb") as out:
            subprocess.run(["pbm2g3", str(pbm)], stdout=out, check=True)
        sent.append(g3)
    profile = RemoteProfile(csi=CSI)
    with SimulatedModem(fax_class=fax_class, link=tmp_path / "ttyFAX", speed=0.0, profiles={"*": profile}) as modem:
        assert modem.path is not None
        # sendfax takes a device name under /dev and locks it in /var/lock (its compiled-in
        # place); the pty's name is unique, so the lock cannot collide with anyone's.
        result = subprocess.run(
            [sendfax, "-x", "4", "-v", "-l", modem.path.removeprefix("/dev/"), "-C", option, NUMBER, *map(str, sent)],
            capture_output=True, text=True, timeout=180, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        _, received = _received(modem)
    assert len(received) == PAGES
    for pbm, page in zip(pbms, received, strict=True):
        with Image.open(pbm) as image:
            expected = _black(image)
        assert np.array_equal(page, expected), f"{pbm.name} differs"
