"""What a failure means, for every door, in one place. A door keeps its input and tries it again later, or refuses
it for good; each then answers in its own terms (a file's report and its message coming back, a message's batch item
failure, an HTTPS status).

- TRANSIENT: the same input may succeed later (the ledger, S3 or a mapping could not be read now).
- SETUP: the stack is not ready for the input (a named mapping is missing or invalid). A queued input comes back,
  then goes to the dead-letter queue, so that a mapping put in time still applies; a caller is told, and sends again.
- INPUT: the input itself is wrong (an unreadable file, a bad body, a control message Courier does not act on, an
  object gone before it was read): trying again cannot help."""

from __future__ import annotations

from enum import Enum

from botocore.exceptions import ClientError

from courier.delivery.ledger import LedgerUnavailableError
from courier.mappings import MappingUnavailableError, MappingUnreadableError
from courier.sources.api_bodies import BadBodyError
from courier.sources.files import SourceUnavailableError, UnreadableFileError
from courier.sources.s3 import CHANGED_OBJECT_CODES, MISSING_OBJECT_CODES


class Fault(Enum):
    TRANSIENT = "transient"
    SETUP = "setup"
    INPUT = "input"

    @property
    def comes_back(self) -> bool:
        """A queued input (a file, a message) is kept and tried again."""
        return self is not Fault.INPUT

    @property
    def http_status(self) -> int:
        """What an HTTPS caller is answered (the call was not accepted; nothing was queued)."""
        return 503 if self is Fault.TRANSIENT else 400


class RetryLaterError(RuntimeError):
    """Some records could not be delivered now; the SQS message must come back."""


class RefusedMessageError(ValueError):
    """A control message (S3 notification or continuation) the function does not act on: malformed, or naming an
    object it does not own. It is never retried; the message is our own words, never the message's values."""


GONE = "the object no longer exists (deleted or overwritten before it was read)"
CHANGED = "the object was overwritten while it was read (turn on bucket versioning to keep each upload)"


def fault_of(error: BaseException) -> Fault | None:
    """The kind of a failure a door expects; None for one it does not (it propagates: Lambda retries the event)."""
    if isinstance(error, MappingUnreadableError | LedgerUnavailableError | SourceUnavailableError | RetryLaterError):
        return Fault.TRANSIENT
    if isinstance(error, MappingUnavailableError):
        return Fault.SETUP
    if isinstance(error, UnreadableFileError | BadBodyError | RefusedMessageError):
        return Fault.INPUT
    if isinstance(error, ClientError) and _s3_code(error) in MISSING_OBJECT_CODES | CHANGED_OBJECT_CODES:
        return Fault.INPUT
    return None


def problem_of(error: BaseException) -> str:
    """What a report or a log line says of a failure: Courier's words (an S3 error's own text is not repeated)."""
    if isinstance(error, ClientError):
        return GONE if _s3_code(error) in MISSING_OBJECT_CODES else CHANGED
    return str(error)


def _s3_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code"))
