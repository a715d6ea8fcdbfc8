"""Lab 6's exercises: the lottery's Parallel with SNS, a draw that always ends, a bounded redraw.

The checks start draws on the learner's state machine and read what they did: the
execution's status, error and path, the winners table, and the announcements the topic
delivered to the lab's queue. The redraw check also runs the learner's Choice itself, in
a small state machine of its own, with the inputs that decide a redraw.

Every check starts from a known pool: it loads the employees again and empties the
winners table (``lottery.reset_pool``), as the notebook does before its draws.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Mapping
from typing import Any

import boto3

from ..notebook import lottery, state_machines, tables
from ..notebook.checks import Check, CheckFailed, verdict
from .catalog import SOLUTIONS, Exercise
from .json_parts import ABSENT, Part
from .runner import Deployment

__all__ = ["EXERCISES"]

ASL = "statemachines/lottery.asl.json"
CHOICE, LIMIT_FAIL, PARALLEL = "Winners Still Eligible?", "Redraws Exhausted", "Announce And Record"
REDRAW_ERROR, MAX_DRAWS = "RedrawLimitReached", 3
_REFERENCE = json.loads((SOLUTIONS / ASL).read_text())
_RECORD_BRANCH = _REFERENCE["States"][PARALLEL]["Branches"][1]
# A marker state of the redraw check's own machine: the Choice went to the state it names.
_WENT_TO = "WentTo"
_EMPLOYEE_FIELDS = ("employee_id", "name", "lottery_serial", "department")


def _fresh_pool(deployment: Deployment) -> tuple[str, str]:
    """Load the employees and empty the winners table; the two table names."""
    employees = deployment.output("EmployeesTableName")
    winners = deployment.output("WinnersTableName")
    lottery.reset_pool(employees, winners)
    return employees, winners


def _draw(deployment: Deployment, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Run one draw to its end; a draw still running after a minute is stopped."""
    machine = deployment.output("LotteryStateMachineArn")
    arn = state_machines.start(machine, payload, name=f"check-{secrets.token_hex(5)}")
    try:
        return state_machines.wait(arn, timeout=60.0)
    except state_machines.ExecutionTimeout:
        boto3.client("stepfunctions").stop_execution(executionArn=arn, error="CheckTimeout")
        draws = state_machines.path(arn).count("Random Select Winners")
        raise CheckFailed(f"the draw {payload} was still running after 60 s, after {draws} draws: "
                          "its Choice sends a refused draw back to Random Select Winners every "
                          "time. Draw only among those who have not won (6.2), and bound the "
                          "redraws (6.3)") from None


def _failure(execution: Mapping[str, Any]) -> str:
    return (f"{execution['status']} with {execution.get('error') or 'no error'}: "
            f"{lottery.cause_text(execution.get('cause'))}")


# -- 6.3 the bounded redraw ------------------------------------------------------------------

def _choice_machine(definition: Mapping[str, Any], choice: str) -> dict[str, Any]:
    """A state machine that runs the learner's Choice alone.

    Every other state becomes a Fail state whose cause names it, except the learner's own
    Fail states with a fixed error, which stay as they are: an execution's error and cause
    then say where the Choice went.
    """
    states: dict[str, Any] = {}
    for name, state in definition["States"].items():
        if name == choice or (state.get("Type") == "Fail" and "Error" in state):
            states[name] = copy.deepcopy(state)
        else:
            states[name] = {"Type": "Fail", "Error": _WENT_TO, "Cause": name}
    return {"Comment": "The lab 6 check's test of the redraw Choice", "StartAt": choice,
            "States": states}


def _where(execution: Mapping[str, Any]) -> str:
    """Where the Choice sent an input, as the check's machine reports it."""
    if execution["status"] == "FAILED" and execution.get("error") == _WENT_TO:
        return str(execution.get("cause"))
    if execution["status"] == "FAILED":
        return f"Fail {execution.get('error')}"
    return execution["status"]


def redraw_bounded(deployment: Deployment) -> Check:
    """The Choice redraws a refused draw, at most 3 draws in all, then fails by name."""
    machine = deployment.output("LotteryStateMachineArn")
    client = boto3.client("stepfunctions")
    described = client.describe_state_machine(stateMachineArn=machine)
    definition = json.loads(described["definition"])
    after_validate = definition["States"].get("Validate Winners", {}).get("Next")
    choice = definition["States"].get(after_validate or "", {})
    if choice.get("Type") != "Choice":
        return verdict(False, "", f"Validate Winners goes on to {after_validate!r}, which is not "
                                  "a Choice state: keep 'Winners Still Eligible?' after it")
    limit = definition["States"].get(LIMIT_FAIL)
    cases = [({"valid": True, "attempt": 1}, PARALLEL),
             ({"valid": False, "attempt": 1}, "Random Select Winners"),
             ({"valid": False, "attempt": MAX_DRAWS - 1}, "Random Select Winners"),
             ({"valid": True, "attempt": MAX_DRAWS}, PARALLEL),
             ({"valid": False, "attempt": MAX_DRAWS}, f"Fail {REDRAW_ERROR}")]
    test = client.create_state_machine(
        name=f"check-redraw-{secrets.token_hex(4)}", roleArn=described["roleArn"],
        definition=json.dumps(_choice_machine(definition, after_validate)))
    try:
        wrong = []
        for state, wanted in cases:
            arn = state_machines.start(test["stateMachineArn"], state)
            went = _where(state_machines.wait(arn, timeout=30.0))
            if went != wanted:
                wrong.append((state, wanted, went))
    finally:
        client.delete_state_machine(stateMachineArn=test["stateMachineArn"])
    if not wrong:
        return verdict(True, f"a refused draw is drawn again, {MAX_DRAWS} draws in all; "
                             f"then the draw fails with {REDRAW_ERROR}", "")
    state, wanted, went = wrong[0]
    if wanted == f"Fail {REDRAW_ERROR}" and went == "Random Select Winners":
        return verdict(False, "", f"after {MAX_DRAWS} refused draws ({state}) your Choice sends "
                                  "the draw back to Random Select Winners again, so it can "
                                  "loop for ever: compare $.attempt, and go to a Fail state "
                                  f"with Error {REDRAW_ERROR}")
    if wanted == f"Fail {REDRAW_ERROR}" and limit is None:
        return verdict(False, "", f"after {MAX_DRAWS} refused draws your Choice went to "
                                  f"{went}: add the Fail state {LIMIT_FAIL!r} with Error "
                                  f"{REDRAW_ERROR} and send the draw there")
    return verdict(False, "", f"with {json.dumps(state)} your Choice went to {went}, not "
                              f"{wanted}")


# -- 6.1 announce and record -------------------------------------------------------------------

def announce_and_record(deployment: Deployment) -> Check:
    """A draw records its winners and publishes one announcement naming them."""
    _employees, winners = _fresh_pool(deployment)
    inbox = lottery.Inbox(deployment.output("LotteryInboxQueueUrl"))
    inbox.fetch()                               # what earlier draws left in the queue
    execution = _draw(deployment, {"input": 2})
    draw_id = execution["name"]
    if execution["status"] != "SUCCEEDED":
        return verdict(False, "", f"the draw ended {_failure(execution)} — look at its "
                                  "history (state_machines.history_frame)")
    recorded = [item for item in tables.items(winners)
                if item.get("draw_id") == draw_id and lottery.is_recorded(item)]
    inbox.fetch(expect=1, timeout=10.0)
    notes = inbox.for_draw(draw_id)
    output = json.loads(execution.get("output") or "{}")
    if len(recorded) != 2:
        return verdict(False, "", f"the draw succeeded but recorded {len(recorded)} winners, "
                                  "not 2: keep Record Winners as a branch of the Parallel")
    if not inbox.notifications:
        return verdict(False, "", "the winners were recorded, but nothing was published: the "
                                  "Parallel needs a branch whose Task has the Resource "
                                  "arn:${Partition}:states:::sns:publish and TopicArn "
                                  "${LotteryTopicArn}")
    if not notes:
        return verdict(False, "", "a message arrived, but without the draw_id message "
                                  "attribute that names its draw: add MessageAttributes "
                                  "{draw_id: {DataType: String, StringValue.$: $.draw_id}}")
    names = [item["name"] for item in recorded]
    if len(notes) != 1 or not all(name in notes[0]["message"] for name in names):
        return verdict(False, "", f"{len(notes)} announcement(s) of the draw arrived; there "
                                  f"should be one naming {', '.join(names)}: publish "
                                  "$.announcement.message")
    if set(output) != {"announced", "recorded"}:
        return verdict(False, "", f"announced and recorded, but the execution's output has "
                                  f"{sorted(output)}, not announced and recorded: set the "
                                  "Parallel's ResultSelector")
    return verdict(True, f"{draw_id} recorded {', '.join(names)} and announced them in one "
                         "message, side by side in the Parallel", "")


# -- 6.2 draw among those who have not won ------------------------------------------------

def fair_draw(deployment: Deployment) -> Check:
    """Only employees who have not won are drawn; too few left fails by name, at once."""
    _employees, winners = _fresh_pool(deployment)
    pool = lottery.employees()
    left = sorted(employee["employee_id"] for employee in pool)[-2:]
    table = boto3.resource("dynamodb").Table(winners)
    with table.batch_writer() as batch:
        for employee in pool:
            if employee["employee_id"] not in left:
                batch.put_item(Item={**{key: employee[key] for key in _EMPLOYEE_FIELDS},
                                     "draw_id": "check-past", "status": "recorded",
                                     "recorded_at": "2024-01-01T00:00:00+00:00"})
    try:
        before = lottery.snapshot(winners)
        too_many = _draw(deployment, {"input": 3})
        if too_many["status"] != "FAILED" or too_many.get("error") != "NotEnoughEligibleEmployees":
            ended = (f"{too_many['status']} with {too_many.get('error') or 'no error'}"
                     + (": it kept drawing past winners, whose claims were refused"
                        if too_many.get("error") == REDRAW_ERROR else ""))
            return verdict(False, "", f"with only {len(left)} employees left who have not won, "
                                      f"a draw of 3 ended {ended}, not with "
                                      "NotEnoughEligibleEmployees: draw only among "
                                      "eligible(pool, past_winners), and raise it when too "
                                      "few remain")
        if lottery.snapshot(winners) != before:
            return verdict(False, "", "the refused draw of 3 changed the winners table")
        draws = state_machines.path(too_many["executionArn"]).count("Random Select Winners")
        if draws != 1:
            return verdict(False, "", f"the refused draw of 3 drew {draws} times: refuse it "
                                      "before drawing anything")
        last_two = _draw(deployment, {"input": 2})
        if last_two["status"] != "SUCCEEDED":
            return verdict(False, "", f"with exactly 2 employees left, a draw of 2 ended "
                                      f"{_failure(last_two)}: draw only among those who have "
                                      "not won")
        won = sorted(item["employee_id"] for item in tables.items(winners)
                     if item.get("draw_id") == last_two["name"])
        if won != left:
            return verdict(False, "", f"the draw of 2 recorded {won}, not the two who had not "
                                      f"won, {left}")
    finally:
        _fresh_pool(deployment)
    return verdict(True, f"with {len(pool) - len(left)} of {len(pool)} employees past winners, "
                         f"a draw of 3 failed at once with NotEnoughEligibleEmployees and a "
                         f"draw of 2 picked exactly the two left", "")


EXERCISES = [
    Exercise(
        "6.1", "Announce and record, side by side",
        "In `statemachines/lottery.asl.json`, the Parallel `Announce And Record` only "
        "records the winners. Add a branch before it that publishes the draw's announcement "
        "on the topic with the `sns:publish` integration (no Lambda), and name both "
        "results in the Parallel's `ResultSelector`.",
        "A branch `{\"StartAt\": \"Notify Winners\", \"States\": {\"Notify Winners\": "
        "{\"Type\": \"Task\", \"Resource\": \"arn:${Partition}:states:::sns:publish\", "
        "\"Parameters\": {\"TopicArn\": \"${LotteryTopicArn}\", \"Subject.$\": "
        "\"$.announcement.subject\", \"Message.$\": \"$.announcement.message\", "
        "\"MessageAttributes\": {\"draw_id\": {\"DataType\": \"String\", \"StringValue.$\": "
        "\"$.draw_id\"}}}, \"End\": true}}}`; then `\"ResultSelector\": {\"announced.$\": "
        "\"$[0]\", \"recorded.$\": \"$[1]\"}`.",
        announce_and_record,
        json_parts={ASL: (
            Part(("States", PARALLEL, "Comment"),
                 "Exercise 6.1: this only records the winners. Add a first branch that "
                 "announces them with the sns:publish integration, and name both results "
                 "in ResultSelector: announced ($[0]) and recorded ($[1])."),
            Part(("States", PARALLEL, "Branches"), [_RECORD_BRANCH]),
            Part(("States", PARALLEL, "ResultSelector"), {"recorded.$": "$[0]"}),
        )}),
    Exercise(
        "6.2", "Draw among those who have not won",
        "In `lottery/lottery_draw.py`, `draw` samples from everyone, past winners too, and "
        "leaves it to the state machine to draw again. Sample only among the employees who "
        "have not won, and raise `NotEnoughEligibleEmployees` when too few remain.",
        "`candidates = eligible(pool, past_winners)`; if `count > len(candidates)`, raise "
        "`NotEnoughEligibleEmployees(count, len(candidates))`; else `return "
        "rng.sample(candidates, count)`: one sample without replacement, no loop.",
        fair_draw),
    Exercise(
        "6.3", "Bound the redraw",
        "In `statemachines/lottery.asl.json`, the Choice `Winners Still Eligible?` sends a "
        "refused draw back to `Random Select Winners` for ever. Allow 3 draws in all "
        "(`$.attempt` counts them), then end in a Fail state `Redraws Exhausted` with the "
        "error `RedrawLimitReached`.",
        "Two rules, in order: `{\"Variable\": \"$.valid\", \"BooleanEquals\": true, \"Next\": "
        "\"Announce And Record\"}`, then `{\"Variable\": \"$.attempt\", \"NumericLessThan\": "
        "3, \"Next\": \"Random Select Winners\"}`; `\"Default\": \"Redraws Exhausted\"`, a "
        "state `{\"Type\": \"Fail\", \"Error\": \"RedrawLimitReached\", \"Cause\": \"...\"}`.",
        redraw_bounded,
        json_parts={ASL: (
            Part(("States", CHOICE), {
                "Type": "Choice",
                "Comment": "Exercise 6.3: as in the original lab, a refused draw goes back "
                           "to Random Select Winners every time, without end. Allow 3 draws "
                           "in all ($.attempt counts them), then go to a Fail state "
                           "'Redraws Exhausted' with the error RedrawLimitReached.",
                "Choices": [{"Variable": "$.valid", "BooleanEquals": True,
                             "Next": PARALLEL}],
                "Default": "Random Select Winners"}),
            Part(("States", LIMIT_FAIL), ABSENT),
        )}),
]
