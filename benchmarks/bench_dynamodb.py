"""DynamoDB GetItem through the local cloud's endpoint vs a plain moto server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import boto3

from .report import Figure, percentile


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _table(endpoint: str):
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    client.create_table(
        TableName="bench", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    client.put_item(TableName="bench", Item={"id": {"S": "a"}, "score": {"N": "1"}})
    return client


def _get_items(client, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.get_item(TableName="bench", Key={"id": {"S": "a"}})
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _plain_moto_server() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, endpoint
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the plain moto server did not start")


def get_item(rounds: int = 5, per_round: int = 100) -> list[Figure]:
    local = _table(os.environ["AWS_ENDPOINT_URL"])
    process, endpoint = _plain_moto_server()
    try:
        plain = _table(endpoint)
        ours, theirs = [], []
        # Interleave the two so that the machine's background load hits both alike.
        for _ in range(rounds):
            ours += _get_items(local, per_round)
            theirs += _get_items(plain, per_round)
    finally:
        process.terminate()
        process.wait(timeout=10)
    ours_p50, theirs_p50 = percentile(ours, 50), percentile(theirs, 50)
    return [Figure("GetItem p50, local cloud endpoint", ours_p50, "ms"),
            Figure("GetItem p50, plain moto server", theirs_p50, "ms"),
            Figure("local cloud / plain moto (p50)", ours_p50 / theirs_p50, "x", "<= 1")]
