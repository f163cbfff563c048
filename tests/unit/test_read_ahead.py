"""ReadAhead: a raw stream read a few reads ahead by a thread of its own gives the reader exactly the bytes, the error
and the end the stream gave, in order; closing it stops the thread and closes the stream."""

from __future__ import annotations

import io
import random
import threading
import time
from typing import Any

import pytest

from courier.sources import s3 as s3_module
from courier.sources.s3 import AHEAD, ReadAhead


class Raw(io.RawIOBase):
    """`data` in reads of at most `piece` bytes, then `error` raised (or the end), counting the reads made."""

    def __init__(self, data: bytes, piece: int, error: Exception | None = None) -> None:
        super().__init__()
        self.data, self.piece, self.error, self.reads, self.at = data, piece, error, 0, 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.at

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        if self.at >= len(self.data) and self.error is not None:
            raise self.error
        count = min(len(buffer), self.piece, len(self.data) - self.at)
        buffer[:count] = self.data[self.at : self.at + count]
        self.at += count
        return count


def eventually(condition: Any) -> bool:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(condition())


@pytest.mark.parametrize(("piece", "size", "ask"), [(7, 5, 3), (1000, 64, 1), (3, 4096, 4096), (50, 50, 50)])
def test_the_bytes_come_whole_and_in_order_whatever_the_sizes(piece: int, size: int, ask: int) -> None:
    # Given a stream of random bytes read ahead in reads of `size`
    data = random.Random(piece).randbytes(10_007)
    stream = ReadAhead(Raw(data, piece), size)
    # When it is read `ask` bytes at a time to the end
    got = bytearray()
    while chunk := stream.read(ask):
        got += chunk
    # Then every byte came once, in order, and the end stays the end
    assert bytes(got) == data
    assert stream.read(ask) == b""
    assert stream.tell() == len(data)


def test_it_says_where_the_reader_stands_not_where_the_thread_does() -> None:
    # Given a stream that starts at byte 40 of its object, read ahead
    raw = Raw(bytes(1000), 10)
    raw.at = 40
    stream = ReadAhead(raw, 10)
    # When 15 bytes are read (the thread read further) and the reader asks where it stands
    stream.read(10)
    stream.read(5)
    # Then it stands after those 15
    assert stream.tell() == 55
    stream.close()


def test_an_error_comes_after_the_bytes_read_before_it_and_again_after() -> None:
    # Given a stream that fails after 100 bytes
    stream = ReadAhead(Raw(bytes(range(100)), 30, ConnectionResetError("dropped")), 30)
    # When it is read, 100 bytes
    got = b""
    while len(got) < 100:
        got += stream.read(100 - len(got))
    # Then the 100 bytes come first, then the error, on every later read too
    assert got == bytes(range(100))
    for _ in range(2):
        with pytest.raises(ConnectionResetError, match="dropped"):
            stream.read(1)


def test_the_thread_reads_no_more_than_its_reads_ahead() -> None:
    # Given a long stream, of which one byte is read
    raw = Raw(bytes(1_000_000), 10)
    stream = ReadAhead(raw, 10)
    assert stream.read(1) == b"\0"
    # When the thread has filled what it may hold
    time.sleep(0.3)
    # Then it made at most the read handed over, AHEAD waiting and the one it waits to hand over
    assert raw.reads <= 2 + AHEAD
    stream.close()


def test_closing_stops_the_thread_and_closes_the_stream() -> None:
    # Given a long stream read a little
    before = set(threading.enumerate())
    raw = Raw(bytes(1_000_000), 10)
    stream = ReadAhead(raw, 10)
    stream.read(1)
    (thread,) = set(threading.enumerate()) - before
    # When it is closed
    stream.close()
    # Then the thread ends and the stream is closed by it
    assert eventually(lambda: raw.closed and not thread.is_alive())
    assert (thread.name, stream.closed) == ("courier-s3-read-ahead", True)


def test_a_stream_opened_and_never_read_starts_no_thread_and_closes() -> None:
    # Given a stream that is closed unread
    before = threading.active_count()
    raw = Raw(b"abc", 10)
    stream = ReadAhead(raw)
    # When it is closed
    stream.close()
    # Then no read was made, and the stream is closed at once
    assert (raw.reads, raw.closed, threading.active_count()) == (0, True, before)


def test_a_closed_stream_gives_no_more_bytes_even_those_read_ahead() -> None:
    # Given a stream read a little, the thread holding bytes read ahead
    stream = ReadAhead(Raw(bytes(1_000), 10), 10)
    stream.read(1)
    # When it is closed and read again
    stream.close()
    # Then the read is refused, as a closed file's is
    with pytest.raises(ValueError, match="closed"):
        stream.readinto(bytearray(10))


class ResetAfter:
    """A GetObject body that gives `size` bytes, then drops the connection; says when it did."""

    def __init__(self, size: int, dropped: threading.Event) -> None:
        self.left, self.dropped = size, dropped

    def read(self, amt: int | None = None) -> bytes:
        if not self.left:
            self.dropped.set()
            raise ConnectionResetError(104, "Connection reset by peer")
        count = min(amt or self.left, self.left)
        self.left -= count
        return bytes(count)

    def close(self) -> None:
        return None


class DroppingS3:
    """An S3 client whose every answer is 1,000 bytes of a 10,000-byte object, then a dropped connection."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.dropped = threading.Event()

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        return {"Body": ResetAfter(1_000, self.dropped), "ContentLength": 10_000, "ETag": '"e"'}


def test_a_reader_closed_while_it_waits_to_try_again_stops_at_once_and_asks_s3_for_nothing_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an S3 object read ahead whose connection drops after its first 1,000 bytes, and a long pause before the
    # next attempt
    monkeypatch.setattr(s3_module, "BACKOFF_SECONDS", 600.0)
    monkeypatch.setattr(s3_module, "MAX_BACKOFF_SECONDS", 600.0)
    s3 = DroppingS3()
    before = set(threading.enumerate())
    stream = s3_module.s3_opener(s3, "bucket", "x.bin", None)(0)
    assert stream.read(1_000) == bytes(1_000)
    assert s3.dropped.wait(5)
    (thread,) = {t for t in set(threading.enumerate()) - before if t.name == "courier-s3-read-ahead"}
    # When the stream is closed during that pause
    stream.close()
    # Then the thread ends without waiting the pause out, and no GET was made after the first
    assert eventually(lambda: not thread.is_alive())
    assert len(s3.calls) == 1
