"""The counts a report shows for one file, message or request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COUNTS = ("read", "delivered", "rejected", "duplicates_skipped", "skipped", "pending", "requests", "retries")
MAX_LISTED = 20  # first rejections and ignored field names a report lists; the counts cover the rest


@dataclass
class Tally:
    """read = delivered + rejected + duplicates_skipped + skipped + pending always holds."""

    read: int = 0
    delivered: int = 0
    rejected: int = 0
    duplicates_skipped: int = 0  # delivered by an earlier attempt at the same file or message: not sent again
    skipped: int = 0  # left out by a mapping's filter: neither sent nor refused
    pending: int = 0
    requests: int = 0
    retries: int = 0
    retry_reason: str = ""
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    first_rejections: list[dict[str, Any]] = field(default_factory=list)
    ignored: set[str] = field(default_factory=set)  # fields no destination rule knows: sorted once, for the report
    dropped_values: dict[str, int] = field(default_factory=dict)  # values left out of records that were sent

    def reject(self, index: int, errors: list[str]) -> None:
        self.rejected += 1
        for error in errors:
            reason = error.split(": ", 1)[0][:100]
            self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + 1
        if len(self.first_rejections) < MAX_LISTED:
            self.first_rejections.append({"index": index, "errors": errors})

    def drop_values(self, reasons: list[str]) -> None:
        for reason in reasons:
            self.dropped_values[reason] = self.dropped_values.get(reason, 0) + 1

    def add(self, other: Tally) -> None:
        """Adds another part's counts (a continuation's report covers the whole file)."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, count in other.rejected_reasons.items():
            self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + count
        for reason, count in other.dropped_values.items():
            self.dropped_values[reason] = self.dropped_values.get(reason, 0) + count
        self.first_rejections = (self.first_rejections + other.first_rejections)[:MAX_LISTED]
        self.ignored |= other.ignored
        self.retry_reason = other.retry_reason or self.retry_reason

    def as_dict(self) -> dict[str, Any]:
        names = sorted(self.ignored)
        return {
            "read": self.read,
            "delivered": self.delivered,
            "rejected": self.rejected,
            "duplicates_skipped": self.duplicates_skipped,
            "skipped": self.skipped,
            "pending": self.pending,
            "requests": self.requests,
            "retries": self.retries,
            "retry_reason": self.retry_reason,
            "rejected_reasons": dict(sorted(self.rejected_reasons.items(), key=lambda kv: -kv[1])[:100]),
            "first_rejections": self.first_rejections,
            "ignored_fields": names[:MAX_LISTED]
            + ([f"… {len(names) - MAX_LISTED} more"] if len(names) > MAX_LISTED else []),
            "dropped_values": self.dropped_values,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        """Counts carried by a continuation message (the lists are left behind: the report of each part has them)."""
        tally = cls()
        for name in COUNTS:
            setattr(tally, name, int(data.get(name, 0)))
        tally.rejected_reasons = {str(k): int(v) for k, v in dict(data.get("rejected_reasons", {})).items()}
        return tally
