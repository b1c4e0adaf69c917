"""Test pages for driver and simulator tests: random black boxes, text-like in how they
code (many short runs), reproducible from a seed."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from drivers.page import FAX_WIDTH


def random_boxes(
    seed: int,
    rows: int,
    *,
    boxes: int = 60,
    height: tuple[int, int] = (2, 12),
    width: tuple[int, int] = (3, 300),
) -> npt.NDArray[np.bool_]:
    """A rows x 1728 page with ``boxes`` black rectangles; sizes drawn from the half-open ranges."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((rows, FAX_WIDTH), dtype=np.bool_)
    for _ in range(boxes):
        top, left = int(rng.integers(0, rows - height[1])), int(rng.integers(0, FAX_WIDTH - width[1]))
        pixels[top : top + int(rng.integers(*height)), left : left + int(rng.integers(*width))] = True
    return pixels
