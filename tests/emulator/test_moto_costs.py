"""A refused DynamoDB transaction is undone item by item, at a cost that does not grow
with the table (moto alone deep-copies every table the transaction names)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.logs.models import LogEvent

from workshop.emulator import moto_costs
from workshop.emulator.cloudwatch_logs import CloudWatchLogsSink
from workshop.emulator.settings import Settings


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # moto's in-process mock, not the session's local cloud that other tests point at.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    moto_costs.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_table(
            TableName="rooms", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        client.create_table(
            TableName="games", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "game", "KeyType": "HASH"},
                       {"AttributeName": "player", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "game", "AttributeType": "S"},
                                  {"AttributeName": "player", "AttributeType": "S"}])
        yield client


def items(client: Any, table: str) -> list[dict]:
    return sorted(client.scan(TableName=table)["Items"], key=repr)


def refused(client: Any, writes: list[dict]) -> None:
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=writes)


def test_a_refused_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="rooms", Item={"pk": {"S": "tickets"}, "n": {"N": "4"}})
    dynamodb.put_item(TableName="rooms", Item={"pk": {"S": "room#1"}, "p": {"L": []}})
    dynamodb.put_item(TableName="games",
                      Item={"game": {"S": "g"}, "player": {"S": "ann"}, "score": {"N": "1"}})
    before = {table: items(dynamodb, table) for table in ("rooms", "games")}
    refused(dynamodb, [
        {"Update": {"TableName": "rooms", "Key": {"pk": {"S": "tickets"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": "rooms", "Key": {"pk": {"S": "room#1"}}}},
        {"Put": {"TableName": "rooms", "Item": {"pk": {"S": "player#bob"}}}},
        {"Update": {"TableName": "games", "Key": {"game": {"S": "g"}, "player": {"S": "ann"}},
                    "UpdateExpression": "SET score = :s",
                    "ExpressionAttributeValues": {":s": {"N": "9"}}}},
        {"Put": {"TableName": "games", "Item": {"game": {"S": "g"}, "player": {"S": "cat"}}}},
        {"ConditionCheck": {"TableName": "rooms", "Key": {"pk": {"S": "nobody"}},
                            "ConditionExpression": "attribute_exists(pk)"}},
    ])
    assert {table: items(dynamodb, table) for table in ("rooms", "games")} == before


def test_an_accepted_transaction_writes_everything(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "rooms", "Item": {"pk": {"S": "a"}}}},
        {"Put": {"TableName": "games", "Item": {"game": {"S": "g"}, "player": {"S": "b"}}}},
    ])
    assert items(dynamodb, "rooms") == [{"pk": {"S": "a"}}]
    assert items(dynamodb, "games") == [{"game": {"S": "g"}, "player": {"S": "b"}}]


def test_a_transaction_copies_the_items_it_names_not_the_table(
        dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(300):
        dynamodb.put_item(TableName="rooms", Item={"pk": {"S": f"player#{n}"}})
    copies = []
    real = Item.__deepcopy__

    def counted(self: Item, memo: dict) -> Item:
        copies.append(self)
        return real(self, memo)

    monkeypatch.setattr(Item, "__deepcopy__", counted)
    refused(dynamodb, [
        {"Delete": {"TableName": "rooms", "Key": {"pk": {"S": "player#1"}}}},
        {"ConditionCheck": {"TableName": "rooms", "Key": {"pk": {"S": "player#2"}},
                            "ConditionExpression": "attribute_not_exists(pk)"}},
    ])
    assert len(copies) <= 2
    assert len(items(dynamodb, "rooms")) == 300


def test_a_host_is_mapped_to_its_service_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.moto_server import werkzeug_app

    moto_costs.install()
    listings = []
    real = werkzeug_app.backends.list_of_moto_modules
    monkeypatch.setattr(werkzeug_app.backends, "list_of_moto_modules",
                        lambda: listings.append(1) or real())
    app = werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)
    host = "dynamodb.ap-southeast-4.amazonaws.com"  # a host no other test asks about
    assert [app.get_backend_for_host(host) for _ in range(3)] == ["dynamodb"] * 3
    assert len(listings) == 1


def test_a_handler_class_is_inspected_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import responses, utils

    moto_costs.install()
    inspections = []
    real = utils.inspect.getmembers
    monkeypatch.setattr(utils.inspect, "getmembers",
                        lambda *args, **kwargs: inspections.append(1) or real(*args, **kwargs))

    class Handler:
        def create_thing(self) -> None: ...

    assert [responses.method_names_from_class(Handler) for _ in range(3)] == [
        ["create_thing"]] * 3
    assert len(inspections) == 1


def live(instances: Any) -> int:
    gc.collect()
    return len(list(instances))


def test_items_a_request_is_done_with_are_not_kept(dynamodb: Any) -> None:
    # moto lists every model instance it makes, for its dashboard; held strongly, every
    # item ever written and every copy a request made stayed in memory for good.
    for n in range(100):
        key = {"pk": {"S": f"room#{n}"}}
        dynamodb.put_item(TableName="rooms", Item={**key, "players": {"L": []}})
        dynamodb.update_item(TableName="rooms", Key=key, UpdateExpression="SET phase = :p",
                             ExpressionAttributeValues={":p": {"S": "settled"}})
        dynamodb.delete_item(TableName="rooms", Key=key)
    dynamodb.put_item(TableName="rooms", Item={"pk": {"S": "tickets"}, "n": {"N": "1"}})
    assert live(Item.instances_tracked) <= 5
    # What is still in use is still listed (the dashboard, S3's reset rely on it).
    assert {item.hash_key.value for item in Item.instances_tracked} == {"tickets"}
    assert dynamodb.get_item(TableName="rooms", Key={"pk": {"S": "tickets"}})["Item"]


def test_log_lines_trimmed_away_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_costs.install()
    with mock_aws():
        sink = CloudWatchLogsSink(Settings(port=45998), max_events_per_group=100)
        now = int(time.time() * 1000)
        for n in range(1000):
            sink.put_events("/aws/lambda/busy", "s", [(now + n, f"line {n}\n")])
        assert live(LogEvent.instances_tracked) <= 300  # the limit, and what awaits a trim
