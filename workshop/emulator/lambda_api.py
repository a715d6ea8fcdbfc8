"""The Lambda REST API of the local cloud: Invoke and the control plane.

boto3's ``lambda`` client, the AWS CLI, the SAM CLI (``sam sync --code``) and moto's
Step Functions interpreter reach the runtime through these routes, so the replies are
shaped exactly as Lambda's: an ``x-amzn-RequestId`` header on every one, function errors
as status 200 with ``X-Amz-Function-Error``, API errors with ``x-amzn-ErrorType`` and
Lambda's JSON body.

The runtime's registry is the one source of truth: a function the deployer made and one
``CreateFunction`` made are the same kind of thing, so ``UpdateFunctionCode`` on a
stack's function replaces its workers, and the gateway's permission check follows
``AddPermission`` / ``RemovePermission``. Changes are applied before the reply; as on
Lambda the reply of a create says ``State: Pending`` (of an update, ``LastUpdateStatus:
InProgress``), and the next read says ``Active`` / ``Successful``, so the SDK's
``function_active_v2`` and ``function_updated_v2`` waiters pass on their first poll.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from . import lambda_control as control
from . import lambda_packages as packages
from .aws_operations import operation_name, path_prefixes
from .front_door import IDENTITY
from .iam_enforcement import IamEnforcer, principals_of, refusal_response
from .iam_requests import Access, Call, lambda_call
from .lambda_layers import LayerVersions
from .lambda_runtime import (
    FunctionConfig,
    InvalidParameterValue,
    InvalidRequestContent,
    LambdaError,
    LambdaRuntime,
    ResourceConflict,
    ResourceNotFound,
    ServiceError,
    ValidationError,
    check_function_name,
)

__all__ = ["lambda_routes"]

log = logging.getLogger("workshop.lambda")

_PREFIX = "/2015-03-31/functions"
_LAYERS = "/2018-10-31/layers"
# Lambda's own pattern for a layer version ARN (GetLayerVersionByArn's Arn).
_LAYER_VERSION_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"layer:(?P<layer>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)")
_LOG_TAIL_BYTES = 4096  # X-Amz-Log-Result carries the last 4 KB of the log
_DEFAULT_PAGE = 50
_LOCATION_SECONDS = 600  # Code.Location is valid for ten minutes, as Lambda's is
_NO_POLICY = "The resource you requested does not exist."

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def lambda_routes(runtime: LambdaRuntime, *, iam: IamEnforcer | None = None
                  ) -> list[web.RouteDef]:
    """The Lambda API's routes, to add to the local cloud's application; ``iam`` checks
    a role's calls against its policies (and Invoke against the function's resource
    policy too)."""
    api = _LambdaApi(runtime, iam)
    routes = [
        ("POST", "/{name}/invocations", api.invoke),
        ("GET", "/{name}/configuration", api.get_configuration),
        ("PUT", "/{name}/configuration", api.update_configuration),
        ("PUT", "/{name}/code", api.update_code),
        ("GET", "/{name}/package", api.package),
        ("POST", "/{name}/policy", api.add_permission),
        ("GET", "/{name}/policy", api.get_policy),
        ("DELETE", "/{name}/policy/{sid}", api.remove_permission),
        ("GET", "/{name}", api.get_function),
        ("DELETE", "/{name}", api.delete_function),
        ("GET", "", api.list_functions),
        ("GET", "/", api.list_functions),
        ("POST", "", api.create_function),
        ("POST", "/", api.create_function),
    ]
    layers = [
        ("GET", "", api.list_layers),
        ("GET", "/", api.list_layers),
        ("POST", "/{layer}/versions", api.publish_layer_version),
        ("GET", "/{layer}/versions", api.list_layer_versions),
        ("GET", "/{layer}/versions/{version}", api.get_layer_version),
        ("DELETE", "/{layer}/versions/{version}", api.delete_layer_version),
        ("GET", "/{layer}/versions/{version}/package", api.layer_package),
    ]
    served = [web.route(method, prefix + path, api.answering(handler))
              for prefix, table in ((_PREFIX, routes), (_LAYERS, layers))
              for method, path, handler in table]
    # Every other Lambda operation is named and refused here, never left to moto's Lambda
    # (which knows none of the runtime's functions).
    return served + [web.route("*", prefix + "{tail:.*}", api.answering(api.not_emulated))
                     for prefix in path_prefixes("lambda")]


class _LambdaApi:
    def __init__(self, runtime: LambdaRuntime, iam: IamEnforcer | None) -> None:
        self._runtime = runtime
        self._iam = iam
        self._layers = LayerVersions(runtime)

    def answering(self, handler: Handler) -> Handler:
        """``handler``, with Lambda's error replies for the runtime's errors."""

        async def answer(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except _Refused as refused:
                return refused.response
            except LambdaError as error:
                return self._error(error)
            except Exception:  # still an answer boto3 (and Step Functions) can parse
                log.exception("the Lambda API failed on %s %s", request.method, request.path)
                return self._error(ServiceError("The local Lambda service failed; "
                                                "see the local cloud's log."))

        return answer

    async def invoke(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        self._check(request, "InvokeFunction", name)
        result = await self._runtime.invoke(
            name, await request.read(),
            invocation_type=request.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
        )
        headers = {"x-amzn-RequestId": result.request_id}
        if result.status_code == 200:
            headers["X-Amz-Executed-Version"] = "$LATEST"
            if request.headers.get("X-Amz-Log-Type") == "Tail":
                tail = result.log_tail.encode()[-_LOG_TAIL_BYTES:]
                headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        return web.Response(status=result.status_code, body=result.payload, headers=headers,
                            content_type="application/json")

    def _check(self, request: web.Request, action: str, name: str | None, *,
               resource: str | None = None) -> None:
        """Refuse (AccessDeniedException) if the caller's role may not do ``action`` (on
        function ``name``, or on ``resource``: a layer's ARN). In one account, the
        function's resource policy may allow Invoke too."""
        identity = request.get(IDENTITY)
        if self._iam is None or getattr(identity, "role_arn", None) is None:
            return  # no checks, or the learner's own credentials
        settings = self._runtime.settings
        call = lambda_call(action, name, region=settings.region, account=settings.account_id)
        if resource is not None:
            call = Call("lambda", action, "rest-json", (Access(f"lambda:{action}", resource),))

        def allowed_by_function(_access: object) -> bool:
            principals = set(principals_of(identity, settings.account_id))
            return (action == "InvokeFunction" and name is not None
                    and self._runtime.invoke_allowed_for(name, principals=principals))

        refusal = self._iam.refusal(identity, call, source_ip=request.remote or "127.0.0.1",
                                    resource_policy=allowed_by_function)
        if refusal:
            raise _Refused(refusal_response(refusal))

    async def get_function(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        self._check(request, "GetFunction", name)
        configuration = self._runtime.describe_function(name)
        config = self._runtime.get_function(name)
        body: dict[str, Any] = {
            "Configuration": configuration,
            # AWS answers a presigned S3 URL of the package; here, one of this cloud.
            "Code": {"RepositoryType": "S3", "Location": self._package_url(config.name)},
            "Tags": dict(config.tags),
        }
        if config.reserved_concurrency is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": config.reserved_concurrency}
        return self._reply(body)

    async def get_configuration(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        self._check(request, "GetFunctionConfiguration", name)
        return self._reply(self._runtime.describe_function(name))

    async def list_functions(self, request: web.Request) -> web.Response:
        self._check(request, "ListFunctions", None)
        names = self._runtime.function_names()
        marker = request.query.get("Marker")
        if marker:
            names = [name for name in names if name > marker]
        try:
            page_size = int(request.query.get("MaxItems") or _DEFAULT_PAGE)
        except ValueError:
            page_size = _DEFAULT_PAGE
        page = names[:max(page_size, 1)]
        body: dict[str, Any] = {"Functions": [self._runtime.describe_function(n) for n in page]}
        if len(names) > len(page):
            body["NextMarker"] = page[-1]
        return self._reply(body)

    # -- the control plane ---------------------------------------------------------------

    async def create_function(self, request: web.Request) -> web.Response:
        document = await self._document(request, "CreateFunction")
        name = str(document.get("FunctionName") or "")
        self._check(request, "CreateFunction", name or None)
        if document.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValue("The local cloud runs zip packages only; container "
                                        "image functions are not emulated")
        code = document.get("Code")
        if not isinstance(code, dict):
            raise InvalidParameterValue("Code is a required parameter")
        configuration = await asyncio.to_thread(self._create, name, document, code)
        return self._reply(_in_progress(configuration, created=True), status=201)

    def _create(self, name: str, document: dict[str, Any], code: dict[str, Any]
                ) -> dict[str, Any]:
        check_function_name(name)  # before unpacking: the name becomes a folder
        if name in self._runtime.function_names():
            raise ResourceConflict(f"Function already exist: {name}")
        config = control.new_function(document, account=self._runtime.settings.account_id,
                                      layer_dir=self._runtime.layer_dir)
        package = self._unpack(name, code, operation="CreateFunction")
        self._warn_ignored(name, document)
        return self._runtime.create_function(replace(
            config, code_dir=package.folder, package=(package.code_sha256, package.code_size)))

    async def update_code(self, request: web.Request) -> web.Response:
        return await self._update(request, "UpdateFunctionCode", self._update_code)

    def _update_code(self, name: str, document: dict[str, Any]) -> dict[str, Any]:
        if document.get("ImageUri"):
            raise InvalidParameterValue("The local cloud runs zip packages only; ImageUri "
                                        "cannot be used")
        current = self._current(name, document)
        if document.get("DryRun"):  # checked, and nothing changes
            packages.check(self._package_bytes(document, operation="UpdateFunctionCode"))
            return self._runtime.describe_function(name)
        package = self._unpack(current.name, document, operation="UpdateFunctionCode")
        return self._runtime.put_function(replace(
            current, code_dir=package.folder,
            package=(package.code_sha256, package.code_size)))

    async def update_configuration(self, request: web.Request) -> web.Response:
        return await self._update(request, "UpdateFunctionConfiguration",
                                  self._update_configuration)

    def _update_configuration(self, name: str, document: dict[str, Any]) -> dict[str, Any]:
        current = self._current(name, document)
        config = control.configured(current, document, account=self._runtime.settings.account_id,
                                    layer_dir=self._runtime.layer_dir)
        self._warn_ignored(current.name, document)
        return self._runtime.put_function(config)

    async def _update(self, request: web.Request, operation: str,
                      change: Callable[[str, dict[str, Any]], dict[str, Any]]) -> web.Response:
        """An update of function ``name``: its document read and the caller checked, then
        ``change`` applied off the event loop (it unpacks zips), answered as in progress."""
        name = request.match_info["name"]
        document = await self._document(request, operation)
        self._check(request, operation, name)
        configuration = await asyncio.to_thread(change, name, document)
        return self._reply(_in_progress(configuration, created=False))

    def _current(self, name: str, document: dict[str, Any]) -> FunctionConfig:
        """Function ``name`` as it is, if the request's RevisionId (when given) is its."""
        current = self._runtime.get_function(name)
        control.check_revision(document.get("RevisionId"),
                               self._runtime.describe_function(name))
        return current

    async def delete_function(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        self._check(request, "DeleteFunction", name)
        self._runtime.delete_function(name)
        return self._reply(None, status=204)

    async def add_permission(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        document = await self._document(request, "AddPermission")
        self._check(request, "AddPermission", name)
        control.check_revision(document.get("RevisionId"), self._runtime.describe_function(name))
        statement = control.permission_statement(document)
        self._runtime.add_permission(name, **statement)
        stored = self._runtime.policy_statements(name)[statement["statement_id"]]
        body = control.statement_of(statement["statement_id"], stored,
                                    resource=self._resource(name))
        return self._reply({"Statement": json.dumps(body, separators=(",", ":"))}, status=201)

    async def get_policy(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        self._check(request, "GetPolicy", name)
        statements = self._runtime.policy_statements(name)
        if not statements:
            raise ResourceNotFound(_NO_POLICY)
        policy = control.policy_document(statements, resource=self._resource(name))
        return self._reply({"Policy": json.dumps(policy, separators=(",", ":")),
                            "RevisionId": self._runtime.describe_function(name)["RevisionId"]})

    async def remove_permission(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        self._check(request, "RemovePermission", name)
        control.check_revision(request.query.get("RevisionId"),
                               self._runtime.describe_function(name))
        self._runtime.remove_permission(name, request.match_info["sid"])
        return self._reply(None, status=204)

    async def package(self, request: web.Request) -> web.Response:
        """The function's code as a zip: what ``Code.Location`` points at (presigned, so
        the front door has checked the signature and its expiry). A role signing its own
        request needs what GetFunction needs."""
        self._check(request, "GetFunction", request.match_info["name"])
        config = self._runtime.get_function(request.match_info["name"])
        data = await asyncio.to_thread(packages.zip_folder, Path(config.code_dir))
        return web.Response(body=data, content_type="application/zip", headers={
            "x-amzn-RequestId": self._runtime.ids.request_id()})

    async def not_emulated(self, request: web.Request) -> web.Response:
        operation = operation_name("lambda", request.method, request.path)
        raise NotEmulated(f"{operation or request.method + ' ' + request.path} is not "
                          "emulated by the local cloud, which serves Invoke, functions "
                          "(create, get, list, update code and configuration, delete), "
                          "permissions and layer versions")

    # -- layers ---------------------------------------------------------------------------

    async def publish_layer_version(self, request: web.Request) -> web.Response:
        layer = request.match_info["layer"]
        document = await self._document(request, "PublishLayerVersion")
        self._check(request, "PublishLayerVersion", None,
                                resource=self._layer_arn(layer))
        content = document.get("Content")
        if not isinstance(content, dict):
            raise InvalidParameterValue("Content is a required parameter")

        def publish() -> dict[str, Any]:
            data = self._package_bytes(content, operation="PublishLayerVersion")
            return self._layers.publish(layer, document, data)

        return self._reply(self._with_location(await asyncio.to_thread(publish)), status=201)

    async def list_layers(self, request: web.Request) -> web.Response:
        if request.query.get("find") == "LayerVersion":  # the same path, another operation
            return await self.get_layer_version_by_arn(request)
        self._check(request, "ListLayers", None, resource="*")
        return self._reply({"Layers": self._layers.layers(
            runtime=request.query.get("CompatibleRuntime"))})

    async def list_layer_versions(self, request: web.Request) -> web.Response:
        layer = request.match_info["layer"]
        self._check(request, "ListLayerVersions", None, resource="*")
        versions = self._layers.list(layer)
        runtime = request.query.get("CompatibleRuntime")
        if runtime:
            versions = [v for v in versions if runtime in v.get("CompatibleRuntimes", [])]
        return self._reply({"LayerVersions": versions})

    async def get_layer_version(self, request: web.Request) -> web.Response:
        layer, version = request.match_info["layer"], _version(request)
        self._check(request, "GetLayerVersion", None,
                                resource=f"{self._layer_arn(layer)}:{version}")
        return self._reply(self._with_location(self._layers.get(layer, version)))

    async def get_layer_version_by_arn(self, request: web.Request) -> web.Response:
        """GetLayerVersionByArn (``GET /2018-10-31/layers?find=LayerVersion&Arn=…``)."""
        arn = request.query.get("Arn", "")
        match = _LAYER_VERSION_ARN.fullmatch(arn)
        if match is None:
            raise ValidationError(f"1 validation error detected: Value '{arn}' at 'arn' failed "
                                  "to satisfy constraint: Member must satisfy regular "
                                  f"expression pattern: {_LAYER_VERSION_ARN.pattern}")
        self._check(request, "GetLayerVersion", None, resource=arn)
        layer, version = match.group("layer"), int(match.group("version"))
        return self._reply(self._with_location(self._layers.get(layer, version)))

    async def delete_layer_version(self, request: web.Request) -> web.Response:
        layer, version = request.match_info["layer"], _version(request)
        self._check(request, "DeleteLayerVersion", None,
                                resource=f"{self._layer_arn(layer)}:{version}")
        self._layers.delete(layer, version)
        return self._reply(None, status=204)

    async def layer_package(self, request: web.Request) -> web.Response:
        """A layer version's content as a zip (its ``Content.Location``, presigned)."""
        layer, version = request.match_info["layer"], _version(request)
        self._check(request, "GetLayerVersion", None,
                                resource=f"{self._layer_arn(layer)}:{version}")
        folder = self._layers.folder(layer, version)
        data = await asyncio.to_thread(packages.zip_folder, folder)
        return web.Response(body=data, content_type="application/zip", headers={
            "x-amzn-RequestId": self._runtime.ids.request_id()})

    def _with_location(self, version: dict[str, Any]) -> dict[str, Any]:
        name, number = version["LayerVersionArn"].rsplit(":", 2)[-2:]
        location = self._presigned(f"{_LAYERS}/{name}/versions/{number}/package")
        return {**version, "Content": {**version["Content"], "Location": location}}

    def _layer_arn(self, layer: str) -> str:
        if layer.startswith("arn:"):
            return layer
        return self._runtime.settings.arn("lambda", f"layer:{layer}")

    # -- helpers of the control plane ----------------------------------------------------

    async def _document(self, request: web.Request, operation: str) -> dict[str, Any]:
        """The request's JSON body (Lambda's error words for what is not one)."""
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise packages.RequestTooLarge(operation) from None
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            raise InvalidRequestContent("Could not parse request body into json: "
                                        "the body is not valid JSON") from None
        if not isinstance(document, dict):
            raise InvalidRequestContent("Could not parse request body into json: expected "
                                        "an object")
        return document

    def _unpack(self, name: str, code: dict[str, Any], *, operation: str) -> packages.Package:
        """Unpack the request's ZipFile, or its S3Bucket/S3Key, for function ``name``."""
        data = self._package_bytes(code, operation=operation)
        folder = self._runtime.settings.home / "lambda-packages" / name
        return packages.unpack(data, into=folder)

    def _package_bytes(self, code: dict[str, Any], *, operation: str) -> bytes:
        """The zip a request's ZipFile, or its S3Bucket/S3Key, names."""
        account = self._runtime.settings.account_id
        if code.get("ZipFile") is not None:
            if code.get("S3Bucket") or code.get("S3Key"):
                raise InvalidParameterValue("Please do not provide other FunctionCode "
                                            "parameters when providing a ZipFile.")
            data = packages.decode_zip_file(code["ZipFile"], operation=operation)
        elif code.get("S3Bucket") and code.get("S3Key"):
            data = packages.read_s3_package(
                str(code["S3Bucket"]), str(code["S3Key"]), code.get("S3ObjectVersion"),
                account=account, partition=self._runtime.settings.partition)
        else:
            raise InvalidParameterValue("Please provide a source for the code: ZipFile, "
                                        "or S3Bucket and S3Key")
        return data

    def _warn_ignored(self, name: str, document: dict[str, Any]) -> None:
        ignored = control.ignored_settings(document)
        if ignored:
            log.info("%s: %s accepted but not emulated by the local cloud", name,
                     ", ".join(ignored))

    def _resource(self, name: str) -> str:
        """The ARN a policy statement of function ``name`` (maybe qualified) is about."""
        return self._runtime.describe_function(name)["FunctionArn"]

    def _package_url(self, name: str) -> str:
        """A presigned URL of the function's code."""
        return self._presigned(f"{_PREFIX}/{quote(name, safe='')}/package")

    def _presigned(self, path: str) -> str:
        """A presigned URL of this cloud's ``path``, signed with the installation's keys,
        as Lambda's ``Location`` URLs are presigned S3 URLs."""
        settings = self._runtime.settings
        keys = self._runtime.credentials.installation
        url = f"{settings.endpoint_url}{path}"
        request = AWSRequest(method="GET", url=url)
        SigV4QueryAuth(Credentials(keys.aws_access_key_id, keys.aws_secret_access_key),
                       "lambda", settings.region, expires=_LOCATION_SECONDS).add_auth(request)
        return str(request.url)

    def _error(self, error: LambdaError) -> web.Response:
        return web.json_response(error.body(), status=error.status, headers={
            "x-amzn-RequestId": self._runtime.ids.request_id(),
            "x-amzn-ErrorType": error.code,
        })

    def _reply(self, body: dict[str, Any] | None, *, status: int = 200) -> web.Response:
        headers = {"x-amzn-RequestId": self._runtime.ids.request_id()}
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)


def _in_progress(configuration: dict[str, Any], *, created: bool) -> dict[str, Any]:
    """The configuration as a create or update answers it: still in progress, as Lambda
    says until its next read (when the runtime's own record says Active/Successful)."""
    if created:
        configuration.pop("LastUpdateStatus", None)
        return {**configuration, "State": "Pending", "StateReason": "The function is being "
                "created.", "StateReasonCode": "Creating"}
    return {**configuration, "LastUpdateStatus": "InProgress",
            "LastUpdateStatusReason": "The function is being created.",
            "LastUpdateStatusReasonCode": "Creating"}


class _Refused(Exception):
    """IAM's refusal of a call, raised out of a handler and answered as it is."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.reason)
        self.response = response


class NotEmulated(LambdaError):
    """A Lambda operation the local cloud does not serve; 501, which SDKs do not retry."""

    code, status, message_key = "NotImplementedException", 501, "message"


def _version(request: web.Request) -> int:
    raw = request.match_info["version"]
    if not raw.isdigit():
        raise ValidationError(f"1 validation error detected: Value '{raw}' at 'versionNumber' "
                              "failed to satisfy constraint: Member must be a number")
    return int(raw)


def _qualified(name: str, qualifier: str | None) -> str:
    """The function name with the ``Qualifier`` query parameter folded in."""
    if not qualifier or name.endswith(":" + qualifier):
        return name
    return f"{name}:{qualifier}"
