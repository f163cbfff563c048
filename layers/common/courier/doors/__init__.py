"""The three doors: every function's lambda_handler hands its event to `handle`, which recognises the door."""

from __future__ import annotations

from typing import Any, cast

from courier.doors.services import services_for
from courier.model import Destination
from courier.observability import invocation, logger, metrics


class UnknownTriggerError(ValueError):
    """The event is neither an SQS batch nor an API Gateway request."""


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False, clear_state=True)
def _dispatch(event: dict[str, Any], context: Any, destination: Destination) -> dict[str, Any]:
    logger.append_keys(function=destination.name)
    invocation.begin()
    try:
        return _door(event, context, destination)
    finally:  # what was counted, even when the invocation fails; log_metrics writes it as one EMF line
        invocation.publish(destination.name)


def _door(event: dict[str, Any], context: Any, destination: Destination) -> dict[str, Any]:
    services = services_for(destination)
    records = event.get("Records")
    if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
        from courier.doors.sqs import handle_sqs_batch

        return cast(dict[str, Any], handle_sqs_batch(event, context, destination, services))
    if "httpMethod" in event and "requestContext" in event:
        from courier.doors.https import handle_https_request

        return cast(dict[str, Any], handle_https_request(event, context, destination, services))
    raise UnknownTriggerError("unrecognised trigger: expected an SQS batch or an API Gateway REST request")


def handle(event: dict[str, Any], context: Any, destination: Destination) -> dict[str, Any]:
    return cast(dict[str, Any], _dispatch(event, context, destination))
