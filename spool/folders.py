"""The spool's folders, all on one filesystem so that a claim is a single rename.

incoming/    care systems drop PDFs here (and an optional NAME.pdf.json sidecar)
work/        claimed documents, named by document id, kept until every job ends
done/        documents whose every job was confirmed
failed/      documents with a job that failed: kept for manual follow-up
quarantine/  what could not be used, each with a NAME.reason file saying why
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SpoolFolders:
    root: Path

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def done(self) -> Path:
        return self.root / "done"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    def create(self) -> None:
        for folder in (self.incoming, self.work, self.done, self.failed, self.quarantine):
            folder.mkdir(parents=True, exist_ok=True)
