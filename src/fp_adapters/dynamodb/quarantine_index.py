"""QuarantineIndex over DynamoDB: pk = dedupe tuple, sk = reason + receipt; conditional puts only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from fp_core.errors import TransientError
from fp_core.receipts import QuarantineRecord

SEP = "|"


def keys(r: QuarantineRecord) -> dict[str, dict[str, str]]:
    return {"pk": {"S": SEP.join((r.platform_run_id, r.event_class, r.event_id))},
            "sk": {"S": SEP.join((r.reason.value, r.receipt_id))}}


class DynamoQuarantineIndex:
    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def record(self, entries: Sequence[QuarantineRecord]) -> None:
        for e in entries:
            item = {**keys(e), "platform_run_id": {"S": e.platform_run_id},
                    "record": {"S": e.model_dump_json()}}
            try:
                self._ddb.put_item(TableName=self._table, Item=item,
                                   ConditionExpression="attribute_not_exists(pk) AND attribute_not_exists(sk)")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise TransientError(f"quarantine index put: {exc}") from exc

    def for_run(self, platform_run_id: str) -> list[QuarantineRecord]:
        out: list[QuarantineRecord] = []
        pages = self._ddb.get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="platform_run_id = :r",
            ExpressionAttributeValues={":r": {"S": platform_run_id}})
        for page in pages:
            out.extend(QuarantineRecord.model_validate_json(i["record"]["S"]) for i in page.get("Items", []))
        return sorted(out, key=lambda r: r.receipt_id)


def ensure_table(client: Any, table: str) -> bool:
    """Create the table (as the core Terraform stack would: on-demand billing); True if created."""
    if table in client.list_tables().get("TableNames", []):
        return False
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    return True
