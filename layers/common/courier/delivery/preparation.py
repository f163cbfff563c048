"""How a door turns records into a destination's fields: one setup for every door and `courier send`. The
destination's own preparer, behind the mapping's when a mapping is named; records a door already prepared go as
they are."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from courier.model import Destination, PreparedRow, Record, RowPreparer

if TYPE_CHECKING:
    from courier.mappings.rules import CompiledMapping
    from courier.settings import Settings


class PreparedRecord(dict[str, Any]):
    """A record the HTTPS door prepared: sent as it is, never prepared twice."""


@dataclass(frozen=True)
class Preparation:
    prepare: RowPreparer
    knows: Callable[[str], bool] | None = None  # which source fields the mapping reads (None: no mapping)


def preparation(
    destination: Destination, settings: Settings, mapping: CompiledMapping | None = None, as_is: bool = False
) -> Preparation:
    """The preparer a delivery uses: through `mapping` when given; with `as_is`, records a door already prepared
    (PreparedRecord) pass unchanged."""
    prepare = destination.make_preparer(settings, time.time())
    knows = None
    if mapping is not None:
        prepare, knows = mapping.preparer(prepare), mapping.knows
    return Preparation(_sent_as_prepared(prepare) if as_is else prepare, knows)


def _sent_as_prepared(prepare: RowPreparer) -> RowPreparer:
    def prepare_any(record: Record) -> PreparedRow:
        if type(record) is PreparedRecord:
            return dict(record), []
        return prepare(record)

    return prepare_any
