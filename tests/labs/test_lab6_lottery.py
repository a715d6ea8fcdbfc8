"""Lab 6 end to end: the lottery state machine of template.yaml on the private cloud.

Each test resets the employee pool (the 36 employees of data/lottery/employees.json, no
winners) and starts real executions; the Lambda functions, the SNS publish and the queue
subscription are the ones the notebook uses.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from labtools import TEMPLATE

from workshop import cloud as lifecycle
from workshop.notebook import lottery, state_machines

sys.path.insert(0, str(TEMPLATE.parent / "solutions" / "lottery"))
import lottery_draw

ASL = TEMPLATE.parent / "solutions" / "statemachines" / "lottery.asl.json"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labs"
REDRAW = FIXTURES / "lottery_redraw.yaml"
RELEASE = FIXTURES / "lottery_release.yaml"
POOL = lottery.employees()
NAMES = {employee["employee_id"]: employee["name"] for employee in POOL}
SERIALS = {employee["lottery_serial"]: employee["employee_id"] for employee in POOL}
TRANSIENT = {"Lambda.ServiceException", "Lambda.AWSLambdaException",
             "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}
# A successful draw takes about 40 history events; a failure far fewer. Generous bounds
# that a looping state machine would still blow through.
SUCCESS_EVENTS = 60
FAILURE_EVENTS = 25


@pytest.fixture(scope="module")
def inbox(game: dict[str, str]) -> lottery.Inbox:
    return lottery.Inbox(game["LotteryInboxQueueUrl"])


@pytest.fixture
def stack(game: dict[str, str], inbox: lottery.Inbox) -> dict[str, str]:
    """The deployed lab, with the full pool, no winners and an empty queue."""
    lottery.reset_pool(game["EmployeesTableName"], game["WinnersTableName"])
    inbox.fetch()
    return game


def draw(stack: dict[str, str], payload: Any) -> tuple[dict[str, Any], list[dict]]:
    execution = lottery.run_draw(stack["LotteryStateMachineArn"], payload, timeout=30)
    return execution, state_machines.history(execution["executionArn"])


def recorded(stack: dict[str, str]) -> dict[str, str]:
    """``{employee id: draw id}`` of the winners table."""
    return {item["employee_id"]: item["draw_id"]
            for item in lottery.tables.items(stack["WinnersTableName"])}


def statuses(stack: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``{employee id: (draw id, status)}`` of the winners table."""
    return {item["employee_id"]: (item["draw_id"], item.get("status", ""))
            for item in lottery.tables.items(stack["WinnersTableName"])}


def named(note: dict[str, str]) -> list[str]:
    """The employee ids an announcement names, by the serial on each winner's line."""
    return [SERIALS[serial] for serial in re.findall(r"serial (\S+)$", note["message"], re.M)]


def announced(inbox: lottery.Inbox, draw_id: str, *, expect: int) -> list[dict[str, str]]:
    inbox.fetch(expect=expect, timeout=5.0 if expect else 0.5)
    return inbox.for_draw(draw_id)


def test_a_draw_records_n_new_winners_and_announces_them_once(
        stack: dict[str, str], inbox: lottery.Inbox) -> None:
    lottery.reset_pool(stack["EmployeesTableName"], stack["WinnersTableName"])
    boto3.resource("dynamodb").Table(stack["WinnersTableName"]).put_item(
        Item={**POOL[0], "draw_id": "an-earlier-draw"})
    execution, history = draw(stack, {"input": 2})
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert len(history) <= SUCCESS_EVENTS
    output = json.loads(execution["output"])
    ids = [winner["employee_id"] for winner in output["recorded"]["winners"]]
    assert output["recorded"]["draw_id"] == execution["name"]
    assert output["announced"]["message_id"]
    assert len(set(ids)) == 2 and POOL[0]["employee_id"] not in ids
    assert recorded(stack) == {POOL[0]["employee_id"]: "an-earlier-draw",
                               **dict.fromkeys(ids, execution["name"])}
    assert {statuses(stack)[employee_id] for employee_id in ids} == {
        (execution["name"], lottery_draw.RECORDED)}
    (note,) = announced(inbox, execution["name"], expect=1)
    assert note["subject"] == "Lottery draw: 2 winners"
    assert all(NAMES[employee_id] in note["message"] for employee_id in ids)
    assert sorted(named(note)) == sorted(ids)
    path = state_machines.path(execution["executionArn"])
    assert path[:5] == ["Input Winners", "Random Select Winners", "Validate Winners",
                        "Winners Still Eligible?", "Announce And Record"]
    assert sorted(path[5:]) == ["Notify Winners", "Record Winners"]    # side by side


def test_draws_never_repeat_a_winner_and_fail_by_name_once_the_pool_runs_out(
        stack: dict[str, str], inbox: lottery.Inbox) -> None:
    won: list[str] = []
    for _ in range(len(POOL) // 5):                        # 7 draws of 5 leave 1 of 36
        execution, _history = draw(stack, {"input": 5})
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        won += [w["employee_id"] for w in json.loads(execution["output"])["recorded"]["winners"]]
    assert len(won) == len(set(won)) == len(recorded(stack)) == 35
    inbox.fetch(expect=7)
    for count, says in [(5, "cannot draw 5 winners: only 1 employee who has not won is left"),
                        (2, "only 1 employee who has not won is left")]:
        execution, history = draw(stack, {"input": count})
        assert execution["status"] == "FAILED"
        assert execution["error"] == "NotEnoughEligibleEmployees"
        assert says in lottery.cause_text(execution["cause"])
        assert len(history) <= FAILURE_EVENTS
    last, _history = draw(stack, {"input": 1})
    assert last["status"] == "SUCCEEDED"
    assert sorted(recorded(stack)) == sorted(NAMES)
    execution, history = draw(stack, {"input": 1})
    assert (execution["status"], execution["error"]) == ("FAILED", "NotEnoughEligibleEmployees")
    assert lottery.cause_text(execution["cause"]).endswith("nobody is left who has not won")
    assert state_machines.path(execution["executionArn"])[-1] == "Draw Failed"
    assert not announced(inbox, execution["name"], expect=0)


def test_a_draw_before_the_employees_are_loaded_says_the_table_is_empty(
        game: dict[str, str], inbox: lottery.Inbox) -> None:
    """Right after deploy the employee table exists but holds nobody (notebook 06 loads it
    with reset_pool): the failure must say so, not that everyone has won."""
    lottery.reset_pool(game["EmployeesTableName"], game["WinnersTableName"])
    lottery.tables.empty_table(game["EmployeesTableName"])
    try:
        execution, history = draw(game, {"input": 2})
    finally:
        lottery.reset_pool(game["EmployeesTableName"], game["WinnersTableName"])
    assert (execution["status"], execution["error"]) == ("FAILED", "EmptyEmployeePool")
    cause = lottery.cause_text(execution["cause"])
    assert cause.startswith("cannot draw 2 winners: the employee table is empty")
    assert "lottery.reset_pool" in cause
    assert len(history) <= FAILURE_EVENTS
    assert state_machines.path(execution["executionArn"])[-1] == "Draw Failed"
    assert not announced(inbox, execution["name"], expect=0)


@pytest.mark.parametrize(("payload", "error", "says"), [
    ({}, "InvalidWinnerCount", 'has no "input"'),
    ({"input": 0}, "InvalidWinnerCount", "at least 1 winner, not 0"),
    ({"input": -2}, "InvalidWinnerCount", "at least 1 winner, not -2"),
    ({"input": "two"}, "InvalidWinnerCount", 'not the string "two"'),
    ({"input": 2.5}, "InvalidWinnerCount", "whole number of winners, not 2.5"),
    ({"input": None}, "InvalidWinnerCount", "not null"),
    ({"input": 37}, "NotEnoughEligibleEmployees", "cannot draw 37 winners: only 36"),
    ({"input": 2, "exception": True}, "SimulatedFailure", "error path"),
])
def test_bad_input_fails_fast_by_name_and_changes_nothing(
        stack: dict[str, str], inbox: lottery.Inbox, payload: dict, error: str,
        says: str) -> None:
    before = [lottery.snapshot(stack[name]) for name in ("EmployeesTableName",
                                                         "WinnersTableName")]
    execution, history = draw(stack, payload)
    assert (execution["status"], execution["error"]) == ("FAILED", error)
    assert says in lottery.cause_text(execution["cause"])
    assert len(history) <= FAILURE_EVENTS
    assert state_machines.path(execution["executionArn"])[-1] == "Draw Failed"
    assert [lottery.snapshot(stack[name]) for name in ("EmployeesTableName",
                                                       "WinnersTableName")] == before
    assert not announced(inbox, execution["name"], expect=0)


def test_concurrent_draws_announce_only_what_they_record(
        stack: dict[str, str], inbox: lottery.Inbox) -> None:
    """Eight draws of four at once from 36: races are possible, double wins are not.

    Each draw claims its winners before it announces them, so a draw that loses a race
    draws again (or fails with RedrawLimitReached) before publishing anything: whoever
    is announced is recorded, by the draw that announced them.
    """
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(8)

    def one() -> None:
        barrier.wait()
        results.append(lottery.run_draw(stack["LotteryStateMachineArn"], {"input": 4},
                                        timeout=60))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    succeeded = [r for r in results if r["status"] == "SUCCEEDED"]
    failed = [r for r in results if r["status"] != "SUCCEEDED"]
    assert {r.get("error") for r in failed} <= {"RedrawLimitReached"}
    expected = {w["employee_id"]: r["name"] for r in succeeded
                for w in json.loads(r["output"])["recorded"]["winners"]}
    # nobody twice: four distinct employees per succeeded draw, and nothing else recorded
    assert len(expected) == 4 * len(succeeded) and succeeded
    assert statuses(stack) == {employee_id: (draw_id, lottery_draw.RECORDED)
                               for employee_id, draw_id in expected.items()}
    inbox.fetch(expect=len(succeeded))
    inbox.fetch(timeout=0.5)            # anything a failed draw might have sent
    names = {r["name"] for r in results}
    notes = [note for note in inbox.notifications if note["draw_id"] in names]
    assert Counter(note["draw_id"] for note in notes) == Counter(r["name"] for r in succeeded)
    for note in notes:
        assert len(named(note)) == 4
        assert all(expected.get(employee_id) == note["draw_id"] for employee_id in named(note))


def invoke(function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
    answer = boto3.client("lambda").invoke(FunctionName=function_arn,
                                           Payload=json.dumps(event).encode())
    return {"error": answer.get("FunctionError"), **json.loads(answer["Payload"].read())}


def test_claiming_and_recording_are_harmless_to_retry_and_refused_to_another_draw(
        stack: dict[str, str]) -> None:
    asl = state_machines.definition(stack["LotteryStateMachineArn"])
    validate = asl["States"]["Validate Winners"]["Resource"]
    record = asl["States"]["Announce And Record"]["Branches"][1]["States"][
        "Record Winners"]["Resource"]
    first, second, third = POOL[:3]
    a, b, c = (employee["employee_id"] for employee in (first, second, third))

    def claim(draw_id: str, winners: list[dict]) -> dict[str, Any]:
        return invoke(validate, {"draw_id": draw_id, "num_of_winners": len(winners),
                                 "attempt": 1, "winners": winners})

    for _ in range(2):                                                  # a retry
        answer = claim("draw-a", [first, second])
        assert (answer["error"], answer["valid"], answer["taken"]) == (None, True, [])
    assert statuses(stack) == {a: ("draw-a", "claimed"), b: ("draw-a", "claimed")}
    # another draw wants the second employee: nothing of it is claimed, and it redraws
    taken = claim("draw-b", [third, second])
    assert (taken["error"], taken["valid"], taken["taken"]) == (None, False, [b])
    assert "announcement" not in taken
    assert statuses(stack) == {a: ("draw-a", "claimed"), b: ("draw-a", "claimed")}

    for _ in range(2):                                                  # a retry
        done = invoke(record, {"draw_id": "draw-a", "winners": [first, second]})
        assert done["error"] is None and done["draw_id"] == "draw-a"
    assert statuses(stack) == {a: ("draw-a", "recorded"), b: ("draw-a", "recorded")}
    assert all(item.get("recorded_at") for item in lottery.tables.items(
        stack["WinnersTableName"]))
    # recording what this draw does not hold is refused, all or nothing
    refused = invoke(record, {"draw_id": "draw-b", "winners": [third, second]})
    assert refused["errorType"] == "WinnerAlreadyRecorded"
    assert b in refused["errorMessage"] and c in refused["errorMessage"]
    assert statuses(stack) == {a: ("draw-a", "recorded"), b: ("draw-a", "recorded")}


def test_a_failed_announce_and_record_gives_back_the_claims(cloud: dict) -> None:
    """RecordWinners records one winner, then breaks: the execution fails by that name,
    the recorded winner stays, and the other winners are back in the pool."""
    outputs = lifecycle.deploy(RELEASE, stack_name="lottery-release")["outputs"]
    lottery.reset_pool(outputs["EmployeesTableName"], outputs["WinnersTableName"])
    execution, history = draw(outputs, {"input": 3})
    assert (execution["status"], execution["error"]) == ("FAILED", "RecordingFailed")
    assert "the recording broke off" in lottery.cause_text(execution["cause"])
    path = state_machines.path(execution["executionArn"])
    assert path.count("Release Claim") == 3 and path[-1] == "Draw Failed"
    claimed = next(json.loads(event["stateExitedEventDetails"]["output"]) for event in history
                   if event.get("stateExitedEventDetails", {}).get("name") == "Validate Winners")
    first, *others = (winner["employee_id"] for winner in claimed["winners"])
    assert statuses(outputs) == {first: (execution["name"], lottery_draw.RECORDED)}
    # everyone else can be drawn again: all 35, and not one more
    select = {"draw_id": "after", "attempt": 0}
    drawn = invoke(outputs["RandomSelectWinnersFunctionName"], {**select, "num_of_winners": 35})
    assert drawn["error"] is None
    assert set(others) <= {winner["employee_id"] for winner in drawn["winners"]}
    assert invoke(outputs["RandomSelectWinnersFunctionName"], {**select, "num_of_winners": 36})[
        "errorType"] == "NotEnoughEligibleEmployees"


def test_the_redraw_loop_gives_up_by_name_after_three_draws(cloud: dict) -> None:
    outputs = lifecycle.deploy(REDRAW, stack_name="lottery-redraw")["outputs"]
    lottery.reset_pool(outputs["EmployeesTableName"], outputs["WinnersTableName"])
    execution, history = draw(outputs, {"input": 2})
    assert (execution["status"], execution["error"]) == ("FAILED", "RedrawLimitReached")
    assert Counter(state_machines.path(execution["executionArn"]))[
        "Random Select Winners"] == 3
    assert len(history) <= SUCCESS_EVENTS
    assert not lottery.tables.items(outputs["WinnersTableName"])


def test_retries_sit_on_the_tasks_and_every_error_reaches_a_fail_state() -> None:
    """The definition's shape: what the lab teaches about Retry, Catch and Fail."""
    states = json.loads(ASL.read_text())["States"]
    parallel = states["Announce And Record"]
    assert "Retry" not in parallel        # it would re-run a branch that had succeeded
    branches = {name: state for branch in parallel["Branches"]
                for name, state in branch["States"].items()}
    assert {"Notify Winners", "Record Winners"} == set(branches)
    assert branches["Notify Winners"]["Resource"] == "arn:${Partition}:states:::sns:publish"
    # a publish is retried only when nothing was sent
    assert all(error.startswith("SNS.") and "Throttl" in error
               for retry in branches["Notify Winners"]["Retry"] for error in retry["ErrorEquals"])
    # a lost claim is final; a transaction cancelled by a conflict in flight is retried
    recording = {e for r in branches["Record Winners"]["Retry"] for e in r["ErrorEquals"]}
    assert "TransactionCanceledException" in recording
    assert "WinnerAlreadyRecorded" not in recording
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    # from the claim on, a failure first gives the claims back
    claims_from = {"Validate Winners"}
    for name, task in tasks.items():
        assert task["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                  "Next": "Release Claims" if name in claims_from
                                  else "Draw Failed"}], name
        assert {e for r in task["Retry"] for e in r["ErrorEquals"]} == TRANSIENT, name
    assert parallel["Catch"][0]["Next"] == "Release Claims"
    release = states["Release Claims"]
    assert (release["Type"], release["ItemsPath"], release["Next"]) == (
        "Map", "$.winners", "Draw Failed")
    assert release["ResultPath"] is None                 # $.error reaches Draw Failed
    assert release["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.release_error",
                                 "Next": "Draw Failed"}]
    delete = release["ItemProcessor"]["States"]["Release Claim"]
    assert delete["Resource"] == "arn:${Partition}:states:::dynamodb:deleteItem"
    assert delete["Parameters"]["ConditionExpression"] == lottery_draw.RELEASE_CONDITION
    assert delete["Parameters"]["ExpressionAttributeValues"][":claimed"] == {
        "S": lottery_draw.CLAIMED}
    assert [c["ErrorEquals"] for c in delete["Catch"]] == [
        ["DynamoDB.ConditionalCheckFailedException"]]
    assert {name for name, s in states.items() if s["Type"] == "Fail"} == {
        "Draw Failed", "Redraws Exhausted"}
    loop = states["Winners Still Eligible?"]["Choices"][1]
    assert (loop["Next"], loop["NumericLessThan"]) == ("Random Select Winners", 3)
