"""What an import did."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MAX_LISTED", "ImportSummary"]

#: Past this many, rejections and warnings are counted but not listed.
MAX_LISTED = 10_000


@dataclass
class ImportSummary:
    """What an import did; rejections and warnings carry line numbers, never personal data."""

    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)
    #: Lines loaded without something unusable, e.g. a phone number that is not valid.
    warnings: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def residents(self) -> int:
        """Residents accepted from the file, whether or not they changed the registry."""
        return self.loaded + self.updated + self.unchanged

    def reject(self, line: int, message: str) -> None:
        """Count a skipped line and list it while the list is short enough to read."""
        self.rejected += 1
        if len(self.rejections) < MAX_LISTED:
            self.rejections.append((line, message))

    def warn(self, line: int, message: str) -> None:
        """List a line that loaded without something."""
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append((line, message))

    def absorb(
        self, rejected: int, rejections: list[tuple[int, str]], warnings: list[tuple[int, str]]
    ) -> None:
        """Add the messages of one chunk of the file."""
        self.rejected += rejected
        self.rejections += rejections[: MAX_LISTED - len(self.rejections)]
        self.warnings += warnings[: MAX_LISTED - len(self.warnings)]
