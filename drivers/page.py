"""The fax page as the rest of faxd hands it to a driver: a bilevel bitmap.

Imaging produces these, drivers encode them (T.4/T.6) once the remote's capabilities
are known, and the simulated modem decodes what it receives back into them, so a
test can compare sent and received pages pixel for pixel.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: A4 width at 204 dpi: the standard scan line of T.4 (1728 picture elements).
FAX_WIDTH = 1728


class Resolution(enum.Enum):
    """Vertical resolution of a page; horizontal is always 204 dpi (8 pels/mm)."""

    NORMAL = 98  # 3.85 lines/mm
    FINE = 196  # 7.7 lines/mm
    SUPERFINE = 391  # 15.4 lines/mm (T.30 Table 2 bit 41)

    @property
    def dpi(self) -> tuple[int, int]:
        return (204, self.value)

    @property
    def lines_per_mm(self) -> float:
        return {Resolution.NORMAL: 3.85, Resolution.FINE: 7.7, Resolution.SUPERFINE: 15.4}[self]


@dataclass(frozen=True, slots=True)
class FaxPage:
    """One page: ``pixels`` is a 2-D bool array (rows x FAX_WIDTH), True is black."""

    pixels: npt.NDArray[np.bool_]
    resolution: Resolution = Resolution.FINE

    def __post_init__(self) -> None:
        if self.pixels.ndim != 2 or self.pixels.dtype != np.bool_:
            raise ValueError("a fax page is a 2-D bool array")
        if self.pixels.shape[1] != FAX_WIDTH:
            raise ValueError(f"a fax page is {FAX_WIDTH} pixels wide, not {self.pixels.shape[1]}")

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def length_mm(self) -> float:
        return self.height / self.resolution.lines_per_mm

    def rows_at(self, target: Resolution) -> npt.NDArray[np.bool_]:
        """Returns the page's rows at ``target`` (the resolution a DCS announced): each
        row repeated when the remote gets more lines per mm than the page has, every
        2nd/4th row when it gets fewer (the remote cannot print more)."""
        have = _STEPS[self.resolution]
        want = _STEPS[target]
        if want > have:
            return np.repeat(self.pixels, 2 ** (want - have), axis=0)
        if want < have:
            return self.pixels[:: 2 ** (have - want)]
        return self.pixels


_STEPS = {Resolution.NORMAL: 0, Resolution.FINE: 1, Resolution.SUPERFINE: 2}  # powers of two
