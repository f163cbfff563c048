"""Altcraft batches: records with the same request-level parameters share one `_batch` request; each item is the
record's data plus its own matching key values (the model of Altcraft's batch "data array")."""

from __future__ import annotations

import json
from typing import Any

from courier.destinations.altcraft import rules
from courier.destinations.values import compact_json

# Parameters that apply to a whole batch request; records that differ in any of them never share one.
BATCH_LEVEL = (
    "db_id",
    "matching",
    "field_name",
    "resource_id",
    "skip_triggers",
    "skip_invalid_subscriptions",
    "detect_geo",
)
ITEM_KEYS = ("email", "phone", "profile_id", "field_value", "provider", "subscription_id")
SINGLE = "single"


def needs_single_request(body: dict[str, Any]) -> bool:
    """Segments exist only on the single endpoints; a lookup e-mail that differs from the stored one cannot be
    said in a batch item (the item's email is both)."""
    if "add_to_segments" in body or "remove_from_segments" in body:
        return True
    stored = body["data"].get("email")
    return "email" in body and stored is not None and stored != body["email"]


def batch_key(body: dict[str, Any]) -> str:
    if needs_single_request(body):
        return SINGLE
    return json.dumps([body.get(name) for name in BATCH_LEVEL], separators=(",", ":"))


def batch_item(body: dict[str, Any]) -> dict[str, Any]:
    item = dict(body["data"])
    for name in ITEM_KEYS:
        if name in body:
            item[name] = body[name]
    return item


class AltcraftBatch:
    """Prepared request bodies (without token); `items` are their batch forms, serialised once."""

    __slots__ = ("bodies", "chars", "indexes", "items", "key", "originals")

    def __init__(self, key: str) -> None:
        self.key = key
        self.bodies: list[dict[str, Any]] = []
        self.originals: list[Any] = []  # at most a batch (≤ 10,000): a refused row goes to rejected/ as it came
        self.items: list[str] = []
        self.indexes: list[int] = []
        self.chars = 0

    @property
    def rows(self) -> int:
        return len(self.bodies)

    @property
    def single(self) -> bool:
        return self.key == SINGLE or len(self.bodies) == 1

    @property
    def non_idempotent(self) -> bool:
        return any(rules.uses_non_idempotent(body["data"]) for body in self.bodies)

    def add(self, fields: dict[str, Any], index: int, original: Any) -> None:
        item = compact_json(batch_item(fields))
        self.bodies.append(fields)
        self.originals.append(original)
        self.items.append(item)
        self.indexes.append(index)
        self.chars += len(item) + 1

    def records(self) -> list[Any]:
        return self.originals

    def subset(self, positions: list[int]) -> AltcraftBatch:
        part = AltcraftBatch(self.key)
        part.bodies = [self.bodies[p] for p in positions]
        part.items = [self.items[p] for p in positions]
        part.originals = [self.originals[p] for p in positions]
        part.indexes = [self.indexes[p] for p in positions]
        part.chars = sum(len(item) + 1 for item in part.items)
        return part

    def sample(self, limit: int) -> list[str]:
        return self.items[:limit]

    def batch_body(self, token: str) -> bytes:
        """The `_batch` request: the batch-level parameters once, then the items."""
        first = self.bodies[0]
        head: dict[str, Any] = {"token": token}
        head.update({name: first[name] for name in BATCH_LEVEL if name in first})
        opening = compact_json(head)[:-1]
        return (opening + ',"data":[' + ",".join(self.items) + "]}").encode("utf-8")
