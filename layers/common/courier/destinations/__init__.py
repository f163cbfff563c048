"""A destination endpoint declared in one place: its name, route, field rules, batch limits and sender."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from courier.delivery.outcomes import SendResult
from courier.settings import Settings

Record = Mapping[str, Any]
# A prepared record: what to send (None when refused); then the reasons it was refused, or for a record sent,
# the values dropped from it (an invalid phone among valid ones). Reasons never quote a value.
Prepared = tuple[dict[str, Any] | None, list[str]]
Preparer = Callable[[Record], Prepared]


class Batch(Protocol):
    """Prepared records bound for one request; `indexes` are their places in the source, in batch order."""

    key: str
    chars: int

    @property
    def indexes(self) -> Sequence[int]: ...

    @property
    def rows(self) -> int: ...

    def add(self, fields: dict[str, Any], index: int, original: Any) -> None: ...

    def records(self) -> list[Any]:
        """The records as a rejected file should show them, in batch order (only read when some are refused)."""
        ...

    def sample(self, limit: int) -> list[str]:
        """The first rows as they would be sent (for `courier send --dry-run`)."""
        ...

    def subset(self, positions: list[int]) -> Batch:
        """A batch of the records at these positions (to split a refused batch, or retry only some records)."""
        ...


class Sender(Protocol):
    """Sends one batch as one request. Its caps say how large a batch the destination takes."""

    max_rows: int
    max_chars: int

    def send(self, batch: Batch, deadline: float) -> SendResult: ...


@dataclass(frozen=True)
class Destination:
    name: str  # the function's name: its S3 prefix, its queue, its folder under rejected/ and reports/
    route: str  # the HTTPS route on the stack's REST API
    fields: frozenset[str]  # every field a record may carry; others are ignored and reported
    make_preparer: Callable[[Settings, float], Preparer]  # (settings, now) → per-record validation
    batch_key: Callable[[dict[str, Any]], str]  # records with different keys never share a request
    new_batch: Callable[[str], Batch]
    make_sender: Callable[[Settings], Sender]
    field_prefixes: tuple[str, ...] = ()  # families of fields, such as flat `attributes.<name>` columns
    result_id: str = ""  # what the destination calls the id it answers per record (shown by ?mode=sync)

    def knows(self, name: str) -> bool:
        return name in self.fields or name.startswith(self.field_prefixes)
