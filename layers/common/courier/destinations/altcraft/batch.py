"""Altcraft batches: records with the same batch-level parameters share one `_batch` request; each item is the
profile's own data, its matching key one of its fields (the profile methods, methods.PROFILE_BATCHES), or
{keys…, "data": {…}} (the "Data array" of the trigger methods, docs/contracts/altcraft.md#trigger-batch). A record a
profile batch cannot
say goes alone."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from courier.destinations.altcraft import rules
from courier.destinations.altcraft.methods import FIELD_NAME, IMPORT, PROFILE_BATCHES, Method, batch_place
from courier.destinations.values import compact_json
from courier.model import Fields, field_map

SINGLE = "single"


def needs_single_request(method: Method, body: dict[str, Any]) -> bool:
    """Segments exist only on the single endpoints. A profile batch carries only what its page documents: a record
    with an option it does not list, or whose matching key is no field of the profile's own data, goes alone."""
    if not method.batched or "add_to_segments" in body or "remove_from_segments" in body:
        return True
    return not method.nested_items and profile_item(method, body) is None


def profile_item(method: Method, body: dict[str, Any]) -> dict[str, Any] | None:
    """A profile batch's item: the record's data, its matching key as the profile's own field (`email` →
    data.email, `phone` → the first of data.phones, `custom` → data[field_name], set from field_value when the data
    lacks it), nothing else. None when the batch cannot say the record: an option its page does not list, a key that
    is no profile field, or data that holds the key's field with another value or a function."""
    if not method.matches:  # profiles/add: the item is the profile's data, nothing to find it by
        return dict(body["data"])
    if any(name in PROFILE_BATCHES and batch_place(method, name) is None for name in body):
        return None
    place = batch_place(method, "matching:" + str(body.get("matching")))
    if place is None:
        return None
    data = body["data"]
    item = dict(data)
    for field in place.split("|"):
        if field == "phones":
            phones = data.get("phones")
            if "phone" not in body:
                if phones is not None:  # the item would say a number the record is not matched by
                    return None
            elif not (isinstance(phones, list) and phones and phones[0] == body["phone"]):
                return None  # adding the number would replace the profile's phones
            continue
        name: Any
        if field == "email":
            name, key = "email", "email"
        elif field == FIELD_NAME:
            name, key = body.get("field_name"), "field_value"
        else:  # a place this code does not know: the record goes alone
            return None
        if key not in body or not isinstance(name, str):
            if name in data:  # the item would say a key the record is not matched by
                return None
            continue
        if name not in data:
            item[name] = body[key]
        elif data[name] != body[key]:  # another value (a changed key) or a function: the key would be lost
            return None
    return item


def batch_key(method: Method, body: dict[str, Any]) -> str:
    if needs_single_request(method, body):
        return SINGLE
    text = json.dumps([body.get(name) for name in method.batch_params], separators=(",", ":"))
    if method.launches:  # content, custom_data and files: the key is kept in the ledger, so only its digest
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def batch_keyer(method: Method) -> Callable[[dict[str, Any]], str]:
    return partial(batch_key, method)


def batch_item(method: Method, body: dict[str, Any]) -> dict[str, Any]:
    if not method.batched:
        return body
    if method.nested_items:
        item = {name: body[name] for name in method.item_keys if name in body}
        item["data"] = body["data"]
        return item
    flat = profile_item(method, body)
    return flat if flat is not None else body  # a record that goes alone: its single body, as it is sent


def single_body(body: dict[str, Any], token: str) -> bytes:
    """A single-profile request: the token, then the prepared body as it is (its keys in the method's order)."""
    return compact_json({"token": token, **body}).encode("utf-8")


class AltcraftBatch:
    """Prepared request bodies (without token); `items` are their batch forms, serialised once."""

    __slots__ = ("bodies", "chars", "indexes", "items", "key", "method", "originals")

    def __init__(self, key: str, method: Method = IMPORT) -> None:
        self.key = key
        self.method = method
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
        return any(rules.uses_non_idempotent(body.get("data") or {}) for body in self.bodies)

    def add(self, fields: Fields, index: int, original: Any) -> None:
        fields = field_map(fields)
        item = compact_json(batch_item(self.method, fields))
        if not self.bodies:
            self.chars = self._head_chars(fields)
        self.bodies.append(fields)
        self.originals.append(original)
        self.items.append(item)
        self.indexes.append(index)
        self.chars += len(item) + 1

    def _head_chars(self, first: dict[str, Any]) -> int:
        """The root's parameters, counted where they can be large (a trigger's content and files)."""
        return len(compact_json(self._head(first, ""))) if self.method.launches else 0

    def _head(self, first: dict[str, Any], token: str) -> dict[str, Any]:
        head: dict[str, Any] = {"token": token}
        head.update({name: first[name] for name in self.method.batch_params if name in first})
        return head

    def records(self) -> list[Any]:
        return self.originals

    def subset(self, positions: list[int]) -> AltcraftBatch:
        part = AltcraftBatch(self.key, self.method)
        part.bodies = [self.bodies[p] for p in positions]
        part.items = [self.items[p] for p in positions]
        part.originals = [self.originals[p] for p in positions]
        part.indexes = [self.indexes[p] for p in positions]
        first = part._head_chars(part.bodies[0]) if part.bodies else 0
        part.chars = first + sum(len(item) + 1 for item in part.items)
        return part

    def sample(self, limit: int) -> list[str]:
        return self.items[:limit]

    def batch_body(self, token: str) -> bytes:
        """The `_batch` request: the batch-level parameters once, then the items."""
        opening = compact_json(self._head(self.bodies[0], token))[:-1]
        return (opening + ',"data":[' + ",".join(self.items) + "]}").encode("utf-8")


def new_batch(method: Method) -> Callable[[str], AltcraftBatch]:
    def make(key: str) -> AltcraftBatch:
        return AltcraftBatch(key, method)

    return make
