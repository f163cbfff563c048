"""Where each record ends: delivered, rejected with a reason, or still to retry."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(enum.Enum):
    DELIVERED = "delivered"
    REJECTED = "rejected"  # the destination refused the records: retrying cannot help
    RETRY = "retry"  # not delivered now (outage, throttling, bad key): the message goes back to SQS


@dataclass(frozen=True)
class ItemResult:
    """One record's outcome inside a batch the destination answered item by item."""

    status: Status
    reason: str = ""
    destination_id: str = ""


@dataclass(frozen=True)
class SendResult:
    status: Status  # the whole request's; when `items` is set, each record's own status counts instead
    reason: str = ""
    requests: int = 1
    retries: int = 0
    items: tuple[ItemResult, ...] | None = None
    split: bool = False  # refused whole for rows it did not name: halving the batch finds them

    @property
    def finished(self) -> bool:
        """False when nothing was settled: every record is still to retry (so the ledger records nothing)."""
        statuses = [item.status for item in self.items] if self.items is not None else [self.status]
        return any(status is not Status.RETRY for status in statuses)

    def to_json(self) -> dict[str, Any]:
        items = None if self.items is None else [[i.status.value, i.reason, i.destination_id] for i in self.items]
        return {
            "status": self.status.value,
            "reason": self.reason,
            "requests": self.requests,
            "retries": self.retries,
            "items": items,
            "split": self.split,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SendResult:
        items = data.get("items")
        return cls(
            Status(data["status"]),
            data.get("reason", ""),
            data.get("requests", 0),
            data.get("retries", 0),
            None if items is None else tuple(ItemResult(Status(s), r, d) for s, r, d in items),
            bool(data.get("split")),
        )


@dataclass
class Tally:
    """The counts a report shows; read = delivered + rejected + duplicates_skipped + pending always holds."""

    read: int = 0
    delivered: int = 0
    rejected: int = 0
    duplicates_skipped: int = 0  # delivered by an earlier run of the same file or message: not sent again
    pending: int = 0
    requests: int = 0
    retries: int = 0
    retry_reason: str = ""
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    first_rejections: list[dict[str, Any]] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)
    dropped_values: dict[str, int] = field(default_factory=dict)  # values left out of records that were sent

    def reject(self, index: int, errors: list[str]) -> None:
        self.rejected += 1
        for error in errors:
            reason = error.split(": ", 1)[0]
            self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + 1
        if len(self.first_rejections) < 20:
            self.first_rejections.append({"index": index, "errors": errors})

    def drop_values(self, reasons: list[str]) -> None:
        for reason in reasons:
            self.dropped_values[reason] = self.dropped_values.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
