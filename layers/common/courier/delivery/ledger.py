"""What has already gone out: a unit of work (a request's worth of records, a dropped object) is done at most once.

With `IDEMPOTENCY_TABLE` set, the ledger is Powertools idempotency on DynamoDB: the first run of a key records its
result; a later run of the same key (a redelivered message, a duplicate S3 notification, a retried file) gets that
result back without doing the work again. Work whose result says "not done, try again later" is not recorded, so it
runs again. Without a table every run does the work (local runs and tests that do not test this)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Work = Callable[[], dict[str, Any]]
Finished = Callable[[dict[str, Any]], bool]  # False: the work must run again next time (nothing is recorded)
RETENTION_SECONDS = 15 * 24 * 3600  # past the Post API's 14-day window, after which nothing can be re-sent anyway


class Ledger(Protocol):
    def once(self, key: str, work: Work, finished: Finished) -> tuple[dict[str, Any], bool]:
        """(the result, True when it was recorded by an earlier run and the work was not done now)"""
        ...


class NoLedger:
    def once(self, key: str, work: Work, finished: Finished) -> tuple[dict[str, Any], bool]:
        return work(), False


class _NotFinishedError(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("not finished")
        self.result = result


class InProgressElsewhereError(RuntimeError):
    """Another invocation is doing this work now: the message comes back later."""


class DynamoLedger:
    def __init__(self, table: str, client: Any = None, context: Any = None) -> None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

        self._store = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
        self._config = IdempotencyConfig(expires_after_seconds=RETENTION_SECONDS)
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self._config.register_lambda_context(context)  # an interrupted run expires with the invocation

    def once(self, key: str, work: Work, finished: Finished) -> tuple[dict[str, Any], bool]:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        ran = False

        def courier_unit_of_work(unit: dict[str, str]) -> dict[str, Any]:
            nonlocal ran
            ran = True
            result = work()
            if not finished(result):
                raise _NotFinishedError(result)  # Powertools deletes the in-progress record: it runs again later
            return result

        recorded = idempotent_function(
            data_keyword_argument="unit", persistence_store=self._store, config=self._config
        )(courier_unit_of_work)
        try:
            result = recorded(unit={"key": key})
        except _NotFinishedError as not_finished:
            return not_finished.result, False
        except IdempotencyAlreadyInProgressError:
            raise InProgressElsewhereError(f"{key} is being delivered by another invocation") from None
        return result, not ran
