"""The counts a report shows for one file, message or request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from courier import observability as seen

COUNTS = ("read", "delivered", "rejected", "duplicates_skipped", "skipped", "pending", "requests", "retries")
MAX_LISTED = 20  # first rejections and ignored field names a report lists; the counts cover the rest
BY_DESTINATION = "destination: "  # how a reason the destination's answer gave starts
LOST_ANSWER_PREFIX = BY_DESTINATION + "possibly delivered"  # … and one that followed a request without a clear answer


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
    by_destination: int = 0  # of `rejected`: refused by the destination's answer
    lost_answers: int = 0  # of `rejected`: possibly delivered, never resent

    def reject(self, index: int, errors: list[str]) -> None:
        self.rejected += 1
        first = errors[0] if errors else ""
        if first.startswith(LOST_ANSWER_PREFIX):
            self.lost_answers += 1
        elif first.startswith(BY_DESTINATION):
            self.by_destination += 1
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
        for name in (*COUNTS, "by_destination", "lost_answers"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, count in other.rejected_reasons.items():
            self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + count
        for reason, count in other.dropped_values.items():
            self.dropped_values[reason] = self.dropped_values.get(reason, 0) + count
        self.first_rejections = (self.first_rejections + other.first_rejections)[:MAX_LISTED]
        self.ignored |= other.ignored
        self.retry_reason = other.retry_reason or self.retry_reason

    def count(self) -> None:
        """Adds these counts to the invocation's metrics (once per file part, batch of messages or request)."""
        invocation = seen.invocation
        for metric, value in (
            (seen.RECORDS_READ, self.read),
            (seen.RECORDS_DELIVERED, self.delivered),
            (seen.RECORDS_REJECTED, self.rejected),
            (seen.REJECTED_INVALID, self.rejected - self.by_destination - self.lost_answers),
            (seen.REJECTED_BY_DESTINATION, self.by_destination),
            (seen.REJECTED_LOST_ANSWER, self.lost_answers),
            (seen.DUPLICATES_SKIPPED, self.duplicates_skipped),
            (seen.RECORDS_PENDING, self.pending),
            (seen.RECORDS_FILTERED, self.skipped),
            (seen.RETRIES, self.retries),
            (seen.VALUES_DROPPED, sum(self.dropped_values.values())),
        ):
            invocation.count(metric, value)

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
