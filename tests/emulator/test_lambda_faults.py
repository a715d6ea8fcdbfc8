"""The Lambda runtime under faults: injected on purpose, and a worker killed from outside.

Workers are real processes; every test starts its own runtime. Timings appear only as
lower bounds (a delay happened) or generous upper bounds.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
import pytest_asyncio

from workshop.emulator.lambda_runtime import (
    FunctionConfig,
    LambdaRuntime,
    ServiceError,
    TooManyRequests,
)
from workshop.emulator.settings import Settings

pytestmark = pytest.mark.asyncio

BEHAVIOURS = Path(__file__).parent.parent / "fixtures" / "functions" / "behaviours"
SETTINGS = Settings(port=45998, worker_idle_seconds=300.0)


@pytest_asyncio.fixture
async def runtime():
    runtime = LambdaRuntime(SETTINGS)
    for name in ("count", "echo", "work"):
        runtime.put_function(FunctionConfig(name=name, handler=f"app.{name}",
                                            code_dir=BEHAVIOURS, timeout=5))
    runtime.put_function(FunctionConfig(name="brief", handler="app.echo", code_dir=BEHAVIOURS,
                                        timeout=1))
    yield runtime
    await runtime.shutdown()


async def invoke(runtime: LambdaRuntime, name: str, event: object = None):
    return await runtime.invoke(name, json.dumps(event or {}).encode())


async def test_an_injected_service_exception_fails_invoke_without_running_the_function(
        runtime: LambdaRuntime) -> None:
    assert (await invoke(runtime, "count")).json()["invocations"] == 1
    runtime.faults.add({"action": "invocation-error", "count": 2}, function="count")
    for _ in range(2):
        with pytest.raises(ServiceError) as failed:
            await invoke(runtime, "count")
        assert (failed.value.status, failed.value.code) == (500, "ServiceException")
        assert failed.value.body() == {"Type": "Service", "Message": failed.value.message}
        assert "Fault f1 injected by the local cloud" in failed.value.message
    # The function never ran meanwhile: the same warm worker counts its second invocation.
    assert (await invoke(runtime, "count")).json()["invocations"] == 2


async def test_an_injected_throttle_is_too_many_requests(runtime: LambdaRuntime) -> None:
    runtime.faults.add({"action": "invocation-error", "error": "Lambda.TooManyRequestsException",
                        "count": 1}, function="echo")
    with pytest.raises(TooManyRequests) as throttled:
        await invoke(runtime, "echo")
    assert throttled.value.status == 429
    assert throttled.value.body()["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert (await invoke(runtime, "echo", {"n": 1})).json() == {"event": {"n": 1}}


async def test_an_injected_function_error_looks_like_an_unhandled_one(
        runtime: LambdaRuntime) -> None:
    runtime.faults.add({"action": "invocation-error", "error": "GameBroken", "count": 1},
                       function="count")
    failed = await invoke(runtime, "count")
    assert failed.status_code == 200 and failed.function_error == "Unhandled"
    error = failed.json()
    assert error["errorType"] == "GameBroken" and error["requestId"] == failed.request_id
    assert "[ERROR] GameBroken: Fault f1 injected" in failed.log_tail
    assert "REPORT RequestId: " + failed.request_id in failed.log_tail
    assert (await invoke(runtime, "count")).json()["invocations"] == 1  # the handler never ran


async def test_an_added_delay_starts_the_handler_late_and_counts_in_its_duration(
        runtime: LambdaRuntime) -> None:
    await invoke(runtime, "echo")  # warm: the delay is not a cold start
    runtime.faults.add({"action": "invocation-add-delay", "delay_ms": 400, "count": 1},
                       function="echo")
    started = time.monotonic()
    delayed = await invoke(runtime, "echo", {"late": True})
    assert time.monotonic() - started >= 0.4
    assert delayed.json() == {"event": {"late": True}}
    duration = float(delayed.log_tail.split("Duration: ")[1].split(" ms")[0])
    assert duration >= 400
    started = time.monotonic()
    await invoke(runtime, "echo")
    assert time.monotonic() - started < 0.4


async def test_a_delay_past_the_timeout_times_the_invocation_out(runtime: LambdaRuntime) -> None:
    runtime.faults.add({"action": "invocation-add-delay", "delay_ms": 3000, "count": 1},
                       function="brief")
    timed_out = await invoke(runtime, "brief")
    assert timed_out.json() == {
        "errorMessage": f"RequestId: {timed_out.request_id} Error: Task timed out after "
                        "1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    # Lambda says so in the function's log, before END, as it does on AWS.
    assert re.search(rf"\d\dZ {timed_out.request_id} Task timed out after 1.00 seconds\n"
                     f"END RequestId: {timed_out.request_id}\n", timed_out.log_tail)
    assert (await invoke(runtime, "brief", {"n": 2})).json() == {"event": {"n": 2}}


async def test_reset_clears_the_faults(runtime: LambdaRuntime) -> None:
    runtime.faults.add({"action": "invocation-error"}, function="echo")
    runtime.reset()
    assert runtime.faults.list() == []


async def test_a_worker_killed_mid_invocation_fails_that_invocation_only(
        runtime: LambdaRuntime) -> None:
    pid = (await invoke(runtime, "work")).json()["pid"]
    busy = asyncio.ensure_future(invoke(runtime, "work", {"sleep": 30}))  # the warm worker
    await asyncio.sleep(0.3)
    os.kill(pid, signal.SIGKILL)  # as the OOM killer or a crash of the host would
    killed = await asyncio.wait_for(busy, 10)
    assert killed.function_error == "Unhandled"
    assert killed.json() == {
        "errorMessage": f"RequestId: {killed.request_id} Error: Runtime exited with error: "
                        "signal: killed",
        "errorType": "Runtime.ExitError",
    }
    assert "Status: error\tError Type: Runtime.ExitError" in killed.log_tail
    assert (f"RequestId: {killed.request_id} Error: Runtime exited with error: signal: killed\n"
            "Runtime.ExitError\n") in killed.log_tail
    after = await invoke(runtime, "work")
    assert after.function_error is None and after.json()["pid"] != pid
    assert "Init Duration" in after.log_tail  # a fresh worker, initialised again
