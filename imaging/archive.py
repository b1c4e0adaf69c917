"""The page archive: what went on the line, read back one page at a time, and pruned.

Each attempt's pages are written once, as a multi-page TIFF (`write_tiff_streaming`),
and the modem is handed `ArchivedPages` over that file rather than a list of bitmaps:
what was sent is then the archive by construction, and a 100-page document costs the
memory of one page (a fine A4 bitmap is 4 MB as numpy bools) instead of 400 MB.

`ArchivedPages` decodes page ``i`` when it is asked for (Pillow seeks to the i-th image
file directory; libtiff decodes only that page) and keeps only the last page decoded,
which is what a sender asking for the same page again (a resend after RTN, or page
length then pixels) needs. It is read-only: the file is never changed under it.

Retention: `prune_archive` deletes archive files older than the configured number of
days, by their modification time (a file is written once and never touched again, so
that is when it was sent).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import overload

import numpy as np
from PIL import Image

from drivers.page import FAX_WIDTH, FaxPage, Resolution

#: What the archive's files are called: ``<job>-attempt-<n>.tif`` (see faxd.runner_job).
ARCHIVE_PATTERN = "*.tif"


class ArchivedPages(Sequence[FaxPage]):
    """The pages of a TIFF written by `write_tiff`, decoded lazily, one held at a time.

    Raises OSError (or Pillow's UnidentifiedImageError, an OSError) if the file cannot
    be read as a TIFF; `__getitem__` raises ValueError if a page is not a fax page.
    """

    def __init__(self, path: Path, *, _indices: range | None = None) -> None:
        self.path = path
        if _indices is None:
            # Counting walks the chain of image file directories; no page is decoded.
            with Image.open(path) as image:
                _indices = range(getattr(image, "n_frames", 1))  # a one-page file has no n_frames
        self._indices = _indices
        self._last: tuple[int, FaxPage] | None = None

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, index: int) -> FaxPage: ...

    @overload
    def __getitem__(self, index: slice) -> ArchivedPages: ...

    def __getitem__(self, index: int | slice) -> FaxPage | ArchivedPages:
        if isinstance(index, slice):
            # A view on the same file, as lazy as this one.
            return ArchivedPages(self.path, _indices=self._indices[index])
        frame = self._indices[index]  # raises IndexError as a list would
        last = self._last
        if last is not None and last[0] == frame:
            return last[1]
        page = read_page(self.path, frame)
        self._last = (frame, page)
        return page

    def __iter__(self) -> Iterator[FaxPage]:
        for position in range(len(self)):
            yield self[position]

    def __repr__(self) -> str:
        return f"ArchivedPages({str(self.path)!r}, pages={len(self)})"


def read_page(path: Path, frame: int) -> FaxPage:
    """Reads page ``frame`` (0-based) of the archive TIFF at ``path``; ``ArchivedPages``
    calls it for each page it decodes. Raises ValueError for a frame that is no fax page."""
    with Image.open(path) as image:
        image.seek(frame)
        # Pillow's mode "1" is True where white; WhiteIsZero is undone by Pillow itself.
        pixels = ~np.asarray(image.convert("1"))
        vertical_dpi = float(image.info.get("dpi", Resolution.FINE.dpi)[1])
    if pixels.ndim != 2 or pixels.shape[1] != FAX_WIDTH:
        raise ValueError(f"page {frame + 1} of {path.name} is not a fax page: {pixels.shape}")
    # Pillow gives the rational back as a float (195.99...): take the nearer resolution.
    resolution = min(Resolution, key=lambda candidate: abs(candidate.value - vertical_dpi))
    return FaxPage(np.ascontiguousarray(pixels), resolution)


def prune_archive(folder: Path, *, keep_days: int, now: datetime) -> int:
    """Delete the archive files in ``folder`` last written more than ``keep_days`` days
    before ``now`` (an aware datetime); return how many were deleted.

    A missing folder has nothing to prune (0). Only regular ``*.tif`` files directly in
    ``folder`` are considered. Raises ValueError if ``keep_days`` is negative or ``now``
    is naive (a naive time would be taken as local time and could be an hour off).
    """
    if keep_days < 0:
        raise ValueError(f"keep_days cannot be negative: {keep_days}")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    cutoff = (now - timedelta(days=keep_days)).timestamp()
    if not folder.is_dir():
        return 0
    deleted = 0
    for path in folder.glob(ARCHIVE_PATTERN):
        try:
            status = path.lstat()
        except FileNotFoundError:
            continue  # pruned by someone else meanwhile
        # lstat and is-regular: a symlink is not ours to follow out of the archive.
        if not path.is_symlink() and path.is_file() and status.st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
