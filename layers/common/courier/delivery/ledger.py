"""What was sent: each chunk of a file, message or request is marked *sending* before its request leaves and *done*
(with the destination's answer) after a clear one, so a later attempt knows what to do with it:

- no entry: never sent; the chunk is formed and sent now;
- *done*: sent and answered; its answer is replayed (delivered rows are skipped, refused rows are refused again);
- *sending* within its lease: another invocation is sending it now; the message comes back later;
- *sending* past its lease: an attempt sent it (or was about to) and ended without recording the answer — killed,
  timed out, or unable to write the ledger. It was possibly sent: the driver resends it only where that is harmless.

An entry also fixes the chunk's extent (`end`) and which of its rows went into the request (`sent`), so every
attempt rebuilds exactly the same request. With `IDEMPOTENCY_TABLE` the ledger is that DynamoDB table; without it,
an in-memory one that lasts one invocation (local runs)."""

from __future__ import annotations

import json
import math
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
SENDING, DONE = "sending", "done"
RETENTION_SECONDS = 15 * 24 * 3600  # past the Post API's 14-day window, after which nothing can be re-sent anyway
READ_MANY = 100  # DynamoDB's cap: the keys a BatchGetItem reads
WRITE_ATTEMPTS = 6  # a ledger call is tried this many times (back-off 0.05 s doubling) before it gives up
PARALLEL_CALLS = 8  # ledger calls in flight at once (botocore pools 10 connections)


class LedgerUnavailableError(RuntimeError):
    """The ledger could not be read or written after retries: nothing is sent without it."""


@dataclass
class Entry:
    state: str
    lease: float = 0.0  # epoch seconds: when the invocation that wrote a *sending* entry is certainly over
    end: int = 0  # the index of the chunk's last row
    sent: bytes = b""  # a bitmap over the chunk's rows: those that went into the request
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # batch key → SendResult.to_json()
    attempt: str = ""  # who wrote it: a write whose answer was lost is recognised as one's own
    settled: bytes = b""  # a message's: a bitmap over its records, those delivered or rejected for good

    def live(self, now: float) -> bool:
        return self.state == SENDING and self.lease >= now

    def was_sent(self, position: int) -> bool:
        return has_bit(self.sent, position)


def has_bit(bits: bytes | bytearray, position: int) -> bool:
    byte = position >> 3
    return byte < len(bits) and bool(bits[byte] & (1 << (position & 7)))


def set_bit(bits: bytearray, position: int) -> None:
    if len(bits) <= position >> 3:
        bits.extend(bytes((position >> 3) + 1 - len(bits)))
    bits[position >> 3] |= 1 << (position & 7)


class Ledger(Protocol):
    def read(self, key: str) -> Entry | None: ...

    def begin(self, key: str, entry: Entry, replacing: Entry | None = None) -> Entry | None:
        """Writes a *sending* entry where there is none (or where the stored one is still `replacing`).
        Returns None when written, else the entry found there."""
        ...

    def finish(self, key: str, entry: Entry) -> None:
        """Records a chunk as *done*."""
        ...

    def release(self, key: str) -> None:
        """Forgets a chunk nothing of which reached the destination (a clear 'not processed', a failed connection)."""
        ...

    def claim(self, key: str, owner: str, expires: float = 0) -> str:
        """The owner of `key`: `owner` if nobody had it (a dropped file belongs to the message that first saw it);
        kept until `expires` (Unix seconds) when given, else for the ledger's retention."""
        ...

    def read_many(self, keys: list[str]) -> dict[str, Entry]:
        """The entries of many keys at once (those that exist)."""
        ...

    def write_many(self, writes: list[tuple[str, Entry, str]]) -> set[str]:
        """Writes entries, each only if the stored one was written by the attempt given ('': only if there is
        none). Returns the keys written: a chunk is sent only when all of its messages' entries were, so an entry
        another invocation holds stops the chunk, and those written are settled afterwards as any others."""
        ...


class MemoryLedger:
    """The ledger of one invocation, when no table is configured."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def read(self, key: str) -> Entry | None:
        with self._lock:
            return self._entries.get(key)

    def begin(self, key: str, entry: Entry, replacing: Entry | None = None) -> Entry | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found is not replacing:
                return found
            self._entries[key] = entry
            return None

    def finish(self, key: str, entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry

    def release(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def claim(self, key: str, owner: str, expires: float = 0) -> str:
        with self._lock:  # one invocation's memory: nothing outlives it to expire
            return self._owners.setdefault(key, owner)

    def read_many(self, keys: list[str]) -> dict[str, Entry]:
        with self._lock:
            return {key: self._entries[key] for key in keys if key in self._entries}

    def write_many(self, writes: list[tuple[str, Entry, str]]) -> set[str]:
        written: set[str] = set()
        with self._lock:
            for key, entry, expected in writes:
                if self._attempt_of(key) == expected:
                    self._entries[key] = entry
                    written.add(key)
        return written

    def _attempt_of(self, key: str) -> str:
        found = self._entries.get(key)
        return found.attempt if found is not None else ""


class DynamoLedger:
    """Entries in the template's table (`id` key, `expiration` TTL). Every call is retried with back-off: a ledger
    write that fails now and then costs time, never a duplicate."""

    def __init__(
        self, table: str, client: Any, sleep: Any = time.sleep, give_up_at: float = math.inf, clock: Any = time.time
    ) -> None:
        self._table = table
        self._client = client
        self._sleep, self._clock = sleep, clock
        self._give_up_at = give_up_at  # epoch seconds: no back-off runs past it (Lambda would kill the process)

    def read(self, key: str) -> Entry | None:
        answer = self._call("get_item", Key=_key(key), ConsistentRead=True)
        item = answer.get("Item")
        return None if item is None else _entry(item)

    def begin(self, key: str, entry: Entry, replacing: Entry | None = None) -> Entry | None:
        condition = _written_by(None if replacing is None else replacing.attempt)
        if self._call("put_item", Item=_item(key, entry), **condition) is not None:
            return None
        found = self.read(key)
        if found is not None and found.attempt == entry.attempt:
            return None  # our own write, whose answer was lost and whose retry found it
        return found or Entry(SENDING, lease=time.time() + 60)  # deleted in between: try again later

    def finish(self, key: str, entry: Entry) -> None:
        self._call("put_item", Item=_item(key, entry))

    def release(self, key: str) -> None:
        self._call("delete_item", Key=_key(key))

    def claim(self, key: str, owner: str, expires: float = 0) -> str:
        expiration = int(expires) if expires else int(time.time()) + RETENTION_SECONDS
        item = {**_key(key), "owner": {"S": owner}, "expiration": {"N": str(expiration)}}
        if self._call("put_item", Item=item, ConditionExpression="attribute_not_exists(id)") is not None:
            return owner
        answer = self._call("get_item", Key=_key(key), ConsistentRead=True)
        return str(answer.get("Item", {}).get("owner", {}).get("S", owner))

    def read_many(self, keys: list[str]) -> dict[str, Entry]:
        """One BatchGetItem per group of up to READ_MANY keys, the groups at the same time."""
        unique = list(dict.fromkeys(keys))
        groups = [unique[start : start + READ_MANY] for start in range(0, len(unique), READ_MANY)]
        found: dict[str, Entry] = {}
        for entries in _at_once(self._read_group, groups):
            found.update(entries)
        return found

    def _read_group(self, keys: list[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        wanted = [_key(key) for key in keys]
        while wanted:
            request = {self._table: {"Keys": wanted, "ConsistentRead": True}}
            answer = self._call("batch_get_item", RequestItems=request, table_in_request=False)
            for item in answer.get("Responses", {}).get(self._table, []):
                found[item["id"]["S"]] = _entry(item)
            wanted = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return found

    def write_many(self, writes: list[tuple[str, Entry, str]]) -> set[str]:
        """One conditional PutItem per entry, PARALLEL_CALLS at a time. Not a transaction: a transaction's item
        costs two write units and a conditional put one, and nothing needs the entries written together (see
        Ledger.write_many)."""
        return {key for key in _at_once(self._write_one, writes) if key}

    def _write_one(self, write: tuple[str, Entry, str]) -> str:
        """The key if its entry was written, else '' (another attempt's entry is there). A failed condition is read
        back once: the entry found may be this very write, whose answer was lost and whose retry found it."""
        key, entry, expected = write
        if self._call("put_item", Item=_item(key, entry), **_written_by(expected or None)) is not None:
            return key
        found = self.read(key)
        return key if found is not None and found.attempt == entry.attempt else ""

    def _call(self, operation: str, table_in_request: bool = True, **arguments: Any) -> Any:
        """The call's answer; None when its condition failed."""
        from botocore.exceptions import BotoCoreError, ClientError

        if table_in_request:
            arguments["TableName"] = self._table
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return getattr(self._client, operation)(**arguments)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    return None
                if code in ("ValidationException", "ResourceNotFoundException", "AccessDeniedException"):
                    raise LedgerUnavailableError(f"the ledger refused {operation}: {code}") from None
                failure = code
            except BotoCoreError as error:
                failure = type(error).__name__
            pause = 0.05 * 2**attempt
            if attempt + 1 == WRITE_ATTEMPTS or self._clock() + pause > self._give_up_at:
                break
            self._sleep(pause)
        raise LedgerUnavailableError(f"the ledger failed {operation} {attempt + 1} times: {failure}")


def _at_once(call: Callable[[T], R], groups: list[T]) -> list[R]:
    """`call` on each group, in threads when there are several (boto3 clients are thread-safe)."""
    if len(groups) <= 1:
        return [call(group) for group in groups]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(len(groups), PARALLEL_CALLS)) as pool:
        return list(pool.map(call, groups))


def _written_by(attempt: str | None) -> dict[str, Any]:
    """The condition of a write: the stored entry is `attempt`'s (None: there is none)."""
    if attempt is None:
        return {"ConditionExpression": "attribute_not_exists(id)"}
    return {"ConditionExpression": "attempt = :attempt", "ExpressionAttributeValues": {":attempt": {"S": attempt}}}


def _key(key: str) -> dict[str, Any]:
    return {"id": {"S": key}}


def _item(key: str, entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(key),
        "state": {"S": entry.state},
        "lease": {"N": repr(entry.lease)},
        "chunk_end": {"N": str(entry.end)},
        "attempt": {"S": entry.attempt},
        "expiration": {"N": str(int(time.time()) + RETENTION_SECONDS)},
    }
    if entry.sent:
        item["sent"] = {"B": entry.sent}
    if entry.settled:
        item["settled"] = {"B": entry.settled}
    if entry.results:  # compressed: an Altcraft batch's answers repeat the same reasons (400 KB per item at most)
        item["results"] = {"B": zlib.compress(json.dumps(entry.results).encode())}
    return item


def _entry(item: dict[str, Any]) -> Entry:
    results = item.get("results", {}).get("B")
    return Entry(
        state=item.get("state", {}).get("S", DONE),
        lease=float(item.get("lease", {}).get("N", "0")),
        end=int(item.get("chunk_end", {}).get("N", "0")),
        sent=bytes(item.get("sent", {}).get("B", b"")),
        results=json.loads(zlib.decompress(results)) if results else {},
        attempt=item.get("attempt", {}).get("S", ""),
        settled=bytes(item.get("settled", {}).get("B", b"")),
    )
