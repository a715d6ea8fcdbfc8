"""The local cloud's process: every emulated AWS API on one loopback port.

A request is served by the first part that claims it:

* ``/_workshop/…``                       the local cloud's own admin API (status, deploy…)
* ``/2015-03-31/functions/…``            the Lambda API (our runtime)
* ``/v2/…``                              API Gateway V2 control-plane reads (the gateway's state)
* ``/_website/{bucket}/…`` (or a Host ``{bucket}.s3-website-{region}.localhost``)
                                         S3 static website endpoints (:mod:`.s3_website`)
* ``/{apiId}/{stage}…`` of a known API   API Gateway: WebSockets and ``@connections``
* signed for the ``cloudformation`` service  CloudFormation (:mod:`.cloudformation_api`) over
                                         the deployer; ``workshop deploy`` uses the same stacks
* anything else                          moto (DynamoDB, SNS, SQS, S3, IAM, Logs, Step Functions)

Run it with ``python -m workshop up`` (in the background) or
``python -m workshop.emulator.server`` (in the foreground).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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

from .apigatewayv2_api import apigatewayv2_routes
from .cloudformation_api import CloudFormation
from .cloudformation_stacks import CloudFormationError
from .cloudwatch_logs import CloudWatchLogsSink
from .credentials import CredentialsError, CredentialStore
from .deployer import Deployer, DeployError, DeployReport
from .fault_api import fault_routes
from .front_door import FrontDoor
from .gateway import Gateway
from .iam_enforcement import IamEnforcer, task_token_state_machine
from .lambda_api import lambda_routes
from .lambda_runtime import LambdaRuntime
from .moto_services import MotoServices
from .s3_website import Websites
from .scheduler import Scheduler
from .settings import SERVER_NAME, Settings, SettingsError
from .websocket_api import WebSocketApis

__all__ = ["LocalCloud", "serve", "main"]

log = logging.getLogger("workshop.cloud")


def client_factory(settings: Settings, credentials: CredentialStore) -> Callable[[str], Any]:
    """boto3 clients for the local cloud, one per service, shared by the deploy thread;
    they sign with the installation's own credentials, as the learner's do."""
    installation = credentials.installation
    session = boto3.session.Session(
        aws_access_key_id=installation.aws_access_key_id,
        aws_secret_access_key=installation.aws_secret_access_key,
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

    def __init__(self, settings: Settings, *, credentials: CredentialStore | None = None
                 ) -> None:
        self.settings = settings
        self.started_at = time.time()
        # Made on first start; every AWS request must be signed with these (front_door).
        self.credentials = credentials or CredentialStore.load(
            settings.home, account_id=settings.account_id, partition=settings.partition,
            create=True)
        self.moto = MotoServices(settings, credentials=self.credentials)
        self.websites = Websites(settings, self.moto)
        self.logs = CloudWatchLogsSink(settings)
        self.runtime = LambdaRuntime(settings, logs=self.logs,
                                     credentials=self.credentials)
        self.apis = WebSocketApis()
        # Functions and state machines act as their roles (iam_enforcement).
        self.iam = IamEnforcer(settings)
        self.gateway = Gateway(settings, self.apis, self.runtime, iam=self.iam)
        self.scheduler = Scheduler(settings, self.runtime)
        self.deployer = Deployer(settings, runtime=self.runtime, apis=self.apis,
                                 scheduler=self.scheduler,
                                 clients=client_factory(settings, self.credentials),
                                 read_object=self._read_s3_object)
        self.front_door = FrontDoor(settings, self.credentials,
                                    public=self.public_on_exposed_address,
                                    execute_api=self.gateway.is_management)
        # Deploys run on their own thread (they call the cloud's own APIs over HTTP);
        # one at a time, as CloudFormation updates one stack at a time.
        self._deploy_lock = asyncio.Lock()
        # CloudFormation's API; `workshop deploy` and `delete` go through it too.
        self.cloudformation = CloudFormation(settings, deployer=self.deployer,
                                             lock=self._deploy_lock,
                                             read_object=self._read_s3_object,
                                             changed=self.iam.clear)
        self.stopped = asyncio.Event()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.front_door.install(app)
        app.router.add_get("/_workshop/status", self._status)
        app.router.add_post("/_workshop/deploy", self._deploy)
        app.router.add_get("/_workshop/outputs", self._outputs)
        app.router.add_get("/_workshop/stack", self._stack)
        app.router.add_post("/_workshop/delete", self._delete)
        app.router.add_post("/_workshop/reset", self._reset)
        app.router.add_post("/_workshop/shutdown", self._shutdown)
        app.router.add_routes(fault_routes(self.runtime, self.deployer))
        app.router.add_routes(lambda_routes(self.runtime, iam=self.iam))
        # Before the catch-all: /v2/ is the gateway's own state, never moto's apigatewayv2.
        app.router.add_routes(apigatewayv2_routes(self.apis, self.settings, iam=self.iam))
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    def public_on_exposed_address(self, request: web.Request) -> bool:
        """What anyone may reach, and all that ``--host`` exposes: WebSocket client
        connections and static websites. Never the AWS or admin APIs."""
        return self.gateway.serves_publicly(request) or self.websites.owns(request)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.websites.owns(request):
            return await self.websites.handle(request)
        if self.gateway.owns(request):
            return await self.gateway.handle(request)
        refusal = await self.iam.check_moto_request(request, resolve_token=self._task_machine)
        if refusal is not None:
            return refusal  # a role's call IAM does not allow (or cannot tell)
        if self.cloudformation.owns(request):
            return await self.cloudformation.handle(request)
        self.logs.flush()  # function logs queued so far are readable by this request
        return await self.moto.handle(request)

    def _read_s3_object(self, bucket: str, key: str) -> bytes:
        """An object of the local S3 (a TemplateURL), in CloudFormation's words if absent."""
        from moto.s3.exceptions import MissingBucket, MissingKey
        from moto.s3.models import s3_backends

        try:
            found = s3_backends[self.settings.account_id][self.settings.partition].get_object(
                bucket, key)
        except (MissingBucket, MissingKey):
            found = None
        if found is None:
            raise CloudFormationError(f"S3 error: The specified key does not exist. "
                                      f"(s3://{bucket}/{key})")
        data: bytes = found.value
        return data

    def _task_machine(self, task_token: str) -> str | None:
        return task_token_state_machine(task_token, account=self.settings.account_id,
                                        region=self.settings.region)

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
            "security": self.front_door.enforced(),
            "iam": "on" if self.iam.enabled else "off",
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
        try:  # as a CloudFormation stack (events, statuses), the deploy lock held
            report = await self.cloudformation.deploy_template(
                template, stack_name=stack_name, parameters=parameters)
        except (DeployError, CloudFormationError) as error:
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
        if self.cloudformation.store.live(stack_name) is None:
            return _error(404, f"stack {stack_name!r} has not been deployed")
        try:
            report = await self.cloudformation.delete_now(stack_name)
        except (DeployError, CloudFormationError) as error:
            return _error(400, str(error))
        return web.json_response((report or DeployReport(stack_name)).to_json())

    async def _reset(self, request: web.Request) -> web.Response:
        async with self._deploy_lock:
            await self.gateway.close_all()
            self.scheduler.reset()
            self.deployer.reset()
            self.cloudformation.reset()
            self.apis.reset()
            self.runtime.reset()
            self.logs.flush()  # into the backends the reset is about to drop
            await asyncio.to_thread(self.moto.reset)
            self.iam.clear()
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
    # moto and the SAM translator are some 400,000 long-lived objects that are never
    # garbage; a full collection walks them all, stalling every client for 0.1-0.4 s.
    # Take them out of the collector's sight (it still sees everything made later).
    gc.collect()
    gc.freeze()


async def _listen(runner: web.AppRunner, settings: Settings) -> None:
    """Loopback for everything; the class-play address too (the front door limits it)."""
    await _start(web.TCPSite(runner, settings.host, settings.port, reuse_address=True),
                 f"port {settings.port} on {settings.host} is in use by another program "
                 "({reason}); choose another with --port or WORKSHOP_PORT")
    if settings.public_host:
        await _start(web.TCPSite(runner, settings.public_host, settings.port, reuse_address=True),
                     f"cannot listen on {settings.public_host} port {settings.port} "
                     "({reason}): --host takes an address of this machine")


async def _start(site: web.TCPSite, problem: str) -> None:
    """Start listening; ``problem`` (with the OS's ``{reason}``) if the address is taken."""
    try:
        await site.start()
    except OSError as error:
        raise SettingsError(problem.format(reason=error.strerror)) from None


async def serve(settings: Settings, *, on_ready: Callable[[], None] | None = None) -> None:
    """Run the local cloud until ``/_workshop/shutdown``, SIGTERM or SIGINT."""
    cloud = LocalCloud(settings)
    runner = web.AppRunner(cloud.application(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await _listen(runner, settings)
    except SettingsError:
        await runner.cleanup()
        raise
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, cloud.stopped.set)
    if on_ready:
        on_ready()
    log.info("local cloud ready at %s", settings.endpoint_url)
    if settings.public_host:
        log.info("class play: http://%s:%s serves only WebSocket connections and websites",
                 settings.public_host, settings.port)
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
    parser.add_argument("--host", dest="public_host", metavar="ADDR",
                        help="class play: also serve the game (only) on this address")
    parser.add_argument("--iam", choices=["on", "off"],
                        help="functions and state machines act as their IAM roles (default on)")
    parser.add_argument("--pid-file", type=Path, help="write the pid here once listening")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        settings = Settings.from_env(port=args.port, time_scale=args.time_scale,
                                     public_host=args.public_host,
                                     iam=None if args.iam is None else args.iam == "on")
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
    except (SettingsError, CredentialsError) as error:
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
