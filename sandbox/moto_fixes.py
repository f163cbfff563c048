"""One of moto's costs that AWS does not have, taken away where Courier runs moto (tests, the sandbox, the bench).

moto's TransactWriteItems deep-copies the whole table once per item of the transaction, to roll back on a failed
condition: a transaction of 100 items on a table of a few thousand takes seconds, and grows with the table (the
ledger holds an item per SQS message). Here, on tables with a hash key only (the ledger's), the items the
transaction touches are saved instead and put back on a rollback: the same outcome, at a cost that does not grow
with the table. Other tables are copied once per transaction. Nothing else of moto changes."""

from __future__ import annotations

import copy
import threading
from functools import wraps
from typing import Any

_state = threading.local()


class _TransactionCopies:
    """Stands for the `copy` module inside moto's DynamoDB models: during a transaction a table is copied at most
    once, and not at all when the transaction saves the items it touches itself (`_state.copies` is None then)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if not hasattr(_state, "copies") or memo is not None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if _state.copies is None:
            return value  # its touched items are saved: the "rollback" puts back the same table
        if id(value) not in _state.copies:
            _state.copies[id(value)] = copy.deepcopy(value)
        return _state.copies[id(value)]


def _touched_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]] | None:
    """(table, hash key, a copy of the item or None) for each item the transaction touches; None when a table has
    a range key (then the table is copied)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for transact_item in transact_items:
        _, op = next(iter(transact_item.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        if table.range_key_attr is not None:
            return None
        attributes = op.get("Item") or op.get("Key") or {}
        if table.hash_key_attr not in attributes:
            continue  # moto refuses it itself
        key = DynamoType(attributes[table.hash_key_attr])
        saved.append((table, key, copy.deepcopy(table.items.get(key))))
    return saved


def apply() -> None:
    """Idempotent: safe to call from every place that starts moto."""
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, "courier_copies", False):
        return
    original = backend.transact_write_items

    @wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _touched_items(self, transact_items)
        _state.copies = None if saved is not None else {}
        try:
            original(self, transact_items)
        except Exception:
            for table, key, item in reversed(saved or []):
                if item is None:
                    table.items.pop(key, None)
                else:
                    table.items[key] = item
            raise
        finally:
            del _state.copies

    transact_write_items.courier_copies = True  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    models.copy = _TransactionCopies()  # type: ignore[attr-defined,assignment]
