"""Function logs are readable through the Logs API the moment an invocation returns.

The local cloud hands log lines to CloudWatch Logs in batches (a write per invocation
was a measurable cost under load); whatever reads logs must still see every line
written so far, as a learner reading them right after an invoke expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from workshop import cloud as lifecycle

ECHO = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml"


def test_an_invocations_lines_are_readable_as_soon_as_it_returns(cloud: dict) -> None:
    function = lifecycle.deploy(ECHO, stack_name="logs")["outputs"]["EchoFunctionName"]
    functions, logs = boto3.client("lambda"), boto3.client("logs")
    for n in range(3):
        event = {"requestContext": {"routeKey": "$disconnect", "connectionId": f"gone-{n}"}}
        answer = functions.invoke(FunctionName=function, Payload=json.dumps(event))
        assert answer["StatusCode"] == 200 and "FunctionError" not in answer
        request_id = answer["ResponseMetadata"]["RequestId"]
        # Read at once, without waiting or retrying.
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
        text = "".join(event["message"] for event in events)
        assert f"START RequestId: {request_id}" in text
        assert f"route $disconnect from gone-{n}\n" in text
        assert f"END RequestId: {request_id}" in text
        assert f"REPORT RequestId: {request_id}" in text
