"""Lab 6's plumbing: the pool loader, the inbox, and the fairness statistics."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pandas as pd
import pytest

from workshop.notebook import checks, lottery, tables

# -- the chi-square test, by hand --------------------------------------------------------

@pytest.mark.parametrize("x", [0.1, 1.0, 2.0, 5.99, 13.8, 40.0])
def test_two_degrees_of_freedom_have_a_closed_form(x: float) -> None:
    assert lottery.chi_square_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-12)


@pytest.mark.parametrize(("x", "dof", "p"), [
    (3.841458820694124, 1, 0.05),        # the textbook critical values
    (6.634896601021213, 1, 0.01),
    (58.30117759, 29, 0.001),            # the bound tests/lottery uses
    (49.80184957, 35, 0.05),
    (35.0, 35, 0.4682027245),          # checked by integrating the density
    (10.0, 30, 0.9997737463),
    (0.0, 5, 1.0),
])
def test_the_p_value_matches_known_quantiles(x: float, dof: int, p: float) -> None:
    assert lottery.chi_square_sf(x, dof) == pytest.approx(p, rel=1e-5)


def test_degrees_of_freedom_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        lottery.chi_square_sf(3.0, 0)


def test_a_uniform_count_passes_and_a_biased_one_fails() -> None:
    fair = lottery.chi_square([10] * 36)
    assert (fair.statistic, fair.degrees_of_freedom, fair.p_value) == (0.0, 35, 1.0)
    assert lottery.check_fair(pd.Series([10] * 36))
    biased = pd.Series([40] + [10] * 35)
    assert lottery.chi_square(biased).p_value == pytest.approx(1.771046e-05, rel=1e-4)
    with pytest.raises(checks.CheckFailed, match="uneven"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(checks.STRICT_VARIABLE, "1")
            lottery.check_fair(biased)


def test_a_fairness_test_needs_wins_to_judge() -> None:
    with pytest.raises(ValueError, match="at least two employees and one win"):
        lottery.chi_square([0, 0, 0])
    with pytest.raises(ValueError, match="at least two employees"):
        lottery.chi_square([5])


def test_the_plot_draws_one_bar_per_employee_and_the_expected_line() -> None:
    figure = lottery.plot_fairness(pd.Series([9, 11, 10], index=["E001", "E002", "E003"]))
    axes = figure.axes[0]
    assert len(axes.patches) == 3
    assert axes.lines[0].get_ydata()[0] == 10
    assert "30 draws" in axes.get_title()


# -- causes and envelopes ---------------------------------------------------------------

def test_a_lambda_cause_reads_as_its_message() -> None:
    cause = json.dumps({"errorMessage": "cannot draw 5 winners", "errorType": "X",
                        "stackTrace": ["..."]})
    assert lottery.cause_text(cause) == "cannot draw 5 winners"
    assert lottery.cause_text("plain words") == "plain words"
    assert lottery.cause_text(None) == ""
    assert lottery.cause_text("[1, 2]") == "[1, 2]"


def test_the_pool_file_is_checked(tmp_path: Path) -> None:
    assert len(lottery.employees()) == 36
    broken = tmp_path / "pool.json"
    broken.write_text(json.dumps([{"employee_id": "E1", "name": "A", "department": "B"}]))
    with pytest.raises(ValueError, match="employee #0 lacks lottery_serial"):
        lottery.employees(broken)
    broken.write_text(json.dumps({"employee_id": "E1"}))
    with pytest.raises(ValueError, match="a list of employees"):
        lottery.employees(broken)


# -- against the private cloud ----------------------------------------------------------

def _table(name: str) -> str:
    boto3.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "employee_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "employee_id", "KeyType": "HASH"}])
    return name


@pytest.fixture
def pool_tables(cloud: dict) -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    names = (_table(f"employees-{suffix}"), _table(f"winners-{suffix}"))
    yield names
    for name in names:
        boto3.client("dynamodb").delete_table(TableName=name)


def test_reset_pool_loads_exactly_the_file_and_clears_the_winners(
        pool_tables: tuple[str, str]) -> None:
    employees, winners = pool_tables
    boto3.resource("dynamodb").Table(employees).put_item(
        Item={"employee_id": "E999", "name": "Not In The File"})
    boto3.resource("dynamodb").Table(winners).put_item(
        Item={"employee_id": "E001", "draw_id": "old"})
    assert lottery.reset_pool(employees, winners) == {"employees": 36, "winners removed": 1}
    loaded = sorted(tables.items(employees), key=lambda item: item["employee_id"])
    assert loaded == sorted(lottery.employees(), key=lambda item: item["employee_id"])
    assert lottery.winners_frame(winners).empty
    assert list(lottery.winners_frame(winners).columns) == lottery.WINNER_COLUMNS


def test_the_winners_frame_shows_wins_not_the_claims_of_a_running_draw(
        pool_tables: tuple[str, str]) -> None:
    _employees, winners = pool_tables
    table = boto3.resource("dynamodb").Table(winners)
    table.put_item(Item={"employee_id": "E001", "name": "A", "draw_id": "d1",
                         "status": "recorded", "recorded_at": "2026-11-22T10:00:00+00:00"})
    table.put_item(Item={"employee_id": "E002", "name": "B", "draw_id": "d2",
                         "status": "claimed"})
    table.put_item(Item={"employee_id": "E003", "name": "C", "draw_id": "d0"})  # no status
    frame = lottery.winners_frame(winners)
    assert list(frame["employee_id"]) == ["E003", "E001"]      # by draw, then employee
    assert list(frame["recorded_at"]) == ["", "2026-11-22T10:00:00+00:00"]
    assert lottery.is_recorded({"status": "recorded"}) and lottery.is_recorded({})
    assert not lottery.is_recorded({"status": "claimed"})


@pytest.fixture
def topic_and_queue(cloud: dict) -> Iterator[tuple[str, str]]:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    name = f"lottery-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    yield topic, queue
    sns.delete_topic(TopicArn=topic)
    sqs.delete_queue(QueueUrl=queue)


def test_the_inbox_reads_each_announcement_once_with_its_draw(
        topic_and_queue: tuple[str, str]) -> None:
    topic, queue = topic_and_queue
    inbox = lottery.Inbox(queue)
    assert inbox.fetch() == 0 and inbox.frame().empty
    for draw_id in ("draw-1", "draw-2"):
        boto3.client("sns").publish(
            TopicArn=topic, Subject="Lottery draw: 1 winner", Message=f"winner of {draw_id}",
            MessageAttributes={"draw_id": {"DataType": "String", "StringValue": draw_id}})
    assert inbox.fetch(expect=2) == 2
    assert inbox.fetch() == 0                       # read messages left the queue
    frame = inbox.frame()
    assert list(frame.columns) == lottery.NOTIFICATION_COLUMNS
    assert sorted(frame["draw_id"]) == ["draw-1", "draw-2"]
    assert [note["message"] for note in inbox.for_draw("draw-2")] == ["winner of draw-2"]
    assert set(frame["subject"]) == {"Lottery draw: 1 winner"}


def test_a_raw_message_is_kept_as_it_came(topic_and_queue: tuple[str, str]) -> None:
    _topic, queue = topic_and_queue
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody="hello, not JSON")
    inbox = lottery.Inbox(queue)
    assert inbox.fetch(expect=1) == 1
    assert inbox.notifications == [{"draw_id": "", "subject": "", "message": "hello, not JSON",
                                    "sent": ""}]
