"""Mappings in the data bucket, `mappings/<function>/<name>.yaml`: read once per container and kept, asked again
with the ETag held (a conditional GET, answered 304 while the object is the same) each time a file, an SQS batch or
an HTTPS call names one, so that a changed mapping is used from the next one on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from courier.mappings import MappingUnavailableError, MappingUnreadableError, check_name
from courier.mappings.rules import MAX_DOCUMENT_CHARS, CompiledMapping, MappingError, parse
from courier.model import Destination

PREFIX = "mappings/"
_MISSING_CODES = frozenset({"NoSuchKey", "404"})
# Without s3:ListBucket, S3 answers a GET of a missing object with AccessDenied: under the function's own folder
# (which its role may read) that means the mapping does not exist.
_DENIED_CODES = frozenset({"AccessDenied", "403"})


def mapping_key(function: str, name: str) -> str:
    return f"{PREFIX}{function}/{name}.yaml"


@dataclass(frozen=True)
class _Held:
    etag: str
    mapping: CompiledMapping | None
    problem: MappingError | None


class MappingStore:
    """One function's mappings, as its container last read them."""

    def __init__(self, s3: Any, bucket: str, destination: Destination) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._destination = destination
        self._held: dict[str, _Held] = {}

    def get(self, name: str) -> CompiledMapping:
        """The mapping `name`; MappingUnavailableError when it does not exist, is invalid or cannot be read now."""
        found = self.find(name)
        if found is None:
            raise MappingUnavailableError(
                f"mapping {name} not found: put it at s3://{self._bucket}/{mapping_key(self._destination.name, name)} "
                "(courier mapping put)"
            )
        return found

    def find(self, name: str) -> CompiledMapping | None:
        """The mapping `name`, or None when no such mapping exists; MappingUnavailableError when it is invalid or
        cannot be read now."""
        try:
            check_name(name)
        except ValueError as error:
            raise MappingUnavailableError(f"mapping: {error}") from None
        if not self._bucket:
            raise MappingUnavailableError("mappings live in the data bucket, and DATA_BUCKET is not set")
        held = self._read(name)
        if held is None:
            return None
        if held.problem is not None:
            raise MappingUnavailableError(str(held.problem))
        return held.mapping

    def _read(self, name: str) -> _Held | None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = mapping_key(self._destination.name, name)
        held = self._held.get(name)
        extra = {"IfNoneMatch": held.etag} if held is not None else {}
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=key, **extra)
            body = answer["Body"].read(MAX_DOCUMENT_CHARS * 4 + 1)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("304", "NotModified"):
                return held
            self._held.pop(name, None)
            if code in _MISSING_CODES or code in _DENIED_CODES:
                return None
            raise MappingUnreadableError(f"mapping {name} could not be read now ({code or 'S3 error'})") from None
        except BotoCoreError as error:
            raise MappingUnreadableError(f"mapping {name} could not be read now ({type(error).__name__})") from None
        held = _Held(str(answer.get("ETag", "")), None, None)
        try:
            text = body.decode("utf-8-sig")
            held = _Held(held.etag, parse(text, self._destination, name), None)
        except UnicodeDecodeError:
            held = _Held(held.etag, None, MappingError(name, ["line 1: the document is not UTF-8 text"]))
        except MappingError as error:
            held = _Held(held.etag, None, error)
        self._held[name] = held
        return held
