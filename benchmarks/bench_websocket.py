"""WebSocket message -> Lambda -> post_to_connection -> client: latency and throughput."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import websocket

from workshop import cloud

from .report import Figure, percentile

APP = Path(__file__).resolve().parent / "app" / "template.yaml"


def one_client(url: str, messages: int = 400, warmup: int = 30) -> list[float]:
    ws = websocket.create_connection(url, timeout=30)
    samples = []
    try:
        for index in range(warmup + messages):
            payload = json.dumps({"n": index})
            started = time.perf_counter()
            ws.send(payload)
            assert ws.recv() == payload
            if index >= warmup:
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        ws.close()
    return samples


async def _client(session: aiohttp.ClientSession, url: str, messages: int,
                  samples: list[float], start: asyncio.Event) -> None:
    async with session.ws_connect(url) as ws:
        await start.wait()
        for index in range(messages):
            payload = json.dumps({"n": index})
            started = time.perf_counter()
            await ws.send_str(payload)
            reply = await ws.receive_str(timeout=30)
            assert reply == payload
            samples.append((time.perf_counter() - started) * 1000)


async def many_clients(url: str, clients: int = 50, messages: int = 40
                       ) -> tuple[list[float], float]:
    samples: list[float] = []
    start = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(_client(session, url, messages, samples, start))
                 for _ in range(clients)]
        await asyncio.sleep(1.0)            # every client connected
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return samples, len(samples) / elapsed


def round_trips() -> list[Figure]:
    url = cloud.deploy(APP, stack_name="bench")["outputs"]["WebSocketURL"]
    single = one_client(url)
    asyncio.run(many_clients(url, clients=50, messages=5))      # start the workers
    concurrent, rate = asyncio.run(many_clients(url))
    crowd, crowd_rate = asyncio.run(many_clients(url, clients=100, messages=40))
    return [
        Figure("round trip, 1 client, p50", percentile(single, 50), "ms", "<= 3"),
        Figure("round trip, 1 client, p99", percentile(single, 99), "ms", "<= 15"),
        Figure("round trip, 50 clients, p50", percentile(concurrent, 50), "ms"),
        Figure("round trip, 50 clients, p99", percentile(concurrent, 99), "ms"),
        Figure("messages per second, 50 clients", rate, "msg/s", ">= 500"),
        Figure("round trip, 100 clients, p50", percentile(crowd, 50), "ms"),
        Figure("round trip, 100 clients, p99", percentile(crowd, 99), "ms", "<= 150"),
        Figure("messages per second, 100 clients", crowd_rate, "msg/s", ">= 800"),
    ]
