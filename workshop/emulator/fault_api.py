"""The admin API of injected faults: ``/_workshop/faults`` (add, list, clear).

``python -m workshop fault …`` and :mod:`workshop.faults` (the notebook call) speak it.
A fault names its function by name, ARN, or the template's logical id
(``TriviaQuestionFunction``), resolved against the deployed stacks.

* ``GET /_workshop/faults``: ``{"faults": [...]}``, oldest first;
* ``POST /_workshop/faults`` with ``{"function", "action", "error" | "delay_ms",
  "count", "duration", "percentage", "stack_name"}``: ``{"fault", "description"}``;
* ``DELETE /_workshop/faults?function=F&id=f1&stack=S``: ``{"cleared": [...]}``; with
  neither ``function`` nor ``id``, every fault.
"""

from __future__ import annotations

import logging

from aiohttp import web

from .deployer import Deployer
from .faults import FaultSpecError
from .lambda_runtime import LambdaError, LambdaRuntime

__all__ = ["FunctionAmbiguous", "FunctionUnknown", "fault_routes", "resolve_function"]

log = logging.getLogger("workshop.faults")

_PATH = "/_workshop/faults"
_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


class FunctionUnknown(LookupError):
    """No deployed function answers to the name; the message lists the ones that do."""


class FunctionAmbiguous(FunctionUnknown):
    """The logical id names a function in several stacks; the message lists them."""


def resolve_function(runtime: LambdaRuntime, deployer: Deployer, name: str,
                     stack_name: str | None = None) -> str:
    """The function name ``name`` designates: a function name, an ARN, or a logical id
    in ``stack_name`` (or in whichever deployed stack has it)."""
    if not isinstance(name, str) or not name:
        raise FunctionUnknown("name the function: its logical id in the template "
                              "(TriviaQuestionFunction) or its function name")
    stacks = deployer.stacks()
    if stack_name is not None and stack_name not in stacks:
        raise FunctionUnknown(f"stack {stack_name!r} has not been deployed (deployed: "
                              f"{', '.join(stacks) or 'none'})")
    found: dict[str, str] = {}  # physical name -> stack
    for stack in [stack_name] if stack_name else stacks:
        for resource in deployer.describe(stack)["resources"]:
            if resource["logical_id"] == name and resource["type"] in _FUNCTION_TYPES:
                found[resource["physical_id"]] = stack
    if len(found) > 1:
        raise FunctionAmbiguous(f"{name} is a function of the stacks "
                                f"{', '.join(sorted(found.values()))}: say which with the "
                                "stack name (--stack-name)")
    candidate = next(iter(found), name)
    try:
        return runtime.get_function(candidate).name
    except LambdaError:
        known = runtime.function_names()
        raise FunctionUnknown(
            f"no function {name!r} in the local cloud: name one by its logical id in the "
            f"template or its function name ({', '.join(known[:8]) or 'none is deployed'}"
            f"{', …' if len(known) > 8 else ''})") from None


def fault_routes(runtime: LambdaRuntime, deployer: Deployer) -> list[web.RouteDef]:
    """The routes of the faults admin API, to add to the local cloud's application."""
    api = _FaultApi(runtime, deployer)
    return [web.get(_PATH, api.list), web.post(_PATH, api.add), web.delete(_PATH, api.clear)]


class _FaultApi:
    def __init__(self, runtime: LambdaRuntime, deployer: Deployer) -> None:
        self._runtime = runtime
        self._deployer = deployer

    async def list(self, request: web.Request) -> web.Response:
        return web.json_response({"faults": self._runtime.faults.list()})

    async def add(self, request: web.Request) -> web.Response:
        try:
            spec = await request.json()
        except ValueError:
            spec = None
        if not isinstance(spec, dict):
            return _error(400, 'expected a JSON object such as {"function": '
                               '"TriviaQuestionFunction", "action": "invocation-error", '
                               '"count": 2}')
        try:
            function = resolve_function(self._runtime, self._deployer, spec.get("function"),
                                        spec.get("stack_name"))
            fault = self._runtime.faults.add(spec, function=function)
        except FunctionUnknown as error:
            return _error(404, str(error))
        except FaultSpecError as error:
            return _error(400, str(error))
        log.info("fault injected: %s", fault.describe())
        return web.json_response({"fault": self._runtime.faults.view(fault),
                                  "description": fault.describe()})

    async def clear(self, request: web.Request) -> web.Response:
        name, fault_id = request.query.get("function"), request.query.get("id")
        function = None
        if name:
            try:
                function = resolve_function(self._runtime, self._deployer, name,
                                            request.query.get("stack"))
            except FunctionAmbiguous as error:
                return _error(400, str(error))
            except FunctionUnknown:
                function = name  # deleted since: its faults still go
        cleared = self._runtime.faults.clear(function=function, fault_id=fault_id)
        if cleared:
            log.info("faults cleared: %s", ", ".join(f["id"] for f in cleared))
        return web.json_response({"cleared": cleared})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
