"""The page archive: streamed in, read back lazily and pixel for pixel, pruned by age."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

import imaging.archive as archive
from drivers.page import FAX_WIDTH, FaxPage, Resolution
from drivers.t4 import Coding
from imaging import ArchivedPages, prune_archive, write_tiff, write_tiff_streaming

ROOT = Path(__file__).resolve().parents[2]


def page(seed: int, resolution: Resolution = Resolution.FINE, rows: int = 400) -> FaxPage:
    generator = np.random.default_rng(seed)
    pixels = np.zeros((rows, FAX_WIDTH), dtype=np.bool_)
    pixels[50:150, 100:700] = generator.random((100, 600)) < 0.3
    pixels[seed % rows, :] = True  # a row that tells the pages apart
    return FaxPage(pixels, resolution)


@pytest.mark.parametrize("coding", list(Coding))
def test_round_trip_is_pixel_exact(tmp_path: Path, coding: Coding) -> None:
    """Every page reads back with its pixels, height and resolution."""
    written = [page(1), page(2, Resolution.NORMAL, rows=300), page(3, rows=2292)]
    path = write_tiff(written, tmp_path / "a.tif", coding=coding)
    pages = ArchivedPages(path)
    assert len(pages) == 3
    for original, read in zip(written, pages, strict=True):
        assert read.resolution is original.resolution
        assert np.array_equal(read.pixels, original.pixels)
    assert np.array_equal(pages[-1].pixels, written[-1].pixels)
    with pytest.raises(IndexError):
        pages[3]


def test_pages_are_decoded_on_demand_and_one_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening decodes nothing; asking again for the same page decodes it once; slices stay lazy."""
    path = write_tiff([page(n) for n in range(5)], tmp_path / "a.tif")
    decoded: list[int] = []
    read_page = archive.read_page

    def counting(path: Path, frame: int) -> FaxPage:
        decoded.append(frame)
        return read_page(path, frame)

    monkeypatch.setattr(archive, "read_page", counting)
    pages = ArchivedPages(path)
    assert decoded == []
    assert pages[2] is pages[2]
    assert decoded == [2]
    tail = pages[3:]
    assert len(tail) == 2 and decoded == [2]
    assert np.array_equal(tail[0].pixels, page(3).pixels)
    assert decoded == [2, 3]
    first = pages[0]
    assert pages[2] is not None and decoded == [2, 3, 0, 2]  # only the last page is held
    assert np.array_equal(first.pixels, page(0).pixels)


def test_streaming_write_holds_one_page_at_a_time(tmp_path: Path) -> None:
    """Each page is let go before the next is asked for; the count is returned."""
    written: list[weakref.ref[np.ndarray]] = []

    def pages() -> Iterator[FaxPage]:
        for number in range(6):
            gc.collect()
            assert all(ref() is None for ref in written), "a page written earlier is still held"
            made = page(number)
            written.append(weakref.ref(made.pixels))
            yield made
            del made

    assert write_tiff_streaming(pages(), tmp_path / "s.tif", Coding.MH) == 6
    read = ArchivedPages(tmp_path / "s.tif")
    assert [p.pixels[n % 400].all() for n, p in enumerate(read)] == [True] * 6


def test_streaming_write_leaves_nothing_when_the_pages_fail(tmp_path: Path) -> None:
    """A renderer that fails halfway leaves no archive file and no temporary file."""

    def pages() -> Iterator[FaxPage]:
        yield page(1)
        raise RuntimeError("renderer died")

    target = tmp_path / "s.tif"
    with pytest.raises(RuntimeError, match="renderer died"):
        write_tiff_streaming(pages(), target)
    with pytest.raises(ValueError, match="no pages"):
        write_tiff_streaming(iter(()), target)
    assert list(tmp_path.iterdir()) == []


MEMORY_PROBE = """
import sys
from pathlib import Path
import numpy as np
from drivers.page import Resolution
from imaging import ArchivedPages, render_pdf, write_tiff_streaming
from tests.imaging.pdfs import form, save

def peak_mb():
    # VmHWM, not getrusage: ru_maxrss of a child starts from its parent's RSS at fork
    # (Linux carries it across exec), so under pytest it would hide any growth.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024

folder = Path(sys.argv[1])
document = save(folder, form(100))
# Warm up: imports, PDFium and libtiff state, one page through both ends.
write_tiff_streaming(render_pdf(save(folder, form(1), "one.pdf")), folder / "one.tif")
sum(int(p.pixels[0, 0]) for p in ArchivedPages(folder / "one.tif"))
before = peak_mb()
count = write_tiff_streaming(render_pdf(document), folder / "archive.tif")
black = sum(int(np.count_nonzero(p.pixels)) for p in ArchivedPages(folder / "archive.tif"))
after = peak_mb()
print(count, black > 0, before, after)
"""


def test_a_long_document_goes_through_in_bounded_memory(tmp_path: Path) -> None:
    """100 rendered pages are archived and read back with peak RSS growing by a few pages' worth."""
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=240,
    )
    count, black, before_mb, after_mb = result.stdout.split()
    assert (count, black) == ("100", "True")
    # One fine A4 page is 4 MB of bools plus its grey render (4 MB): a list of all 100
    # pages would add 400 MB. Measured: 7 MB; a few pages of slack for the allocator.
    assert int(after_mb) - int(before_mb) < 25, result.stdout
    assert int(after_mb) < 150, result.stdout


def test_prune_deletes_only_old_archive_files(tmp_path: Path) -> None:
    """Files older than keep_days go, newer ones and other files stay; the count is returned."""
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    ages = {"old-attempt-1.tif": 40, "edge-attempt-1.tif": 30.01, "new-attempt-1.tif": 29.9, "notes.txt": 90}
    for name, days in ages.items():
        path = tmp_path / name
        path.write_bytes(b"II*\x00")
        stamp = (now - timedelta(days=days)).timestamp()
        os.utime(path, (stamp, stamp))
    (tmp_path / "link.tif").symlink_to(tmp_path / "old-attempt-1.tif")
    os.utime(tmp_path / "link.tif", (0, 0), follow_symlinks=False)
    assert prune_archive(tmp_path, keep_days=30, now=now) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.tif", "new-attempt-1.tif", "notes.txt"]
    assert prune_archive(tmp_path, keep_days=30, now=now) == 0


def test_prune_refuses_nonsense_and_tolerates_a_missing_folder(tmp_path: Path) -> None:
    """A negative age or a naive clock is a mistake; no archive folder yet is nothing to do."""
    now = datetime(2026, 11, 26, tzinfo=UTC)
    with pytest.raises(ValueError, match="negative"):
        prune_archive(tmp_path, keep_days=-1, now=now)
    with pytest.raises(ValueError, match="aware"):
        prune_archive(tmp_path, keep_days=1, now=datetime(2026, 11, 26))
    assert prune_archive(tmp_path / "missing", keep_days=1, now=now) == 0
