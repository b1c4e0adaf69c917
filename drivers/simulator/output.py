"""What the simulated remote "prints": one directory per call.

``call-NNNN/pages.tif`` holds the received pages (multi-page, bilevel, CCITT G4) and
``call-NNNN/summary.json`` describes the call: number, caller's TSI, bit rate, resolution,
coding, ECM, outcome and reason, the faults the profile scripted that actually happened,
the response each page got (``page_results``, counted in ``page_outcomes``) and, for
ECM, the frames sent again after PPR. The summary is written last and atomically
(temporary file, fsync, ``os.replace``), so a watcher that sees it can trust the TIFF.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PIL import Image

from drivers.page import Resolution
from drivers.simulator.remote import ReceivedCall


def write_call(out_dir: Path, call: ReceivedCall) -> Path:
    """Writes the call's pages and summary; returns the call's directory."""
    directory = out_dir / f"call-{call.call_id:04d}"
    directory.mkdir(parents=True, exist_ok=True)
    resolution = call.resolution or Resolution.FINE
    images = [Image.fromarray(~pixels) for pixels in call.pages if pixels.size]  # mode "1": white = 1
    if images:
        tiff = directory / "pages.tif"
        tmp = tiff.with_suffix(".tif.tmp")
        images[0].save(
            tmp,
            format="TIFF",
            save_all=True,
            append_images=images[1:],
            compression="group4",
            dpi=resolution.dpi,
        )
        os.replace(tmp, tiff)
    summary = {
        "call_id": call.call_id,
        "number": call.number,
        "remote_tsi": call.remote_tsi,
        "pages": len(call.pages),
        "bit_rate": call.bit_rate,
        "resolution": f"{resolution.dpi[0]}x{resolution.dpi[1]}" if call.resolution else None,
        "coding": call.coding,
        "ecm": call.ecm,
        "outcome": call.outcome.value,
        "reason": call.reason,
        "faults": list(call.faults),  # the scripted faults that happened (profiles.py names)
        "page_outcomes": call.page_outcomes,  # e.g. {"mcf": 2, "rtn": 1}
        "page_results": list(call.page_results),  # the response to each page, in order
        "frames_resent": call.frames_resent,  # ECM: FCD frames received again after PPR
        "started": call.started.isoformat(),
        "ended": call.ended.isoformat(),
    }
    path = directory / "summary.json"
    tmp = directory / ".summary.json.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return directory
