"""The local Lambda runtime behaves as AWS Lambda's Python runtime does.

Workers are real processes; every test starts its own runtime. Timings appear only as
generous upper bounds.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path

import boto3
import pytest
import pytest_asyncio
from moto import mock_aws

from workshop.emulator.cloudwatch_logs import CloudWatchLogsSink
from workshop.emulator.ids import CountingIds
from workshop.emulator.lambda_runtime import (
    FunctionConfig,
    FunctionNotFound,
    InvalidParameterValue,
    InvalidRequestContent,
    LambdaRuntime,
    ResourceConflict,
    ServiceEvent,
    TooManyRequests,
)
from workshop.emulator.settings import Settings

pytestmark = pytest.mark.asyncio

FUNCTIONS = Path(__file__).parent.parent / "fixtures" / "functions"
BEHAVIOURS = FUNCTIONS / "behaviours"
SETTINGS = Settings(port=45999, worker_idle_seconds=300.0)
REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\t(?P<extra>.*)\n$"
)


class RecordingSink:
    """A LogSink that keeps what it is given."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, list[tuple[int, str]]]] = []

    def put_events(self, log_group_name, log_stream_name, events):
        self.writes.append((log_group_name, log_stream_name, list(events)))

    def messages(self) -> list[str]:
        return [text for _, _, events in self.writes for _, text in events]


@pytest.fixture
def sink():
    return RecordingSink()


@pytest_asyncio.fixture
async def runtime(sink):
    runtime = LambdaRuntime(SETTINGS, logs=sink)
    yield runtime
    await runtime.shutdown()


def deploy(runtime: LambdaRuntime, name: str, handler: str = "", /, *,
           code_dir: Path = BEHAVIOURS, **options) -> dict:
    return runtime.put_function(FunctionConfig(
        name=name, handler=handler or f"app.{name}", code_dir=code_dir, **options))


async def invoke(runtime: LambdaRuntime, name: str, event: object = None):
    return await runtime.invoke(name, json.dumps(event if event is not None else {}).encode())


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def eventually(predicate, *, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


# -- invoking -----------------------------------------------------------------------------


async def test_returns_the_handlers_result(runtime):
    deploy(runtime, "echo")
    result = await invoke(runtime, "echo", {"action": "joinroom"})
    assert (result.status_code, result.function_error) == (200, None)
    assert result.json() == {"event": {"action": "joinroom"}}
    empty = await runtime.invoke("echo", b"")
    assert empty.json() == {"event": {}}  # no payload is the empty object, as on AWS


async def test_refuses_a_payload_that_is_not_json(runtime):
    deploy(runtime, "echo")
    with pytest.raises(InvalidRequestContent, match="Could not parse request body into json"):
        await runtime.invoke("echo", b"{not json")


async def test_an_event_a_service_built_is_passed_on_without_parsing_it_again(
        runtime, monkeypatch):
    deploy(runtime, "echo")
    parsed: list[bytes] = []
    real_loads = json.loads

    def counting_loads(text, *args, **kwargs):
        parsed.append(text)
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr("workshop.emulator.lambda_runtime.json.loads", counting_loads)
    event = ServiceEvent(b'{"requestContext": {"routeKey": "$default"}, "body": "hi"}')
    result = await runtime.invoke("echo", event)
    assert result.json() == {"event": {"requestContext": {"routeKey": "$default"},
                                       "body": "hi"}}
    assert bytes(event) not in parsed  # a caller's payload is checked, a service's is not
    with pytest.raises(InvalidRequestContent):
        await runtime.invoke("echo", b"{not json")


async def test_finds_functions_by_name_arn_and_partial_arn(runtime):
    deploy(runtime, "echo")
    arn = SETTINGS.function_arn("echo")
    for name in ("echo", "echo:$LATEST", arn, f"{arn}:$LATEST", "123456789012:function:echo"):
        assert (await invoke(runtime, name, {"n": 1})).json() == {"event": {"n": 1}}, name
    with pytest.raises(FunctionNotFound, match=f"Function not found: {re.escape(arn)}:live"):
        await invoke(runtime, "echo:live")
    with pytest.raises(FunctionNotFound, match="function:nope$"):
        await invoke(runtime, "nope")
    assert runtime.get_function(arn).handler == "app.echo"
    assert runtime.describe_function("echo")["FunctionArn"] == arn
    assert runtime.function_names() == ["echo"]


async def test_module_state_stays_warm_between_invocations(runtime):
    deploy(runtime, "count")
    first, second = await invoke(runtime, "count"), await invoke(runtime, "count")
    assert first.json()["invocations"] == 1
    assert second.json() == {"invocations": 2, "pid": first.json()["pid"]}
    assert "Init Duration" in first.log_tail and "Init Duration" not in second.log_tail


async def test_a_redeploy_with_new_code_runs_it_on_the_next_invocation(runtime, tmp_path):
    (tmp_path / "app.py").write_text(
        "import time\n"
        "def handler(event, context):\n"
        "    time.sleep(event.get('sleep', 0))\n"
        "    return 'v1'\n")
    config = deploy(runtime, "game", "app.handler", code_dir=tmp_path)
    assert (await invoke(runtime, "game")).json() == "v1"
    in_flight = asyncio.ensure_future(invoke(runtime, "game", {"sleep": 0.5}))
    await asyncio.sleep(0.1)
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'v2'\n")
    redeployed = deploy(runtime, "game", "app.handler", code_dir=tmp_path)
    assert redeployed["CodeSha256"] != config["CodeSha256"]
    assert (await invoke(runtime, "game")).json() == "v2"
    assert (await in_flight).json() == "v1"  # finished on the old worker


async def test_an_unchanged_redeploy_keeps_workers_warm(runtime):
    first = deploy(runtime, "count")
    await invoke(runtime, "count")
    assert deploy(runtime, "count") == first
    assert (await invoke(runtime, "count")).json()["invocations"] == 2
    deploy(runtime, "count", timeout=5)  # a configuration change retires workers too
    assert (await invoke(runtime, "count")).json()["invocations"] == 1


# -- environment and context ------------------------------------------------------------------


async def test_workers_get_a_lambda_environment_built_from_scratch(runtime, monkeypatch):
    monkeypatch.setenv("SERVER_ONLY_SECRET", "must not leak")
    deploy(runtime, "environment", memory_size=256, environment={"TABLE_NAME": "Players"})
    result = (await invoke(runtime, "environment")).json()
    env = result["environ"]
    assert "SERVER_ONLY_SECRET" not in env
    assert env["TABLE_NAME"] == "Players"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ENDPOINT_URL"] == SETTINGS.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "environment"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/environment"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "app.environment"
    assert env["TZ"] == ":UTC"
    assert env["LAMBDA_TASK_ROOT"] == result["cwd"] == result["sys_path_0"] == str(BEHAVIOURS)
    assert not any(name.startswith("_WORKSHOP") for name in env)
    assert result["workshop_modules"] == []  # the bootstrap stands alone


async def test_each_function_sees_its_own_variables(runtime):
    deploy(runtime, "environment", environment={"TABLE_NAME": "Players"})
    deploy(runtime, "other", "app.environment", environment={"TABLE_NAME": "Rooms"})
    players, rooms = await asyncio.gather(invoke(runtime, "environment"),
                                          invoke(runtime, "other"))
    assert players.json()["environ"]["TABLE_NAME"] == "Players"
    assert rooms.json()["environ"]["TABLE_NAME"] == "Rooms"


async def test_reserved_variables_cannot_be_set(runtime):
    reserved = "Reserved keys used in this request: AWS_REGION"
    with pytest.raises(InvalidParameterValue, match=reserved):
        deploy(runtime, "echo", environment={"AWS_REGION": "eu-west-1"})


async def test_the_context_object(runtime):
    deploy(runtime, "describe_context", timeout=3)
    result = await invoke(runtime, "describe_context")
    context = result.json()
    assert context["aws_request_id"] == result.request_id
    assert context["function_name"] == "describe_context"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == SETTINGS.function_arn("describe_context")
    assert context["memory_limit_in_mb"] == "128"  # a string, as awslambdaric has it
    assert context["log_group_name"] == "/aws/lambda/describe_context"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert 0 < context["remaining_ms"] <= 3000
    assert context["client_context"] is None and context["cognito_identity_id"] is None


async def test_stdin_is_not_the_request_channel(runtime):
    deploy(runtime, "read_stdin")
    assert (await invoke(runtime, "read_stdin")).json() == {"stdin": ""}
    assert (await invoke(runtime, "read_stdin")).json() == {"stdin": ""}


# -- errors -----------------------------------------------------------------------------------


async def test_a_handler_exception_is_a_function_error(runtime):
    deploy(runtime, "fail")
    result = await invoke(runtime, "fail")
    assert result.function_error == "Unhandled"
    error = result.json()
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the dice rolled a seven"
    assert error["requestId"] == result.request_id
    assert "in fail" in error["stackTrace"][-1] and "app.py" in error["stackTrace"][-1]
    assert ("[ERROR] ValueError: the dice rolled a seven\nTraceback (most recent call last):\n"
            in result.log_tail)
    again = await invoke(runtime, "fail")
    assert "Init Duration" not in again.log_tail  # the worker survived


@pytest.mark.parametrize(("function", "code_dir", "handler", "error_type", "message"), [
    ("broken", FUNCTIONS / "broken_import", "app.handler", "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'module_that_does_not_exist'"),
    ("missing", BEHAVIOURS, "app.nope", "Runtime.HandlerNotFound",
     "Handler 'nope' missing on module 'app'"),
    ("malformed", BEHAVIOURS, "app", "Runtime.MalformedHandlerName",
     "Bad handler 'app': not enough values to unpack (expected 2, got 1)"),
    ("init_raises", FUNCTIONS / "init_raises", "app.handler", "KeyError", "'TABLE_NAME'"),
])
async def test_init_errors_are_reported_like_aws(runtime, function, code_dir, handler,
                                                error_type, message):
    deploy(runtime, function, handler, code_dir=code_dir)
    for _ in range(2):  # a failed init is retried on the next invocation
        result = await invoke(runtime, function)
        assert result.function_error == "Unhandled"
        assert result.json()["errorType"] == error_type
        assert result.json()["errorMessage"] == message
        assert f"[ERROR] {error_type}: {message}" in result.log_tail
        expected = f"Status: error\tError Type: {error_type}\t"
        assert REPORT.search(result.log_tail)["extra"] == expected


async def test_an_unserializable_result_is_a_marshal_error(runtime):
    deploy(runtime, "unserializable")
    result = await invoke(runtime, "unserializable")
    assert result.json()["errorType"] == "Runtime.MarshalError"
    assert result.json()["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable")


async def test_decimals_and_unicode_marshal_as_the_runtime_does(runtime):
    deploy(runtime, "numbers")
    deploy(runtime, "numbers_on_311", "app.numbers", runtime="python3.11")
    result = await invoke(runtime, "numbers")
    assert result.json() == {"score": 42, "ratio": 0.5, "name": "Zoë"}
    assert "Zoë".encode() in result.payload  # python3.12 stopped escaping non-ASCII
    assert b"Zo\\u00eb" in (await invoke(runtime, "numbers_on_311")).payload


async def test_sys_exit_is_a_runtime_exit_error_and_the_worker_is_replaced(runtime):
    deploy(runtime, "work")
    before = (await invoke(runtime, "work")).json()["pid"]
    died = await invoke(runtime, "work", {"exit": 3})
    assert died.function_error == "Unhandled"
    assert died.json() == {
        "errorMessage": f"RequestId: {died.request_id} Error: Runtime exited with error: "
                        "exit status 3",
        "errorType": "Runtime.ExitError",
    }
    assert REPORT.search(died.log_tail)["extra"] == "Status: error\tError Type: Runtime.ExitError\t"
    after = await invoke(runtime, "work")
    assert after.json()["pid"] != before and "Init Duration" in after.log_tail
    assert await eventually(lambda: process_gone(before))


@pytest.mark.parametrize(("handler", "reason", "output"), [
    ("exit_politely", "exit status 3", None),
    ("crash", "exit status 7", "about to crash\n"),
    ("segfault", "signal: segmentation fault", None),
])
async def test_crashes_are_runtime_exit_errors(runtime, handler, reason, output):
    deploy(runtime, handler)
    result = await invoke(runtime, handler)
    assert result.json()["errorType"] == "Runtime.ExitError"
    assert result.json()["errorMessage"] == (
        f"RequestId: {result.request_id} Error: Runtime exited with error: {reason}")
    if output:
        assert output in result.log_tail  # output written before the crash is kept


async def test_a_timeout_kills_the_worker(runtime):
    deploy(runtime, "sleep", timeout=1)
    started = time.monotonic()
    result = await invoke(runtime, "sleep", {"seconds": 60})
    assert time.monotonic() - started < 20
    assert result.json() == {
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert "sleeping 60 s\n" in result.log_tail
    assert REPORT.search(result.log_tail)["extra"].endswith("Status: timeout\t")
    quick = await invoke(runtime, "sleep", {"seconds": 0})
    assert quick.json()["slept"] == 0
    assert "Init Duration" in quick.log_tail  # on a new worker


async def test_failures_leave_other_functions_and_workers_serving(runtime):
    deploy(runtime, "work")
    deploy(runtime, "echo")
    deploy(runtime, "sleep", timeout=1)
    slow = asyncio.ensure_future(invoke(runtime, "work", {"sleep": 0.5}))
    await asyncio.sleep(0.1)
    outcomes = await asyncio.gather(
        invoke(runtime, "work", {"exit": 9}),    # another worker of the same function dies
        invoke(runtime, "sleep", {"seconds": 60}),  # another function times out
        *(invoke(runtime, "echo", {"n": n}) for n in range(5)),
    )
    assert outcomes[0].json()["errorType"] == "Runtime.ExitError"
    assert outcomes[1].json()["errorType"] == "Sandbox.Timedout"
    assert [o.json() for o in outcomes[2:]] == [{"event": {"n": n}} for n in range(5)]
    assert (await slow).function_error is None


# -- concurrency and lifecycle ------------------------------------------------------------------


async def test_concurrent_invocations_get_their_own_workers(runtime):
    deploy(runtime, "work")
    results = await asyncio.gather(*(invoke(runtime, "work", {"sleep": 0.3}) for _ in range(3)))
    assert len({r.json()["pid"] for r in results}) == 3


async def test_beyond_the_concurrency_limit_invocations_queue(runtime):
    deploy(runtime, "work", reserved_concurrency=2)
    results = await asyncio.gather(*(invoke(runtime, "work", {"sleep": 0.2}) for _ in range(5)))
    assert all(r.function_error is None for r in results)
    assert len({r.json()["pid"] for r in results}) == 2


async def test_an_invocation_withdrawn_while_queued_never_runs(runtime, sink):
    """API Gateway gives up after 29 s: a join still queued then must not run later."""
    deploy(runtime, "work", reserved_concurrency=1)
    busy = asyncio.ensure_future(invoke(runtime, "work", {"sleep": 0.5}))
    assert await eventually(lambda: runtime._pools.get("work") is not None
                            and runtime._pools["work"].size == 1)
    queued = asyncio.ensure_future(invoke(runtime, "work", {"exit": 3}))
    await asyncio.sleep(0.1)
    assert not queued.done()  # waiting for the only worker
    queued.cancel()
    first = await busy
    after = await invoke(runtime, "work")
    # The withdrawn one never started: the next invocation found the same worker alive.
    assert after.json()["pid"] == first.json()["pid"]
    await asyncio.sleep(0.3)
    starts = [m for m in sink.messages() if m.startswith("START RequestId:")]
    assert len(starts) == 2


async def test_reserved_concurrency_zero_throttles(runtime):
    deploy(runtime, "echo", reserved_concurrency=0)
    with pytest.raises(TooManyRequests) as raised:
        await invoke(runtime, "echo")
    assert raised.value.body()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


async def test_idle_workers_retire(sink):
    runtime = LambdaRuntime(SETTINGS.with_(worker_idle_seconds=0.2), logs=sink)
    try:
        deploy(runtime, "count")
        pid = (await invoke(runtime, "count")).json()["pid"]
        assert await eventually(lambda: process_gone(pid))
        assert (await invoke(runtime, "count")).json()["invocations"] == 1
    finally:
        await runtime.shutdown()


async def test_event_invocations_run_in_the_background(runtime, sink, tmp_path):
    deploy(runtime, "touch")
    marker = tmp_path / "ran"
    result = await invoke(runtime, "touch", {"path": str(marker)})
    assert result.status_code == 200
    queued = await runtime.invoke("touch", json.dumps({"path": str(marker)}).encode(),
                                  invocation_type="Event")
    assert (queued.status_code, queued.payload) == (202, b"")
    assert await eventually(lambda: marker.read_text() == queued.request_id)
    assert await eventually(lambda: any(queued.request_id in m for m in sink.messages()))


async def test_dry_run_only_checks_the_function_exists(runtime, sink):
    deploy(runtime, "echo")
    result = await runtime.invoke("echo", b"{}", invocation_type="DryRun")
    assert (result.status_code, result.payload) == (204, b"")
    assert sink.writes == []
    with pytest.raises(FunctionNotFound):
        await runtime.invoke("nope", b"{}", invocation_type="DryRun")


async def test_delete_function_stops_its_workers(runtime):
    deploy(runtime, "count")
    pid = (await invoke(runtime, "count")).json()["pid"]
    runtime.delete_function("count")
    with pytest.raises(FunctionNotFound):
        await invoke(runtime, "count")
    assert await eventually(lambda: process_gone(pid))


async def test_reset_and_shutdown_stop_every_worker(runtime):
    deploy(runtime, "count")
    deploy(runtime, "echo")
    pid = (await invoke(runtime, "count")).json()["pid"]
    runtime.reset()
    assert runtime.function_names() == []
    assert await eventually(lambda: process_gone(pid))
    deploy(runtime, "count")
    pid = (await invoke(runtime, "count")).json()["pid"]
    await runtime.shutdown()
    assert process_gone(pid)


async def test_put_function_is_safe_from_another_thread(runtime):
    deploy(runtime, "count")
    assert (await invoke(runtime, "count")).json()["invocations"] == 1
    await asyncio.to_thread(deploy, runtime, "count", timeout=4)  # as the deployer does
    assert (await invoke(runtime, "count")).json()["invocations"] == 1


# -- logs ---------------------------------------------------------------------------------------


async def test_log_lines_are_those_of_aws(runtime, sink):
    deploy(runtime, "chatty")
    result = await invoke(runtime, "chatty")
    rid = result.request_id
    group, _, events = sink.writes[-1]
    messages = [text for _, text in events]
    assert group == "/aws/lambda/chatty"
    assert messages[0] == "init: module imported\n"  # init output precedes START
    assert messages[1] == f"START RequestId: {rid} Version: $LATEST\n"
    assert messages[2:5] == ["hello from print\n", "to stderr\n", "straight to fd 1\n"]
    assert re.fullmatch(  # one event for the whole record, as on AWS
        rf"\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\tcareful\nsecond line\n",
        messages[5])
    assert messages[6] == "no newline at the end\n"
    assert messages[7] == f"END RequestId: {rid}\n"
    report = REPORT.fullmatch(messages[8])
    assert report["id"] == rid and re.fullmatch(r"Init Duration: \d+\.\d\d ms\t", report["extra"])
    assert not any("not shown" in m for m in messages)  # the root logger is at WARNING
    assert result.log_tail == "".join(messages)
    timestamps = [timestamp for timestamp, _ in events]
    assert timestamps == sorted(timestamps) and all(t > 1_600_000_000_000 for t in timestamps)


async def test_a_handler_can_lower_the_log_level(runtime):
    deploy(runtime, "log_at_info")
    result = await invoke(runtime, "log_at_info")
    assert re.search(rf"\[INFO\]\t\S+Z\t{result.request_id}\tinfo is on\n", result.log_tail)


async def test_c_level_output_is_collected_before_invoke_returns(runtime):
    deploy(runtime, "c_printf")
    result = await invoke(runtime, "c_printf")
    assert "from C, without a flush\n" in result.log_tail


async def test_each_worker_has_its_own_log_stream(runtime, sink):
    deploy(runtime, "work")
    await asyncio.gather(invoke(runtime, "work", {"sleep": 0.2}),
                         invoke(runtime, "work", {"sleep": 0.2}))
    await invoke(runtime, "work")
    streams = [stream for _, stream, _ in sink.writes]
    assert len(set(streams)) == 2 and streams[2] in streams[:2]
    assert all(re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", s) for s in streams)


async def test_logs_land_in_moto_cloudwatch_logs():
    with mock_aws():
        logs_sink = CloudWatchLogsSink(SETTINGS)
        runtime = LambdaRuntime(SETTINGS, ids=CountingIds(), logs=logs_sink)
        try:
            deploy(runtime, "chatty")
            await invoke(runtime, "chatty")
            await invoke(runtime, "chatty")
        finally:
            await runtime.shutdown()
        logs_sink.flush()  # as the server does before any request reaches moto
        # An explicit AWS endpoint: other tests may point AWS_ENDPOINT_URL elsewhere.
        logs = boto3.client("logs", region_name=SETTINGS.region,
                            endpoint_url=f"https://logs.{SETTINGS.region}.amazonaws.com",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
        streams = logs.describe_log_streams(logGroupName="/aws/lambda/chatty")["logStreams"]
        assert len(streams) == 1
        events = logs.get_log_events(logGroupName="/aws/lambda/chatty",
                                     logStreamName=streams[0]["logStreamName"],
                                     startFromHead=True)["events"]
    messages = [event["message"] for event in events]
    assert messages.count("hello from print\n") == 2
    assert "START RequestId: req-0001 Version: $LATEST\n" in messages
    assert "END RequestId: req-0002\n" in messages


# -- resource policy ------------------------------------------------------------------------------


async def test_resource_policy_decides_who_may_invoke(runtime):
    deploy(runtime, "echo")
    api_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/$connect"

    def allowed(*, source_arn: str = api_arn, principal: str = "apigateway.amazonaws.com",
                function: str = "echo") -> bool:
        return runtime.invoke_allowed(function, principal=principal, source_arn=source_arn)

    assert not allowed()
    runtime.add_permission("echo", statement_id="ws", action="lambda:InvokeFunction",
                           principal="apigateway.amazonaws.com",
                           source_arn="arn:aws:execute-api:us-east-1:123456789012:abc123/*")
    assert allowed()
    assert not allowed(source_arn=api_arn.replace("abc123", "other"))
    assert not allowed(principal="events.amazonaws.com")
    with pytest.raises(ResourceConflict):
        runtime.add_permission("echo", statement_id="ws", action="lambda:*", principal="*")
    runtime.remove_permission("echo", "ws")
    assert not allowed()
    runtime.add_permission("echo", statement_id="any", action="lambda:*",
                           principal="apigateway.amazonaws.com",
                           source_arn="arn:aws:execute-api:*:123456789012:*")
    assert allowed()
    assert not allowed(function="nope")
