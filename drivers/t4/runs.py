"""Scan lines as changing elements: the positions where the colour changes.

Both coding schemes work on changing elements (T.4 §4.2.1.2): 1-D coding sends the
distances between them as runs, 2-D coding sends their positions relative to the line
above.  numpy finds them for the whole page at once, so no Python code touches pixels.
A line always starts white (T.4 §4.1.2), so a line that starts black has a change at 0.
"""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Bitmap = npt.NDArray[np.bool_]
Indices = npt.NDArray[np.intp]


class Changes(NamedTuple):
    """Every changing element of a page: ``(rows[i], cols[i])``, in row-major order."""

    rows: Indices
    cols: Indices
    height: int
    width: int


def check_bitmap(pixels: Bitmap) -> None:
    """Raise ValueError unless ``pixels`` is a 2-D bool array at least one pixel wide."""
    if pixels.ndim != 2 or pixels.dtype != np.bool_:
        raise ValueError(f"a page is a 2-D bool array, not {pixels.ndim}-D {pixels.dtype}")
    if pixels.shape[1] < 1:
        raise ValueError("a page is at least one pixel wide")


def find_changes(pixels: Bitmap) -> Changes:
    """Return the page's changing elements; the pixel before column 0 counts as white."""
    rows, cols = np.nonzero(np.diff(pixels, axis=1, prepend=False))
    return Changes(rows, cols, int(pixels.shape[0]), int(pixels.shape[1]))


def changing_elements(changes: Changes) -> list[list[int]]:
    """Return, for each row, its changing elements as a strictly increasing list."""
    bounds = np.searchsorted(changes.rows, np.arange(changes.height + 1)).tolist()
    columns: list[int] = changes.cols.tolist()
    return [columns[start:end] for start, end in pairwise(bounds)]


def run_lengths(changes: Changes) -> tuple[Indices, Indices]:
    """Return every run of the page, white first on each line, and where each line starts.

    ``runs`` holds each line's runs in order, alternating white/black and starting with a
    (possibly empty) white run; line ``i`` is ``runs[starts[i]:starts[i + 1]]``.
    """
    rows, cols, height, width = changes
    stride = width + 1
    # Key every change and every line's start and end on one axis, then the gaps
    # between neighbours are the runs; the gap from one line's end to the next line's
    # start is not a run and is dropped.  A stable sort keeps a line's start before a
    # change at its column 0, giving the empty first white run.
    line_keys = np.arange(height, dtype=np.intp) * stride
    keys = np.concatenate([line_keys, rows * stride + cols, line_keys + width])
    line_end = np.zeros(keys.size, dtype=np.bool_)
    line_end[height + cols.size :] = True
    order = np.argsort(keys, kind="stable")
    runs = np.diff(keys[order])[~line_end[order][:-1]]
    # A line with c changes has c + 1 runs.
    per_line = np.bincount(rows, minlength=height) + 1
    starts = np.concatenate([[0], np.cumsum(per_line)])
    return runs, starts
