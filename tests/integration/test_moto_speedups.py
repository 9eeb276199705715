"""The item-level transaction backup (mds/local/moto_speedups.py) leaves moto's DynamoDB in exactly
the state moto's own whole-table backup does: for transactions that succeed, that are cancelled by a
condition after other actions were applied, and that moto refuses outright. A key query answers as
moto's whole-table query does, and SQS hides delayed and in-flight messages as moto does."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from mds.local import moto_speedups


def _tables(ddb) -> None:
    ddb.create_table(TableName="plain", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")  # fmt: skip
    ddb.create_table(TableName="ranged", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                    {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")  # fmt: skip
    for n in range(5):
        ddb.put_item(TableName="plain", Item={"pk": {"S": f"p{n}"}, "n": {"N": str(n)}})
        ddb.put_item(TableName="ranged", Item={"pk": {"S": "r"}, "sk": {"S": f"s{n}"}, "n": {"N": str(n)}})


def _put(table, key, n):
    return {"Put": {"TableName": table, "Item": {**key, "n": {"N": str(n)}}}}


def _update(table, key):
    return {"Update": {"TableName": table, "Key": key, "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}  # fmt: skip


def _fail_unless_absent(table, key):
    return {
        "ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": "attribute_not_exists(pk)"}
    }


P = lambda n: {"pk": {"S": f"p{n}"}}  # noqa: E731
R = lambda n: {"pk": {"S": "r"}, "sk": {"S": f"s{n}"}}  # noqa: E731

TRANSACTIONS = {
    "applied": [
        _put("plain", P(9), 9),
        _update("ranged", R(1)),
        {"Delete": {"TableName": "plain", "Key": P(2)}},
    ],
    "cancelled after writes": [
        _put("plain", P(7), 7),
        _put("plain", P(0), 70),
        _update("ranged", R(3)),
        _put("ranged", R(8), 8),
        {"Delete": {"TableName": "ranged", "Key": R(4)}},
        {"Delete": {"TableName": "plain", "Key": P(1)}},
        _fail_unless_absent("plain", P(3)),
    ],
    "cancelled by a condition first": [_fail_unless_absent("ranged", R(0)), _update("plain", P(4))],
    "refused: one item twice": [_update("plain", P(1)), _put("plain", P(1), 5)],
}


def _run(transact_items) -> tuple[str | None, list, list]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _tables(ddb)
        error = None
        try:
            ddb.transact_write_items(TransactItems=transact_items)
        except ClientError as exc:
            error = exc.response["Error"]["Code"]
        scans = [sorted(ddb.scan(TableName=t)["Items"], key=str) for t in ("plain", "ranged")]
        return error, *scans


@pytest.mark.parametrize("name", TRANSACTIONS)
def test_the_item_backup_leaves_the_state_moto_own_backup_leaves(name):
    moto_speedups.uninstall()
    try:
        shipped = _run(TRANSACTIONS[name])
    finally:
        moto_speedups.install()
    ours = _run(TRANSACTIONS[name])
    assert ours == shipped
    assert (ours[0] is None) == (name == "applied")


def test_a_cancelled_transaction_changes_nothing():
    error, plain, ranged = _run(TRANSACTIONS["cancelled after writes"])
    _, plain_before, ranged_before = _run([_fail_unless_absent("plain", P(0))])
    assert error == "TransactionCanceledException"
    assert (plain, ranged) == (plain_before, ranged_before)


QUERIES = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "r"}}},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
     "ExpressionAttributeValues": {":p": {"S": "r"}, ":s": {"S": "s1"}}, "ScanIndexForward": False},
    {"KeyConditionExpression": "pk = :p AND sk > :s", "Limit": 2,
     "ExpressionAttributeValues": {":p": {"S": "r"}, ":s": {"S": "s0"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
]  # fmt: skip


def _query(query) -> list:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _tables(ddb)
        for n in range(12):  # other partitions, which the query must not see
            ddb.put_item(TableName="ranged", Item={"pk": {"S": f"q{n}"}, "sk": {"S": "s1"}, "n": {"N": "1"}})
        ddb.put_item(TableName="ranged", Item={"pk": {"S": "r"}, "sk": {"S": "s10"}, "n": {"N": "10"}})
        reply = ddb.query(TableName="ranged", **query)
        return [reply["Items"], reply["Count"], reply.get("LastEvaluatedKey")]


@pytest.mark.parametrize("n", range(len(QUERIES)))
def test_a_query_reads_its_partition_and_answers_as_moto_does(n):
    moto_speedups.uninstall()
    try:
        shipped = _query(QUERIES[n])
    finally:
        moto_speedups.install()
    assert _query(QUERIES[n]) == shipped


def _queue_story() -> list:
    """Delayed, in-flight and released messages, and the counts a queue reports of them."""
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
              "ApproximateNumberOfMessagesDelayed"]  # fmt: skip
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        seen = []

        def look(**receive):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, **receive)
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
            seen.append((sorted(m["Body"] for m in got.get("Messages", [])), [attrs[c] for c in counts]))
            return got.get("Messages", [])

        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
        for body in ("a", "b", "c"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        first = look(VisibilityTimeout=600)  # a, b, c in flight; "later" delayed
        look()  # nothing visible
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=0)
        back = look(VisibilityTimeout=600)  # the released one comes back
        sqs.delete_message(QueueUrl=url, ReceiptHandle=back[0]["ReceiptHandle"])
        look()
        return seen


def test_sqs_hides_delayed_and_in_flight_messages_as_moto_does():
    moto_speedups.uninstall()
    try:
        shipped = _queue_story()
    finally:
        moto_speedups.install()
    assert _queue_story() == shipped
    assert shipped[0] == (["a", "b", "c"], ["0", "3", "1"])
