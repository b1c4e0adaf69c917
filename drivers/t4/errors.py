"""The one error the codecs raise."""

from __future__ import annotations

from faxerrors import FaxError


class T4DecodeError(FaxError, ValueError):
    """Coded page data that does not decode: a bad code, a wrong line length, or a truncation.

    ``line`` is the 0-based scan line being decoded when the fault was found, ``bit`` the
    offset into the data (in transmission order) where it was found.
    """

    def __init__(self, message: str, *, line: int, bit: int) -> None:
        super().__init__(f"line {line}, bit {bit}: {message}")
        self.line = line
        self.bit = bit
