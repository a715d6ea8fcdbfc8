"""DynamoDB's atomic conditional writes hold through the local cloud's endpoint.

The fixed matchmaking and exactly-once battle settlement depend on this; if a change
of moto or of the bridge broke it, these tests would catch it.
"""

from __future__ import annotations

import threading

import boto3
import pytest


@pytest.fixture(scope="module")
def table(cloud: dict):
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="atomicity", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    return boto3.resource("dynamodb").Table("atomicity")


def race(threads: int, work) -> list:
    results: list = []
    barrier = threading.Barrier(threads)

    def runner(index: int) -> None:
        barrier.wait()
        results.append(work(index))

    workers = [threading.Thread(target=runner, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return results


def test_only_one_conditional_put_wins(table) -> None:
    errors = table.meta.client.exceptions
    for round_ in range(15):
        def claim(player: int, room: str = f"room-{round_}") -> bool:
            try:
                table.put_item(Item={"id": room, "player": player},
                               ConditionExpression="attribute_not_exists(id)")
                return True
            except errors.ConditionalCheckFailedException:
                return False

        assert sum(race(16, claim)) == 1


def test_optimistic_increments_lose_nothing(table) -> None:
    table.put_item(Item={"id": "counter", "n": 0})
    errors = table.meta.client.exceptions

    def increment(_: int) -> int:
        done = 0
        while done < 10:
            current = table.get_item(Key={"id": "counter"}, ConsistentRead=True)["Item"]["n"]
            try:
                table.update_item(Key={"id": "counter"}, UpdateExpression="SET n = :next",
                                  ConditionExpression="n = :seen",
                                  ExpressionAttributeValues={":seen": current,
                                                             ":next": current + 1})
                done += 1
            except errors.ConditionalCheckFailedException:
                continue
        return done

    assert sum(race(8, increment)) == 80
    assert table.get_item(Key={"id": "counter"})["Item"]["n"] == 80
