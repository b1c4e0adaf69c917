"""The eight T.30 session parameters as Class 2 modems write them (T.32 8.5.1.1, SP-2388).

``vr`` resolution, ``br`` bit rate, ``wd`` width, ``ln`` length, ``df`` data format
(coding), ``ec`` error correction, ``bf`` file transfer, ``st`` minimum scan time; the
same order in ``+FDCC``/``+FCC`` (what the modem may use), ``+FDIS``/``+FIS`` (this
session, or the remote's DIS when the modem reports it) and ``+FDCS``/``+FCS`` (the DCS
the modem sent). T.32 writes the values in hexadecimal (only ``br`` of Class 2.1 gets
past 9).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: br -> bit/s: V.27ter, V.29, V.17, then V.34 (Class 2.1).
BIT_RATES = {0: 2400, 1: 4800, 2: 7200, 3: 9600, 4: 12000, 5: 14400, 6: 16800, 7: 19200,
             8: 21600, 9: 24000, 10: 26400, 11: 28800, 12: 31200, 13: 33600}  # fmt: skip
#: st -> (ms at normal resolution, ms at fine): 2, 4 and 6 halve at fine (T.30 Table 2).
SCAN_TIMES = {0: (0, 0), 1: (5, 5), 2: (10, 5), 3: (10, 10), 4: (20, 10), 5: (20, 20), 6: (40, 20), 7: (40, 40)}
_CODING_NAMES = {0: "MH", 1: "MR", 2: "uncompressed", 3: "MMR"}


@dataclass(frozen=True, slots=True)
class SessionParams:
    """One session as the modem reports it (+FDCS / +FCS)."""

    vr: int = 0
    br: int = 0
    wd: int = 0
    ln: int = 0
    df: int = 0
    ec: int = 0
    bf: int = 0
    st: int = 0

    @classmethod
    def parse(cls, text: str, *, radix: int = 10) -> SessionParams | None:
        """Returns the parameters in "1,5,0,2,0,0,0,0", or None if they are not numbers."""
        fields = [field.strip() for field in text.split(",")]
        try:
            values = [int(field, radix) if field else 0 for field in fields[:8]]
        except ValueError:
            return None
        return cls(*values, *([0] * (8 - len(values))))

    @property
    def bps(self) -> int:
        return BIT_RATES.get(self.br, 2400)

    @property
    def ecm(self) -> bool:
        return self.ec > 0

    @property
    def min_scan_ms(self) -> int:
        normal, fine = SCAN_TIMES.get(self.st, (20, 20))
        return fine if self.vr else normal

    @property
    def coding_name(self) -> str:
        return _CODING_NAMES.get(self.df, str(self.df))


def parse_ranges(text: str) -> list[frozenset[int]]:
    """Returns the values each parameter may take in a ``+FCC=?`` answer such as
    "(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)" (hexadecimal values in T.32)."""
    groups = re.findall(r"\(([^)]*)\)", text) or text.split(",")
    ranges = []
    for group in groups:
        values: set[int] = set()
        for item in group.split(","):
            low, _, high = item.strip().partition("-")
            try:
                first = int(low, 16)
                values.update(range(first, int(high, 16) + 1) if high else (first,))
            except ValueError:
                continue
        ranges.append(frozenset(values))
    return ranges


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What we ask the modem to offer and accept (+FDCC / +FCC)."""

    vr: int = 1
    br: int = 5
    wd: int = 0
    ln: int = 2
    df: int = 0
    ec: int = 0
    bf: int = 0
    st: int = 0

    def text(self) -> str:
        return ",".join(f"{v:X}" for v in (self.vr, self.br, self.wd, self.ln, self.df, self.ec, self.bf, self.st))

    @classmethod
    def wanted(
        cls, offered: Sequence[frozenset[int]], *, ecm: bool, mmr: bool, ec_on: int, df_mmr: int
    ) -> Capabilities:
        """Returns the best the modem offers: fine, its fastest rate, A4 width, any length,
        MR (MMR with ECM when allowed), no file transfer, 0 ms scan time (the receiver's DIS
        decides the session's)."""

        def pick(index: int, preferred: Sequence[int], default: int) -> int:
            allowed = offered[index] if index < len(offered) and offered[index] else frozenset((default,))
            return next((value for value in preferred if value in allowed), min(allowed))

        ec = pick(5, (ec_on,) if ecm else (0,), 0)
        df = pick(4, ((df_mmr,) if mmr and ec else ()) + (1, 0), 0)
        rates = offered[1] if len(offered) > 1 and offered[1] else frozenset((5,))
        return cls(
            vr=pick(0, (1, 0), 0),
            br=max(rate for rate in rates if rate in BIT_RATES),
            wd=pick(2, (0,), 0),
            ln=pick(3, (2, 1, 0), 0),
            df=df,
            ec=ec,
            bf=0,
            st=pick(7, (0,), 0),
        )
