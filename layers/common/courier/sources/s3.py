"""An S3 object read as a stream that outlives a dropped connection: a read that fails for a transient reason opens
the object again at the byte it reached (a ranged GET) and goes on, so the bytes read are exactly the object's.

botocore and urllib3 are imported at the first failure: importing this module loads neither."""

from __future__ import annotations

import contextlib
import http.client
import io
import queue
import threading
from collections.abc import Callable
from functools import cache
from typing import IO, Any

from courier.sources.files import SourceUnavailableError

__all__ = ["CHANGED_OBJECT_CODES", "MISSING_OBJECT_CODES", "S3Reader", "SourceUnavailableError", "s3_opener"]

BUFFER_BYTES = 1 << 20  # what one read asks S3 for
AHEAD = 2  # reads the read-ahead thread may have made that the reader has not taken yet
ATTEMPTS = 5  # failures in a row, on one byte, before the object is given up on for now
BACKOFF_SECONDS = 0.25  # before the 2nd attempt; doubled for each next one, up to MAX_BACKOFF_SECONDS
MAX_BACKOFF_SECONDS = 4.0
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404"})
CHANGED_OBJECT_CODES = frozenset({"PreconditionFailed", "412"})  # read with an ETag the object no longer has
# Answers of S3 that say "not now" rather than "never": tried again like a dropped connection
_BUSY_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "Throttling", "ThrottlingException"}
)


@cache
def _transient_errors() -> tuple[type[BaseException], ...]:
    """What a read that may succeed when tried again raises (network, timeouts, a body cut short)."""
    from botocore import exceptions as boto
    from urllib3 import exceptions as urllib3

    return (
        boto.HTTPClientError,  # ReadTimeoutError, ResponseStreamingError, ConnectionClosedError, ...
        boto.ConnectionError,  # EndpointConnectionError, ConnectTimeoutError, SSLError, ...
        boto.IncompleteReadError,
        urllib3.ProtocolError,
        urllib3.ReadTimeoutError,
        urllib3.IncompleteRead,
        ConnectionError,
        TimeoutError,
        http.client.HTTPException,  # IncompleteRead, RemoteDisconnected, ...
        _ShortReadError,
    )


class _ShortReadError(Exception):
    """The body ended before the length S3 announced."""


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_transient(error: Exception) -> bool:
    if isinstance(error, _transient_errors()):
        return True
    response = getattr(error, "response", None)  # a botocore ClientError: S3 answered
    if not isinstance(response, dict):
        return False
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return status >= 500 or _code(error) in _BUSY_CODES


class S3Reader(io.RawIOBase):
    """The object (that version, when set) from `offset` on. A transient failure re-opens it at the position reached
    (Range=bytes=<position>-) after a short growing pause; after `attempts` failures in a row it raises
    SourceUnavailableError. A missing object raises botocore's ClientError as is (NoSuchKey, NoSuchVersion, 404);
    so does PreconditionFailed: without a version, the object changed between two reads (its ETag is checked).
    Once `stop` is set (the reader was closed), a pause ends at once and no GET is made again."""

    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        key: str,
        version_id: str | None,
        offset: int,
        attempts: int = ATTEMPTS,
        sleep: Callable[[float], Any] | None = None,  # the pause between attempts; by default, cut short by `stop`
        if_match: str = "",
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self._s3, self._bucket, self._key, self._version_id = s3_client, bucket, key, version_id or None
        self._position = offset
        self._attempts = max(1, attempts)
        self._stop = stop or threading.Event()
        self._sleep = sleep or self._stop.wait
        self._body: Any = None
        self._end = 0  # where the open response's body ends
        self.etag = if_match  # the object's ETag, once known: later ranges must come from the same object
        self._eof = False
        self._retrying(self._open)  # errors of S3 (a missing object) raise now, not at the first read

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._eof or not len(buffer):
            return 0
        count: int = self._retrying(lambda: self._read_into(buffer))
        return count

    def close(self) -> None:
        self._stop.set()
        self._drop()
        super().close()

    def _retrying(self, step: Callable[[], Any]) -> Any:
        failures = 0
        while True:
            try:
                return step()
            except Exception as error:
                if type(error).__name__ == "FlexibleChecksumError":  # bytes already handed on were wrong
                    raise SourceUnavailableError(
                        f"s3://{self._bucket}/{self._key} arrived damaged (checksum mismatch): {error}"
                    ) from error
                if not _is_transient(error):
                    raise
                failures += 1
                self._drop()
                if failures < self._attempts and not self._stop.is_set():
                    self._sleep(min(BACKOFF_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS))
                if failures >= self._attempts or self._stop.is_set():
                    given_up = "stopped" if failures < self._attempts else f"{failures} attempts"
                    raise SourceUnavailableError(
                        f"s3://{self._bucket}/{self._key} could not be read at byte {self._position} "
                        f"({given_up}): {type(error).__name__}: {error}"
                    ) from error

    def _open(self) -> None:
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key}
        if self._version_id:
            params["VersionId"] = self._version_id
        elif self.etag:
            params["IfMatch"] = self.etag
        if self._position > 0:
            params["Range"] = f"bytes={self._position}-"
        try:
            response = self._s3.get_object(**params)
        except Exception as error:
            if self._position > 0 and hasattr(error, "response") and _code(error) == "InvalidRange":
                self._eof = True  # the offset is the object's end: nothing more to read
                return
            raise
        self._body = response["Body"]
        self._end = self._position + int(response.get("ContentLength", 0))
        self.etag = self.etag or str(response.get("ETag", ""))

    def _read_into(self, buffer: Any) -> int:
        if self._body is None:
            self._open()
            if self._eof:
                return 0
        readinto = getattr(self._body, "readinto", None)
        if readinto is not None:
            count = int(readinto(buffer))
        else:  # an older botocore's body reads only into new bytes
            data = self._body.read(len(buffer))
            count = len(data)
            buffer[:count] = data
        if count == 0:
            if self._position < self._end:
                raise _ShortReadError(f"the body ended at byte {self._position} of {self._end}")
            self._eof = True
            self._drop()
        self._position += count
        return count

    def _drop(self) -> None:
        body, self._body = getattr(self, "_body", None), None
        if body is not None:
            with contextlib.suppress(Exception):  # a body that cannot be closed is dropped all the same
                body.close()


class ReadAhead(io.RawIOBase):
    """`raw` read by a thread of its own up to AHEAD reads before the reader, so that S3 sends the next bytes while
    the last ones are worked on (the wait for the network overlaps the parsing). Bytes, errors and the end come to
    the reader in the order `raw` gave them; closing stops the thread after the read it is in, which closes `raw`.
    `stop`, when given, is also `raw`'s: its pause between attempts ends at the close."""

    def __init__(self, raw: io.RawIOBase, size: int = BUFFER_BYTES, stop: threading.Event | None = None) -> None:
        super().__init__()
        self._raw, self._size = raw, size
        self._pieces: queue.Queue[bytes | BaseException] = queue.Queue(AHEAD)
        self._stop = stop or threading.Event()
        self._thread: threading.Thread | None = None
        self._piece = memoryview(b"")
        self._last: bytes | BaseException | None = None  # the end (b"") or the error, once reached
        self._position = raw.tell()

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        """The byte after those given to the reader (the thread may have read further)."""
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("read of a closed ReadAhead")
        if not self._piece:
            if self._last is not None:
                if isinstance(self._last, BaseException):
                    raise self._last
                return 0
            if self._thread is None:  # started at the first read: an object opened and not read costs no thread
                self._thread = threading.Thread(
                    target=_read_ahead,
                    args=(self._raw, self._size, self._pieces, self._stop),
                    name="courier-s3-read-ahead",
                    daemon=True,
                )
                self._thread.start()
            piece = self._pieces.get()
            if isinstance(piece, BaseException) or not piece:
                self._last = piece
                return self.readinto(buffer)
            self._piece = memoryview(piece)
        count = min(len(buffer), len(self._piece))
        buffer[:count] = self._piece[:count]
        self._piece = self._piece[count:]
        self._position += count
        return count

    def close(self) -> None:
        self._stop.set()
        if self._thread is None:
            self._raw.close()
        else:
            with contextlib.suppress(queue.Empty):  # a thread waiting to hand a piece over sees the stop
                self._pieces.get_nowait()
        super().close()


def _read_ahead(
    raw: io.RawIOBase, size: int, pieces: queue.Queue[bytes | BaseException], stop: threading.Event
) -> None:
    """The read-ahead thread (it holds no reference to its ReadAhead, which can be collected and closed)."""
    try:
        while not stop.is_set():
            try:
                piece: bytes | BaseException = raw.read(size) or b""
            except BaseException as error:  # handed to the reader, raised there
                piece = error
            while not stop.is_set():
                try:
                    pieces.put(piece, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(piece, BaseException) or not piece:
                return
    finally:
        raw.close()


def s3_opener(
    s3_client: Any,
    bucket: str,
    key: str,
    version_id: str | None,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], Any] | None = None,
    etag: str = "",
) -> Callable[[int], IO[bytes]]:
    """open_at(offset) for courier.sources.files.open_file: the object from that byte, buffered. Every stream it
    opens reads the same object: the version when set, else the ETag given (an S3 event's, quoted or not) or the one
    the first opening saw; an object that changed since raises ClientError PreconditionFailed."""
    seen = {"etag": etag if not etag or etag.startswith('"') else f'"{etag}"'}

    def open_at(offset: int) -> IO[bytes]:
        stop = threading.Event()
        reader = S3Reader(s3_client, bucket, key, version_id, offset, attempts, sleep, seen["etag"], stop)
        seen["etag"] = seen["etag"] or reader.etag
        return io.BufferedReader(ReadAhead(reader, BUFFER_BYTES, stop), BUFFER_BYTES)

    return open_at
