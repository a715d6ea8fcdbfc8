"""The local cloud's process: every emulated AWS API on one loopback port.

A request is served by the first part that claims it:

* ``/_workshop/…``                       the local cloud's own admin API (status, deploy…)
* ``/2015-03-31/functions/…``            the Lambda API (our runtime)
* ``/{apiId}/{stage}…`` of a known API   API Gateway: WebSockets and ``@connections``
* anything else                          moto (DynamoDB, SNS, SQS, S3, IAM, Logs, Step Functions)

Run it with ``python -m workshop up`` (in the background) or
``python -m workshop.emulator.server`` (in the foreground).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web

from .cloudwatch_logs import CloudWatchLogsSink
from .deployer import Deployer, DeployError
from .fault_api import fault_routes
from .gateway import Gateway
from .lambda_api import lambda_routes
from .lambda_runtime import LambdaRuntime
from .moto_services import MotoServices
from .scheduler import Scheduler
from .settings import SERVER_NAME, Settings, SettingsError
from .websocket_api import WebSocketApis

__all__ = ["LocalCloud", "serve", "main"]

log = logging.getLogger("workshop.cloud")


def client_factory(settings: Settings) -> Callable[[str], Any]:
    """boto3 clients for the local cloud, one per service, shared by the deploy thread."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing",
        region_name=settings.region,
    )
    clients: dict[str, Any] = {}
    lock = threading.Lock()

    def client(service: str) -> Any:
        with lock:
            if service not in clients:
                clients[service] = session.client(service, endpoint_url=settings.endpoint_url)
            return clients[service]

    return client


class LocalCloud:
    """The parts of the local cloud, wired together inside one asyncio loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_at = time.time()
        self.moto = MotoServices(settings)
        self.runtime = LambdaRuntime(settings, logs=CloudWatchLogsSink(settings))
        self.apis = WebSocketApis()
        self.gateway = Gateway(settings, self.apis, self.runtime)
        self.scheduler = Scheduler(settings, self.runtime)
        self.deployer = Deployer(settings, runtime=self.runtime, apis=self.apis,
                                 scheduler=self.scheduler, clients=client_factory(settings))
        # Deploys run on their own thread (they call the cloud's own APIs over HTTP);
        # one at a time, as CloudFormation updates one stack at a time.
        self._deploy_lock = asyncio.Lock()
        self.stopped = asyncio.Event()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/_workshop/status", self._status)
        app.router.add_post("/_workshop/deploy", self._deploy)
        app.router.add_get("/_workshop/outputs", self._outputs)
        app.router.add_get("/_workshop/stack", self._stack)
        app.router.add_post("/_workshop/delete", self._delete)
        app.router.add_post("/_workshop/reset", self._reset)
        app.router.add_post("/_workshop/shutdown", self._shutdown)
        app.router.add_routes(fault_routes(self.runtime, self.deployer))
        app.router.add_routes(lambda_routes(self.runtime))
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.gateway.owns(request):
            return await self.gateway.handle(request)
        return await self.moto.handle(request)

    # -- admin API -------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "server": SERVER_NAME,
            "status": "running",
            "pid": os.getpid(),
            "endpoint": self.settings.endpoint_url,
            "port": self.settings.port,
            "region": self.settings.region,
            "time_scale": self.settings.time_scale,
            "uptime_seconds": round(time.time() - self.started_at, 1),
            "functions": self.runtime.function_names(),
            "connections": len(self.gateway.connection_ids()),
            "faults": len(self.runtime.faults.list()),
            "stacks": self.deployer.stacks(),
        }

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self.status())

    async def _deploy(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            template = Path(body["template"])
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected a JSON body {"template": "<path>"}')
        stack_name = body.get("stack_name") or "workshop"
        parameters = body.get("parameters") or {}
        async with self._deploy_lock:
            try:
                report = await asyncio.to_thread(
                    self.deployer.deploy, template, stack_name=stack_name, parameters=parameters)
            except DeployError as error:
                return _error(400, str(error))
        return web.json_response(report.to_json())

    async def _outputs(self, request: web.Request) -> web.Response:
        stack_name = request.query.get("stack") or "workshop"
        if stack_name not in self.deployer.stacks():
            return _error(404, f"stack {stack_name!r} has not been deployed")
        return web.json_response(self.deployer.outputs(stack_name))

    async def _stack(self, request: web.Request) -> web.Response:
        stack_name = request.query.get("stack") or "workshop"
        if stack_name not in self.deployer.stacks():
            return _error(404, f"stack {stack_name!r} has not been deployed")
        return web.json_response(self.deployer.describe(stack_name))

    async def _delete(self, request: web.Request) -> web.Response:
        try:
            stack_name = (await request.json())["stack_name"]
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected a JSON body {"stack_name": "<name>"}')
        async with self._deploy_lock:
            if stack_name not in self.deployer.stacks():
                return _error(404, f"stack {stack_name!r} has not been deployed")
            report = await asyncio.to_thread(self.deployer.delete, stack_name)
        return web.json_response(report.to_json())

    async def _reset(self, request: web.Request) -> web.Response:
        async with self._deploy_lock:
            await self.gateway.close_all()
            self.scheduler.reset()
            self.deployer.reset()
            self.apis.reset()
            self.runtime.reset()
            await asyncio.to_thread(self.moto.reset)
        return web.json_response({"reset": True})

    async def _shutdown(self, request: web.Request) -> web.Response:
        asyncio.get_running_loop().call_soon(self.stopped.set)
        return web.json_response({"stopping": True})

    async def drain(self) -> None:
        """Close sockets and stop schedules while the port still serves, so that the
        ``$disconnect`` handlers this triggers can still reach DynamoDB."""
        await self.scheduler.shutdown()
        await self.gateway.close_all()

    async def close(self) -> None:
        await self.runtime.shutdown()
        self.moto.close()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _warm_up(cloud: LocalCloud) -> None:
    """Pay one-off costs after the port is open rather than on the first deploy."""
    import samtranslator.translator.transform  # noqa: F401  (about 0.4 s)
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    # The interpreter builds its ASL grammar on first use (about 1.4 s).
    AmazonStateLanguageParser.parse(
        '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')
    cloud.moto.call("GET", "/moto-api/data.json")


async def serve(settings: Settings, *, on_ready: Callable[[], None] | None = None) -> None:
    """Run the local cloud until ``/_workshop/shutdown``, SIGTERM or SIGINT."""
    cloud = LocalCloud(settings)
    runner = web.AppRunner(cloud.application(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise SettingsError(
            f"port {settings.port} on {settings.host} is in use by another program "
            f"({error.strerror}); choose another with --port or WORKSHOP_PORT") from None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, cloud.stopped.set)
    if on_ready:
        on_ready()
    log.info("local cloud ready at %s", settings.endpoint_url)
    threading.Thread(target=_warm_up, args=(cloud,), daemon=True).start()
    try:
        await cloud.stopped.wait()
    finally:
        started = time.perf_counter()
        await cloud.drain()
        await runner.cleanup()
        await cloud.close()
        log.info("local cloud stopped in %.2f s", time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.emulator.server",
                                     description="Run the local cloud in the foreground.")
    parser.add_argument("--port", type=int)
    parser.add_argument("--time-scale", type=float)
    parser.add_argument("--pid-file", type=Path, help="write the pid here once listening")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        settings = Settings.from_env(port=args.port, time_scale=args.time_scale)
    except SettingsError as error:
        print(f"workshop: {error}", file=sys.stderr)
        return 2

    wrote_pid = False

    def write_pid() -> None:
        nonlocal wrote_pid
        if args.pid_file:
            args.pid_file.parent.mkdir(parents=True, exist_ok=True)
            args.pid_file.write_text(json.dumps({"pid": os.getpid(), "port": settings.port}))
            wrote_pid = True

    try:
        asyncio.run(serve(settings, on_ready=write_pid))
    except SettingsError as error:
        print(f"workshop: {error}", file=sys.stderr)
        return 1
    finally:
        # Only our own pid file: a second server refused its port must not delete it.
        if wrote_pid:
            args.pid_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is closed and flushed by now; tearing down moto's thousands of modules
    # would only add a second to every `workshop down`.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
