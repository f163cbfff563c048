"""The records of all the plain messages of one SQS batch, delivered together: they share requests up to the
destination's caps, and the ledger knows what was settled per message (`sqs:<message id>`: which of its records
were delivered or rejected, and which are in a request now). A redelivered message, grouped with any others, sends
only its records that never went out; a message another invocation holds is left for later."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from courier.delivery.driver import LOST_ANSWER, Budget, Delivery
from courier.delivery.ledger import DONE, SENDING, Entry, Ledger, has_bit, set_bit
from courier.delivery.reports import RejectedRows, door_key
from courier.delivery.tally import BY_DESTINATION, Tally
from courier.doors.services import Services
from courier.model import Destination, Prepared, Preparer, Record, SourceRow
from courier.observability import logger
from courier.sources.records import RecordsSource

if TYPE_CHECKING:
    from courier.mappings.rules import CompiledMapping

PREPARED_ATTRIBUTE = "courier-prepared"  # set by the HTTPS door on records it already prepared
ORIGIN_ATTRIBUTE = "courier-origin"  # set by `courier replay`: the id of the message a copy was made from
MAPPING_ATTRIBUTE = "mapping"  # the mapping (mappings/<function>/<name>.yaml) the message's records go through


class PreparedRecord(dict[str, Any]):
    """A record the HTTPS door prepared: sent as it is, never prepared twice."""


@dataclass
class Message:
    id: str
    rows: list[SourceRow]  # its records, indexed from 0
    origin: str = ""  # the id the ledger knows it by: its own, or for a replayed copy the original's
    mapping: str = ""  # the name of the mapping its records go through ('': none, they carry the destination's fields)
    receives: int = 1  # how often SQS has handed it over
    rejected: RejectedRows = field(default_factory=RejectedRows)
    settled: bytearray = field(default_factory=bytearray)  # records delivered or rejected for good
    holder: str = ""  # the attempt whose entry the ledger holds now ('': none)
    busy: bool = False  # another invocation is sending some of its records now
    changed: bool = False  # settled more records, or was marked sending, since its entry was last written

    @property
    def key(self) -> str:
        return f"sqs:{self.origin or self.id}"

    @property
    def rejected_name(self) -> str:
        """Each try writes its own rejected rows (a later try does not repeat those of an earlier one)."""
        name = self.origin or self.id
        return name if self.receives <= 1 and not self.origin else f"{name}.{self.id}.{self.receives}"

    @property
    def complete(self) -> bool:
        return all(has_bit(self.settled, local) for local, _, _ in self.rows)


def deliver_messages(
    messages: list[Message],
    destination: Destination,
    services: Services,
    budget: Budget,
    ledger: Ledger,
    mapping: CompiledMapping | None = None,
) -> list[str]:
    """Delivers the messages' records together (through `mapping`, which they all name, when set); returns the ids
    of the messages that must come back."""
    attempt = uuid.uuid4().hex
    own = destination.make_preparer(services.settings, time.time())
    prepare = sent_as_prepared(mapping.preparer(own) if mapping is not None else own)
    entries = ledger.read_many([message.key for message in messages])
    rows: list[SourceRow] = []
    owners: list[tuple[Message, int]] = []
    settled_before = Tally()  # records an earlier attempt settled (or possibly sent): not given to the delivery
    for message in messages:
        entry = entries.get(message.key)
        if entry is not None:
            message.holder, message.settled = entry.attempt, bytearray(entry.settled)
            if entry.live(time.time()):
                message.busy = True
                continue
        in_flight = entry.sent if entry is not None and entry.state == SENDING else b""
        for local, record, error in message.rows:
            if has_bit(message.settled, local):
                settled_before.read += 1
                settled_before.duplicates_skipped += 1
            elif has_bit(in_flight, local) and not _may_resend(destination, services, prepare, record):
                reason = [f"{BY_DESTINATION}{LOST_ANSWER.format(detail='not recorded')}"]
                message.rejected.add(local, record, reason)
                settled_before.read += 1
                settled_before.reject(local, reason)
                set_bit(message.settled, local)
                message.changed = True
            else:
                rows.append((len(owners), record, error))
                owners.append((message, local))

    def settle(index: int) -> None:
        message, local = owners[index]
        set_bit(message.settled, local)
        message.changed = True

    def reject(index: int, record: Any, errors: list[str]) -> None:
        message, local = owners[index]
        message.rejected.add(local, dict(record) if isinstance(record, PreparedRecord) else record, errors)
        settle(index)

    marks = MessageMarks(ledger, owners, attempt)
    source = RecordsSource(rows)
    unit = f"sqs-batch:{attempt}"
    delivery = Delivery(
        destination,
        prepare,
        services.sender,
        budget,
        marks,
        unit,
        reject,
        lambda i, _: settle(i),
        marks.chunk_done,
        on_skipped=settle,
    )
    tally = delivery.run(source)
    if delivery.resume_at is not None:
        delivery.leave_pending(source.after(delivery.resume_at), "no time left in this invocation")
    tally.count()
    settled_before.count()
    marks.write([message for message in messages if not message.busy])
    failed = [message.id for message in messages if message.busy or not message.complete]
    if services.settings.data_bucket:
        for message in messages:
            message.rejected.upload(
                services.s3, services.settings.data_bucket, door_key("sqs", destination.name, message.id)
            )
    logger.info(
        "messages processed",
        extra={
            "messages": len(messages),
            "failed": len(failed),
            **{k: v for k, v in tally.as_dict().items() if isinstance(v, int)},
            "duplicates_skipped": tally.duplicates_skipped + settled_before.duplicates_skipped,
            "retry_reason": tally.retry_reason,
        },
    )
    return failed


class MessageMarks:
    """The ledger as the driver sees it for a batch of messages: a chunk is marked *sending* on the messages whose
    records it holds (one transaction per 100 messages, each only if the entry is the one last seen), and after it
    was answered each message's settled records are written down."""

    def __init__(self, ledger: Ledger, owners: list[tuple[Message, int]], attempt: str) -> None:
        self._ledger = ledger
        self._owners = owners
        self._attempt = attempt

    def read(self, key: str) -> Entry | None:
        return None  # a batch's chunks are new every time: what each message still needs was found before

    def begin(self, key: str, entry: Entry, replacing: Entry | None = None) -> Entry | None:
        if not entry.sent:
            return None  # part of a chunk (a half, a leftover): its messages are marked with the chunk
        first = int(key.rsplit("#", 1)[1]) + 1
        in_flight: dict[int, tuple[Message, bytearray]] = {}
        for position in range(len(entry.sent) * 8):
            if entry.was_sent(position) and first + position < len(self._owners):
                message, local = self._owners[first + position]
                set_bit(in_flight.setdefault(id(message), (message, bytearray()))[1], local)
        writes = [
            (
                m.key,
                Entry(SENDING, entry.lease, len(m.rows), bytes(bits), settled=bytes(m.settled), attempt=self._attempt),
                m.holder,
            )
            for m, bits in in_flight.values()
        ]
        written = self._ledger.write_many(writes)
        for message, _ in in_flight.values():
            if message.key in written:
                message.holder, message.changed = self._attempt, True
            else:
                message.busy = True
        if len(written) < len(writes):
            return Entry(SENDING, lease=float("inf"))  # some are held elsewhere: the chunk waits for a later try
        return None

    def finish(self, key: str, entry: Entry) -> None:
        return None  # written per message when the chunk is done (chunk_done)

    def release(self, key: str) -> None:
        return None

    def claim(self, key: str, owner: str, expires: float = 0) -> str:
        return self._ledger.claim(key, owner, expires)

    def read_many(self, keys: list[str]) -> dict[str, Entry]:
        return self._ledger.read_many(keys)

    def write_many(self, writes: list[tuple[str, Entry, str]]) -> set[str]:
        return self._ledger.write_many(writes)

    def chunk_done(self, first: int, last: int) -> None:
        """Every record of the chunk was answered: its messages' entries say so (and are no longer *sending*)."""
        touched = {id(self._owners[i][0]): self._owners[i][0] for i in range(first, min(last + 1, len(self._owners)))}
        self.write([message for message in touched.values() if message.holder == self._attempt])

    def write(self, messages: list[Message]) -> None:
        """Records what each message has settled (changed only: a message untouched by this batch is left)."""
        writes = [
            (m.key, Entry(DONE, end=len(m.rows), settled=bytes(m.settled), attempt=self._attempt), m.holder)
            for m in messages
            if m.changed
        ]
        written = self._ledger.write_many(writes)
        for message in messages:
            if message.key in written:
                message.holder, message.changed = self._attempt, False


def sent_as_prepared(prepare: Preparer) -> Preparer:
    """The destination's preparer, except for records already prepared (PreparedRecord): those go as they are."""

    def prepare_any(record: Record) -> Prepared:
        if type(record) is PreparedRecord:
            return dict(record), []
        return prepare(record)

    return prepare_any


def _may_resend(destination: Destination, services: Services, prepare: Preparer, record: Any) -> bool:
    """Whether a record an attempt possibly sent may go again (the destination says it changes nothing)."""
    fields, _ = prepare(record) if isinstance(record, dict) else (None, [])
    if fields is None:
        return True  # refused again when it is prepared: nothing is sent
    batch = destination.new_batch(destination.batch_key(fields))
    batch.add(fields, 0, record)
    return services.sender.may_resend(batch)
