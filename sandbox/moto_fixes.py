"""One of moto's costs that AWS does not have, taken away where Courier runs moto (tests, the sandbox, the bench).

moto's TransactWriteItems copies the whole table once per item of the transaction, to roll back on a failed
condition: a transaction of 100 items on a table of a few thousand takes seconds, and grows with the table. Here
the copy is made once per table and transaction; the rollback is the same (the table as it was before the
transaction). Nothing else of moto changes."""

from __future__ import annotations

import copy
import threading
from functools import wraps
from typing import Any

_state = threading.local()


class _CopyOncePerTransaction:
    """Stands for the `copy` module inside moto's DynamoDB models."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        copies = getattr(_state, "copies", None)
        if copies is None or memo is not None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in copies:
            copies[id(value)] = copy.deepcopy(value)
        return copies[id(value)]


def apply() -> None:
    """Idempotent: safe to call from every place that starts moto."""
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, "courier_copy_once", False):
        return
    original = backend.transact_write_items

    @wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _state.copies = {}
        try:
            original(self, transact_items)
        finally:
            _state.copies = None

    transact_write_items.courier_copy_once = True  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    models.copy = _CopyOncePerTransaction()  # type: ignore[attr-defined,assignment]
