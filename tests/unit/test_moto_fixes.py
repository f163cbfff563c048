"""The sandbox's fix of moto's TransactWriteItems keeps moto's outcome: a cancelled transaction changes nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox import moto_fixes


def table(client: Any, name: str, range_key: bool) -> None:
    keys = [{"AttributeName": "id", "KeyType": "HASH"}] + (
        [{"AttributeName": "part", "KeyType": "RANGE"}] if range_key else []
    )
    attributes = [{"AttributeName": key["AttributeName"], "AttributeType": "S"} for key in keys]
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=keys, AttributeDefinitions=attributes)


@pytest.mark.parametrize("range_key", [False, True], ids=["hash key only", "with a range key"])
def test_a_cancelled_transaction_leaves_every_item_as_it_was(range_key: bool) -> None:
    moto_fixes.apply()
    with mock_aws():
        # Given a table holding item a (version 1)
        client = boto3.client("dynamodb", region_name="us-east-1")
        table(client, "t", range_key)
        extra = {"part": {"S": "p"}} if range_key else {}
        client.put_item(TableName="t", Item={"id": {"S": "a"}, "v": {"S": "1"}, **extra})
        # When a transaction puts a new item b, overwrites a, and then fails a condition on c
        puts = [
            {"Put": {"TableName": "t", "Item": {"id": {"S": "b"}, "v": {"S": "2"}, **extra}}},
            {"Put": {"TableName": "t", "Item": {"id": {"S": "a"}, "v": {"S": "2"}, **extra}}},
            {
                "Put": {
                    "TableName": "t",
                    "Item": {"id": {"S": "c"}, "v": {"S": "2"}, **extra},
                    "ConditionExpression": "attribute_exists(id)",
                }
            },
        ]
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(TransactItems=puts)
        # Then b does not exist and a is still version 1
        items = client.scan(TableName="t")["Items"]
        assert items == [{"id": {"S": "a"}, "v": {"S": "1"}, **extra}]
        # And a transaction that succeeds writes all its items
        client.transact_write_items(TransactItems=puts[:2])
        assert sorted((i["id"]["S"], i["v"]["S"]) for i in client.scan(TableName="t")["Items"]) == [
            ("a", "2"),
            ("b", "2"),
        ]
