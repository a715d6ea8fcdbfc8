"""State machines drawn from their ASL, and executions read as tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop import cloud as lifecycle
from workshop.notebook import state_machines
from workshop.notebook.asl_mermaid import AslError, condition_text, mermaid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "e2e"
SCORE_FLOW = json.loads((FIXTURES / "flow" / "statemachines" / "score.asl.json").read_text())


def lines_with(diagram: str, text: str) -> list[str]:
    return [line.strip() for line in diagram.splitlines() if text in line]


def class_lines(diagram: str, css_class: str) -> list[str]:
    return [line for line in lines_with(diagram, "class ") if line.endswith(f" {css_class}")]


# -- the diagram, from the ASL alone ----------------------------------------------------------


def test_every_state_is_drawn_with_the_shape_of_its_type() -> None:
    diagram = mermaid(SCORE_FLOW)
    assert diagram.startswith("flowchart TD")
    assert lines_with(diagram, '{"HighScore?"}')                      # Choice: a diamond
    assert lines_with(diagram, '[/"Pause"/]')                         # Wait
    assert lines_with(diagram, '(["ScoreTooLow"])')                   # Fail
    assert lines_with(diagram, '[["Announce"]]')                      # Parallel: a fork
    assert lines_with(diagram, "Score<br/><small>lambda</small> ↻")   # Task with Retry
    assert lines_with(diagram, "<small>sns:publish</small>")
    assert lines_with(diagram, "<small>dynamodb:putItem</small>")
    assert len(lines_with(diagram, "subgraph")) == 2                  # one box per branch
    # The join is declared after the boxes: Mermaid would put it in the first one.
    boxes = diagram[diagram.index("subgraph"):diagram.rindex("    end") + 8]
    assert "_join" not in boxes and lines_with(diagram, '_join((" "))')


@pytest.mark.parametrize("resource", ["arn:aws:states:::sns:publish",
                                      "arn:aws-cn:states:::sns:publish",
                                      "arn:${Partition}:states:::sns:publish"])
def test_an_integration_is_named_in_any_partition(resource: str) -> None:
    machine = {"StartAt": "Tell", "States": {"Tell": {"Type": "Task", "Resource": resource,
                                                      "End": True}}}
    assert lines_with(mermaid(machine), "Tell<br/><small>sns:publish</small>")


def test_arrows_carry_the_choice_rules_and_the_caught_errors() -> None:
    diagram = mermaid(SCORE_FLOW)
    assert lines_with(diagram, '-->|"$.score > 10"|')
    assert lines_with(diagram, '-->|"otherwise"|')
    (catch,) = lines_with(diagram, "-.->")
    assert '"catch States.ALL"' in catch


def test_the_path_taken_is_highlighted_and_a_failure_marked() -> None:
    diagram = mermaid(SCORE_FLOW, path=["Score", "HighScore?", "ScoreTooLow"],
                      failed="ScoreTooLow")
    assert class_lines(diagram, "taken") == ["class s0,s1 taken"]
    assert "class s4 failed" in lines_with(diagram, "failed")
    # start → Score, Score → HighScore?, HighScore? → ScoreTooLow: nothing else.
    links = [line for line in diagram.splitlines() if "-->" in line or "-.->" in line]
    (style,) = lines_with(diagram, "linkStyle")
    highlighted = [links[int(i)].strip() for i in style.split()[1].split(",")]
    assert highlighted == ["s0 --> s1", 's1 -->|"otherwise"| s4', "start --> s0"]


def test_no_path_means_nothing_highlighted() -> None:
    diagram = mermaid(SCORE_FLOW)
    assert not lines_with(diagram, "linkStyle")
    assert class_lines(diagram, "taken") == class_lines(diagram, "failed") == []


@pytest.mark.parametrize(("rule", "text"), [
    ({"Variable": "$.n", "NumericLessThanEquals": 3}, "$.n <= 3"),
    ({"Variable": "$.s", "StringEquals": "over"}, '$.s == "over"'),
    ({"Variable": "$.a", "NumericGreaterThanPath": "$.b"}, "$.a > $.b"),
    ({"Variable": "$.x", "IsPresent": False}, "$.x IsPresent false"),
    ({"Not": {"Variable": "$.done", "BooleanEquals": True}}, "not ($.done == true)"),
    ({"And": [{"Variable": "$.a", "NumericEquals": 1}, {"Variable": "$.b", "StringMatches": "x*"}]},
     '($.a == 1) and ($.b matches "x*")'),
])
def test_choice_rules_read_as_conditions(rule: dict, text: str) -> None:
    assert condition_text(rule) == text


def test_labels_are_quoted_safely() -> None:
    machine = {"StartAt": 'Say "hi"', "States": {'Say "hi"': {"Type": "Pass", "End": True}}}
    assert lines_with(mermaid(machine), '["Say #quot;hi#quot;"]')


@pytest.mark.parametrize("machine", [
    {"States": {}},
    {"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True}}},
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}},
])
def test_a_broken_definition_says_what_is_wrong(machine: dict) -> None:
    with pytest.raises(AslError):
        mermaid(machine)


# -- executions, on the local cloud ------------------------------------------------------------


@pytest.fixture(scope="module")
def flow(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(FIXTURES.parent / "e2e" / "flow.yaml", stack_name="flow")["outputs"]


def test_a_failed_execution_reads_as_a_path_a_history_and_a_diagram(flow: dict) -> None:
    arn = flow["StateMachineArn"]
    assert state_machines.definition(arn)["StartAt"] == "Score"
    execution = state_machines.start(arn, {"id": "eve", "points": 2})
    assert state_machines.wait(execution)["status"] == "FAILED"
    assert state_machines.path(execution) == ["Score", "HighScore?", "ScoreTooLow"]
    assert state_machines.failed_state(execution) == "ScoreTooLow"
    frame = state_machines.history_frame(execution)
    assert list(frame.columns) == state_machines.HISTORY_COLUMNS
    assert frame["step"].tolist() == sorted(frame["step"])
    assert frame["elapsed_ms"].is_monotonic_increasing
    lambda_rows = frame[frame["type"] == "LambdaFunctionSucceeded"]
    assert lambda_rows["state"].tolist() == ["Score"]      # inherited from its Task
    last = frame.iloc[-1]
    assert (last["type"], last["detail"]) == ("ExecutionFailed",
                                              "error: ScoreTooLow · cause: score must be above 10")
    # Drawn in flow order from StartAt, whatever order the API returns the states in.
    assert "class s4 failed" in state_machines.execution_diagram(execution)


def test_a_successful_execution_has_no_failed_state(flow: dict) -> None:
    execution = state_machines.start(flow["StateMachineArn"], {"id": "fay", "points": 8},
                                     name="fay-run")
    assert execution.endswith(":fay-run")
    assert state_machines.wait(execution)["status"] == "SUCCEEDED"
    assert state_machines.failed_state(execution) is None
    assert {"Publish", "Record"} <= set(state_machines.path(execution))
    frame = state_machines.executions_frame(flow["StateMachineArn"])
    assert frame.loc[frame["name"] == "fay-run", "status"].tolist() == ["SUCCEEDED"]


def test_waiting_too_long_says_which_execution(flow: dict) -> None:
    execution = state_machines.start(flow["StateMachineArn"], {"id": "gus", "points": 9})
    with pytest.raises(state_machines.ExecutionTimeout, match="still running after 0 s"):
        state_machines.wait(execution, timeout=0)
    state_machines.wait(execution)
