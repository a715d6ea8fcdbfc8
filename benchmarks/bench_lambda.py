"""Lambda invoke through boto3: cold (new worker) and warm."""

from __future__ import annotations

import time
from pathlib import Path

import boto3

from workshop import cloud

from .report import Figure, percentile

APP = Path(__file__).resolve().parent / "app" / "template.yaml"


def invoke_once(client, name: str) -> float:
    started = time.perf_counter()
    reply = client.invoke(FunctionName=name, Payload=b'{"n": 1}')
    assert "FunctionError" not in reply, reply["Payload"].read()
    reply["Payload"].read()
    return (time.perf_counter() - started) * 1000


def invokes(cold_runs: int = 5, warm_runs: int = 300) -> list[Figure]:
    client = boto3.client("lambda")
    cold = []
    for generation in range(cold_runs):
        outputs = cloud.deploy(APP, stack_name="bench",
                               parameters={"Generation": str(generation)})["outputs"]
        cold.append(invoke_once(client, outputs["NoopFunctionName"]))
    name = outputs["NoopFunctionName"]
    warm = [invoke_once(client, name) for _ in range(warm_runs)]
    return [Figure("Lambda invoke, cold (median of 5)", percentile(cold, 50), "ms"),
            Figure("Lambda invoke, warm p50", percentile(warm, 50), "ms"),
            Figure("Lambda invoke, warm p99", percentile(warm, 99), "ms")]
