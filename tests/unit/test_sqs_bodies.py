"""What an SQS message body says: S3 notifications (keys URL-encoded three ways), test events, records."""

from __future__ import annotations

from typing import Any

import pytest

from courier.doors.files import DroppedFile
from courier.doors.sqs import dropped_files, is_s3_notification


def notification(key: str, event_name: str = "ObjectCreated:Put", **extra: Any) -> dict[str, Any]:
    obj = {"key": key, "size": 10, "eTag": "abc", **extra}
    return {
        "Records": [
            {"eventSource": "aws:s3", "eventName": event_name, "s3": {"bucket": {"name": "data"}, "object": obj}}
        ]
    }


@pytest.mark.parametrize(
    "encoded",
    [
        "appmetrica_events/Nov+export+%E2%84%962.csv",  # S3: spaces as '+'
        "appmetrica_events%2FNov+export+%E2%84%962.csv",  # moto: '/' encoded too
        "appmetrica_events/Nov%20export%20%E2%84%962.csv",  # sam local generate-event: '%20'
    ],
)
def test_keys_are_url_decoded(encoded: str) -> None:
    assert dropped_files(notification(encoded)) == [
        DroppedFile("data", "appmetrica_events/Nov export №2.csv", etag="abc")
    ]


def test_version_and_sequencer_are_kept_for_deduplication() -> None:
    [file] = dropped_files(notification("k.csv", versionId="v1", sequencer="00AB"))
    assert (file.version_id, file.sequencer) == ("v1", "00AB")


def test_only_object_created_events_are_files() -> None:
    assert dropped_files(notification("k.csv", event_name="ObjectRemoved:Delete")) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (notification("k.csv"), True),
        ({"Event": "s3:TestEvent", "Bucket": "data"}, False),
        ({"Records": [{"profile_id": "u"}]}, False),  # a record that happens to have a Records field
        ([{"profile_id": "u"}], False),
    ],
)
def test_s3_notifications_are_told_from_records(body: Any, expected: bool) -> None:
    assert is_s3_notification(body) is expected


def test_scrub_masks_keys_in_urls_known_secrets_emails_and_phones() -> None:
    from courier.observability import scrub

    text = "POST /x.csv?post_api_key=ABC123&a=1 failed for ivan.petrov@ya.ru, +7 (916) 012-34-56, token s3cr3t"
    assert scrub(text, "s3cr3t") == "POST /x.csv?post_api_key=***&a=1 failed for ***@***, ***, token ***"
