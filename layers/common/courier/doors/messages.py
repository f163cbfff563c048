"""The records of all the plain messages of one SQS batch, delivered together: they share requests up to the
destination's caps, and the ledger knows what was settled per message (`sqs:<message id>`: which of its records
were delivered or rejected, and which are in a request now). A redelivered message, grouped with any others, sends
only its records that never went out; a message another invocation holds is left for later."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from courier.delivery.driver import LOST_ANSWER, Budget, Delivery
from courier.delivery.ledger import SENDING, Entry, Ledger, has_bit, set_bit
from courier.delivery.messages import Message, MessageMarks
from courier.delivery.preparation import Preparation, PreparedRecord, preparation
from courier.delivery.reports import door_key
from courier.delivery.tally import BY_DESTINATION, Tally
from courier.doors.services import Services
from courier.model import Destination, SourceRow, field_map
from courier.observability import logger
from courier.sources.records import RecordsSource

if TYPE_CHECKING:
    from collections.abc import Callable

    from courier.mappings.rules import CompiledMapping

PREPARED_ATTRIBUTE = "courier-prepared"  # set by the HTTPS door on records it already prepared
ORIGIN_ATTRIBUTE = "courier-origin"  # set by `courier replay`: the id of the message a copy was made from
MAPPING_ATTRIBUTE = "mapping"  # the mapping (mappings/<function>/<name>.yaml) the message's records go through


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
    setup = preparation(destination, services.settings, mapping, as_is=True)
    batch = _Batch(messages)
    settled_before = batch.take_unsettled(ledger, lambda record: _may_resend(destination, services, setup, record))
    marks = MessageMarks(ledger, batch.owners, attempt)
    tally = _deliver(batch, destination, setup, services, budget, marks, attempt)
    tally.count()
    settled_before.count()
    marks.write([message for message in messages if not message.busy])
    failed = [message.id for message in messages if message.busy or not message.complete]
    _write_rejected(messages, destination, services)
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


class _Batch:
    """The records the messages still need, numbered across the batch, and whose each one is."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.rows: list[SourceRow] = []
        self.owners: list[tuple[Message, int]] = []  # per row: its message and its index there

    def take_unsettled(self, ledger: Ledger, may_resend: Callable[[Any], bool]) -> Tally:
        """Reads each message's entry and keeps the records still to send; counts what an earlier attempt settled
        (or possibly sent, where resending is not harmless: rejected now as possibly delivered)."""
        entries = ledger.read_many([message.key for message in self.messages])
        before = Tally()
        for message in self.messages:
            entry = entries.get(message.key)
            if entry is not None:
                message.holder, message.settled = entry.attempt, bytearray(entry.settled)
                if entry.live(time.time()):
                    message.busy = True
                    continue
            self._take(message, entry, before, may_resend)
        return before

    def _take(self, message: Message, entry: Entry | None, before: Tally, may_resend: Callable[[Any], bool]) -> None:
        in_flight = entry.sent if entry is not None and entry.state == SENDING else b""
        for local, record, error in message.rows:
            if has_bit(message.settled, local):
                before.read += 1
                before.duplicates_skipped += 1
            elif has_bit(in_flight, local) and not may_resend(record):
                reason = [f"{BY_DESTINATION}{LOST_ANSWER.format(detail='not recorded')}"]
                message.rejected.add(local, record, reason)
                before.read += 1
                before.reject(local, reason)
                set_bit(message.settled, local)
                message.changed = True
            else:
                self.rows.append((len(self.owners), record, error))
                self.owners.append((message, local))

    def settle(self, index: int) -> None:
        message, local = self.owners[index]
        set_bit(message.settled, local)
        message.changed = True

    def reject(self, index: int, record: Any, errors: list[str]) -> None:
        message, local = self.owners[index]
        message.rejected.add(local, dict(record) if isinstance(record, PreparedRecord) else record, errors)
        self.settle(index)


def _deliver(
    batch: _Batch,
    destination: Destination,
    setup: Preparation,
    services: Services,
    budget: Budget,
    marks: MessageMarks,
    attempt: str,
) -> Tally:
    source = RecordsSource(batch.rows)
    delivery = Delivery(
        destination,
        setup.prepare,
        services.sender,
        budget,
        marks,
        f"sqs-batch:{attempt}",
        batch.reject,
        lambda index, _: batch.settle(index),
        marks.chunk_done,
        on_skipped=batch.settle,
    )
    tally = delivery.run(source)
    if delivery.resume_at is not None:
        delivery.leave_pending(source.after(delivery.resume_at), "no time left in this invocation")
    return tally


def _write_rejected(messages: list[Message], destination: Destination, services: Services) -> None:
    if services.settings.data_bucket:
        for message in messages:
            message.rejected.upload(
                services.s3, services.settings.data_bucket, door_key("sqs", destination.name, message.id)
            )


def _may_resend(destination: Destination, services: Services, setup: Preparation, record: Any) -> bool:
    """Whether a record an attempt possibly sent may go again (the destination says it changes nothing)."""
    prepared, _ = setup.prepare(record) if isinstance(record, dict) else (None, [])
    if prepared is None:
        return True  # refused again when it is prepared: nothing is sent
    fields = field_map(prepared)
    batch = destination.new_batch(destination.batch_key(fields))
    batch.add(fields, 0, record)
    return services.sender.may_resend(batch)
