"""The ledger as a batch of SQS messages sees it: each message's entry (`sqs:<message id>`) says which of its records
were delivered or rejected for good and which are in a request now."""

from __future__ import annotations

from dataclasses import dataclass, field

from courier.delivery.ledger import DONE, SENDING, Entry, Ledger, has_bit, set_bit
from courier.delivery.reports import RejectedRows
from courier.model import SourceRow


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


class MessageMarks:
    """The ledger as the driver sees it for a batch of messages: a chunk is marked *sending* on the messages whose
    records it holds (a conditional put per message, each only if the entry is the one last seen), and after it
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
