"""The CloudFormation API of the local cloud, backed by the deployer.

``sam deploy``, ``aws cloudformation deploy`` and ``boto3.client("cloudformation")`` speak
CloudFormation's query protocol (a form-encoded POST with ``Action=…``). Requests are
read and answers written from botocore's own model of the service (through moto's query
parser and serializer), so every field is where the SDKs look for it. A change set is the
deployer's plan: CreateChangeSet plans in the background (CREATE_PENDING →
CREATE_COMPLETE, or FAILED with CloudFormation's reason), ExecuteChangeSet runs it in the
background with the cloud's deploy lock, so waiters and ``DescribeStackEvents`` polling
see CloudFormation's statuses (:mod:`.cloudformation_stacks`). ``workshop deploy`` goes
through :meth:`CloudFormation.deploy_template`, so its stacks are described the same way.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
import shutil
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from . import sam
from .aws_refusals import Protocol, aws_error
from .cloudformation_runs import StackRuns
from .cloudformation_stacks import (
    NO_CHANGES,
    ChangeSet,
    CloudFormationError,
    Stack,
    StackStore,
    one_line,
)
from .cloudformation_templates import (
    capability_needs,
    missing_capabilities,
    parameter_declarations,
    parameter_values,
    resource_types,
    s3_location,
    template_body,
    transforms,
)
from .deployer import Deployer, DeployError, DeployReport
from .nested_stack_records import NestedStackRecords
from .settings import Settings
from .sigv4 import RequestParts, signature_service
from .template import load_template

__all__ = ["CloudFormation"]

log = logging.getLogger("workshop.cloudformation")

_STACK_NAME = re.compile(r"^(?:[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*)$")

Reader = Callable[[str, str], bytes]


def _time(seconds: float | None) -> datetime.datetime | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


class CloudFormation:
    """CloudFormation's API over the deployer; ``lock`` is the cloud's deploy lock and
    ``changed`` is called after resources changed (IAM decisions are redone)."""

    def __init__(self, settings: Settings, *, deployer: Deployer, lock: asyncio.Lock,
                 read_object: Reader, changed: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.deployer = deployer
        self.store = StackStore(region=settings.region, account_id=settings.account_id)
        self.runs = StackRuns(deployer=deployer, store=self.store, lock=lock, changed=changed)
        # Nested stacks the deployer makes are stacks here too (ParentId, events…).
        deployer.nested_observer = NestedStackRecords(store=self.store, runs=self.runs)
        self._read_object = read_object
        self._folder = settings.home / "cloudformation" / str(settings.port)
        from moto.core.utils import get_service_model
        self._model = get_service_model("cloudformation")

    # -- HTTP ----------------------------------------------------------------------------

    @staticmethod
    def owns(request: web.Request) -> bool:
        """Whether the request is signed for the ``cloudformation`` service."""
        if "/cloudformation/" not in request.headers.get("Authorization", "") + unquote(
                request.query_string):
            return False  # cheap: most requests are for other services
        parts = RequestParts(request.method, request.raw_path.partition("?")[0],
                             request.query_string, list(request.headers.items()), b"")
        return signature_service(parts) == "cloudformation"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        parts = RequestParts(request.method, request.raw_path.partition("?")[0],
                             request.query_string, list(request.headers.items()), body)
        fields = dict(parse_qsl(request.query_string, keep_blank_values=True))
        fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = fields.get("Action", "")
        handler = self._handlers().get(action)
        if handler is None:
            return _reply(aws_error(Protocol.QUERY, code="InvalidAction", status=400,
                                    message=f"The action {action} is not valid for this "
                                            "web service.", parts=parts))
        # Changes at INFO in the cloud's log; the many polls (Describe…) at DEBUG.
        log.log(logging.DEBUG if action.startswith(("Describe", "List", "Get")) else logging.INFO,
                "%s %s", action, fields.get("StackName") or fields.get("ChangeSetName") or "")
        operation = self._model.operation_model(action)
        try:
            params = _parse(operation, fields)
            result = await handler(params)
        except CloudFormationError as error:
            return _reply(aws_error(Protocol.QUERY, code=error.code, message=str(error),
                                    status=error.status, parts=parts))
        except Exception:  # still an answer the SDKs can parse; the log has the rest
            log.exception("CloudFormation %s failed", action)
            return _reply(aws_error(Protocol.QUERY, code="InternalFailure", status=500,
                                    message="The local CloudFormation service failed; see the "
                                            "local cloud's log.", parts=parts))
        return _serialize(operation, result)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
        return {
            "CreateChangeSet": self.create_change_set,
            "DescribeChangeSet": self.describe_change_set,
            "ExecuteChangeSet": self.execute_change_set,
            "DeleteChangeSet": self.delete_change_set,
            "ListChangeSets": self.list_change_sets,
            "CreateStack": self.create_stack,
            "UpdateStack": self.update_stack,
            "DeleteStack": self.delete_stack,
            "DescribeStacks": self.describe_stacks,
            "ListStacks": self.list_stacks,
            "DescribeStackEvents": self.describe_stack_events,
            "DescribeStackResource": self.describe_stack_resource,
            "DescribeStackResources": self.describe_stack_resources,
            "ListStackResources": self.list_stack_resources,
            "GetTemplate": self.get_template,
            "GetTemplateSummary": self.get_template_summary,
            "ValidateTemplate": self.validate_template,
        }

    # -- change sets ---------------------------------------------------------------------

    async def create_change_set(self, params: dict[str, Any]) -> dict[str, Any]:
        stack, change_set = self._new_change_set(params, params.get("ChangeSetType", "UPDATE"))
        await self.runs.settled(self.runs.spawn(self._prepare(stack, change_set)))
        return {"Id": change_set.change_set_id, "StackId": stack.stack_id}

    def _new_change_set(self, params: dict[str, Any], kind: str) -> tuple[Stack, ChangeSet]:
        name = _stack_name(params)
        if kind not in ("CREATE", "UPDATE"):
            raise CloudFormationError(f"ChangeSetType {kind} is not supported by the local "
                                      "cloud (CREATE and UPDATE are)")
        stack = self.store.live(name)
        if kind == "CREATE" and stack is not None and stack.status != "REVIEW_IN_PROGRESS":
            raise CloudFormationError(f"Stack [{name}] already exists",
                                      code="AlreadyExistsException")
        if kind == "UPDATE":
            if stack is None or stack.status == "REVIEW_IN_PROGRESS":
                raise CloudFormationError(f"Stack [{name}] does not exist")
            self.store.check_updatable(stack)
        text = self._template_text(params, stack)
        body = self._check_template(text)
        given = list(params.get("Capabilities") or [])
        if not transforms(body):  # checked now; a transformed template after processing
            _require(capability_needs(body), given)
        if stack is None:
            stack = self.store.create(name, status="REVIEW_IN_PROGRESS")
        return stack, self.store.add_change_set(
            stack, name=str(params.get("ChangeSetName") or f"change-{uuid.uuid4().hex[:8]}"),
            kind=kind, template_body=text, description=params.get("Description", ""),
            parameters=self._parameters(params, stack), capabilities=given,
            tags=list(params.get("Tags") or stack.tags))

    async def _prepare(self, stack: Stack, change_set: ChangeSet) -> None:
        """Plan the change set (as CloudFormation does, after CreateChangeSet answered)."""
        change_set.status = "CREATE_IN_PROGRESS"
        path = self._template_file(stack, change_set)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(change_set.template_body, encoding="utf-8")
            values = parameter_values(change_set.parameters)
            # As CloudFormation: the transform, then the capabilities, then the changes.
            processed = await asyncio.to_thread(self._processed, path, values)
            _require(capability_needs(processed), change_set.capabilities)
            plan = await asyncio.to_thread(self.deployer.plan, path, stack_name=stack.name,
                                           parameters=values)
            change_set.changes = plan.describe()  # DescribeChangeSet's Changes
        except (DeployError, CloudFormationError, OSError) as error:
            # The file is ours, not the caller's: name it as they know it.
            reason = one_line(error).replace(f"{path}: ", "").replace(str(path), "the template")
            change_set.status, change_set.status_reason = "FAILED", reason
            return
        change_set.plan = plan
        if not change_set.changes and change_set.kind == "UPDATE" and change_set.tags == stack.tags:
            change_set.status, change_set.status_reason = "FAILED", NO_CHANGES
            return
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"

    async def describe_change_set(self, params: dict[str, Any]) -> dict[str, Any]:
        stack, change_set = self.store.change_set(params["ChangeSetName"],
                                                  params.get("StackName"))
        return {**self._change_set_summary(change_set),
                "Parameters": change_set.parameters, "Capabilities": change_set.capabilities,
                "Tags": change_set.tags, "Changes": change_set.changes,
                "NotificationARNs": [], "RollbackConfiguration": {}}

    @staticmethod
    def _change_set_summary(change_set: ChangeSet) -> dict[str, Any]:
        summary = {"ChangeSetName": change_set.name, "ChangeSetId": change_set.change_set_id,
                   "StackId": change_set.stack_id, "StackName": change_set.stack_name,
                   "CreationTime": _time(change_set.created),
                   "ExecutionStatus": change_set.execution_status,
                   "Status": change_set.status}
        if change_set.description:
            summary["Description"] = change_set.description
        if change_set.status_reason:
            summary["StatusReason"] = change_set.status_reason
        return summary

    async def list_change_sets(self, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.store.get(params["StackName"])
        return {"Summaries": [self._change_set_summary(c) for c in stack.change_sets.values()]}

    async def delete_change_set(self, params: dict[str, Any]) -> dict[str, Any]:
        stack, change_set = self.store.change_set(params["ChangeSetName"],
                                                  params.get("StackName"))
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise CloudFormationError(
                f"ChangeSet [{change_set.change_set_id}] cannot be deleted in its current "
                f"status of [{change_set.execution_status}]", code="InvalidChangeSetStatus")
        self.store.drop_change_set(stack, change_set)
        return {}

    async def execute_change_set(self, params: dict[str, Any]) -> dict[str, Any]:
        stack, change_set = self.store.change_set(params["ChangeSetName"],
                                                  params.get("StackName"))
        if change_set.execution_status != "AVAILABLE":
            raise CloudFormationError(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                f"execution status of [{change_set.execution_status}]",
                code="InvalidChangeSetStatus")
        if stack.status != "REVIEW_IN_PROGRESS":
            self.store.check_updatable(stack)
        await self.runs.settled(self.runs.start(
            stack, change_set, disable_rollback=bool(params.get("DisableRollback"))))
        return {}

    # -- stacks --------------------------------------------------------------------------

    async def create_stack(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._direct(params, "CREATE")

    async def update_stack(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._direct(params, "UPDATE")

    async def _direct(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        """CreateStack / UpdateStack: a change set made, checked and run at once, as
        CloudFormation does inside; a transform must then be acknowledged."""
        body = self._check_template(self._template_text(params, self.store.live(
            _stack_name(params))))
        if transforms(body):
            _require(capability_needs(body, transform_needs_expand=True),
                     list(params.get("Capabilities") or []))
        params = {**params, "ChangeSetName": f"direct-{uuid.uuid4().hex[:12]}"}
        stack, change_set = self._new_change_set(params, kind)
        await self._prepare(stack, change_set)
        self.store.drop_change_set(stack, change_set)
        if change_set.status == "FAILED":
            if stack.status == "REVIEW_IN_PROGRESS" and not stack.change_sets:
                self.store.set_status(stack, "DELETE_IN_PROGRESS")
                self.store.set_status(stack, "DELETE_COMPLETE")
            reason = change_set.status_reason
            if reason == NO_CHANGES:
                reason = "No updates are to be performed."
            code = ("InsufficientCapabilitiesException"
                    if reason.startswith("Requires capabilities") else "ValidationError")
            raise CloudFormationError(reason, code=code)
        await self.runs.settled(self.runs.start(
            stack, change_set, disable_rollback=bool(params.get("DisableRollback"))))
        return {"StackId": stack.stack_id}

    async def delete_stack(self, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.store.live(params["StackName"])
        if stack is None or stack.status in ("DELETE_IN_PROGRESS", "DELETE_COMPLETE"):
            return {}  # CloudFormation answers success for a stack that is not there
        await self.runs.settled(self.runs.start_delete(stack))
        return {}

    async def describe_stacks(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("StackName")
        stacks = [self.store.get(name)] if name else self.store.stacks()
        return {"Stacks": [self._describe(stack) for stack in stacks]}

    def _describe(self, stack: Stack) -> dict[str, Any]:
        item: dict[str, Any] = {
            "StackId": stack.stack_id, "StackName": stack.name,
            "CreationTime": _time(stack.created), "StackStatus": stack.status,
            "Parameters": stack.parameters, "Tags": stack.tags,
            "Capabilities": stack.capabilities, "NotificationARNs": [],
            "DisableRollback": stack.disable_rollback, "RollbackConfiguration": {},
            "EnableTerminationProtection": False,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        }
        for key, value in (("LastUpdatedTime", _time(stack.updated)),
                           ("DeletionTime", _time(stack.deleted)),
                           ("StackStatusReason", stack.status_reason),
                           ("Description", stack.description),
                           ("ParentId", stack.parent_id), ("RootId", stack.root_id)):
            if value:
                item[key] = value
        if stack.status != "REVIEW_IN_PROGRESS":
            item["Outputs"] = self._outputs(stack)
        return item

    def _outputs(self, stack: Stack) -> list[dict[str, str]]:
        if stack.status == "DELETE_COMPLETE" or stack.name not in self.deployer.stacks():
            return []
        declared = template_body(stack.template_body).get("Outputs") or {}
        outputs = []
        for key, value in self.deployer.outputs(stack.name).items():
            spec = declared.get(key) if isinstance(declared.get(key), dict) else {}
            item = {"OutputKey": key, "OutputValue": value}
            if isinstance(spec.get("Description"), str):
                item["Description"] = spec["Description"]
            export = _export_name(spec, stack.name, self.settings)
            if export:
                item["ExportName"] = export
            outputs.append(item)
        return outputs

    async def list_stacks(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set(params.get("StackStatusFilter") or [])
        summaries = []
        for stack in reversed(self.store.stacks(include_deleted=True)):
            if wanted and stack.status not in wanted:
                continue
            item = {"StackId": stack.stack_id, "StackName": stack.name,
                    "CreationTime": _time(stack.created), "StackStatus": stack.status,
                    "LastUpdatedTime": _time(stack.updated),
                    "DeletionTime": _time(stack.deleted),
                    "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
                    "ParentId": stack.parent_id or None, "RootId": stack.root_id or None}
            if stack.description:
                item["TemplateDescription"] = stack.description
            if stack.status_reason:
                item["StackStatusReason"] = stack.status_reason
            summaries.append({k: v for k, v in item.items() if v is not None})
        return {"StackSummaries": summaries}

    async def describe_stack_events(self, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.store.live(params["StackName"])
        if stack is None:
            raise CloudFormationError(f"Stack [{params['StackName']}] does not exist")
        events = []
        for event in reversed(stack.events):
            item = {"StackId": event.stack_id, "EventId": event.event_id,
                    "StackName": event.stack_name, "LogicalResourceId": event.logical_id,
                    "PhysicalResourceId": event.physical_id,
                    "ResourceType": event.resource_type, "Timestamp": _time(event.timestamp),
                    "ResourceStatus": event.status}
            if event.reason:
                item["ResourceStatusReason"] = event.reason
            events.append(item)
        return {"StackEvents": events}

    # -- resources -----------------------------------------------------------------------

    def _resources(self, stack_name: str) -> dict[str, dict[str, Any]]:
        if stack_name not in self.deployer.stacks():
            return {}
        return {r["logical_id"]: r for r in self.deployer.describe(stack_name)["resources"]}

    def _resource_rows(self, stack: Stack) -> list[dict[str, Any]]:
        """Each resource with CloudFormation's status, from its latest event."""
        rows = []
        resources = {} if stack.status == "DELETE_COMPLETE" else self._resources(stack.name)
        for logical_id, resource in resources.items():
            status, reason, when = stack.resource_status.get(
                logical_id, ("CREATE_COMPLETE", "", stack.updated or stack.created))
            if resource["status"] == "NOT_EMULATED":
                reason = "not emulated by the local cloud"
            row = {"LogicalResourceId": logical_id, "PhysicalResourceId": resource["physical_id"],
                   "ResourceType": resource["type"], "ResourceStatus": status,
                   "Timestamp": _time(when), "StackName": stack.name, "StackId": stack.stack_id,
                   "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
            if reason:
                row["ResourceStatusReason"] = reason
            rows.append(row)
        return rows

    async def list_stack_resources(self, params: dict[str, Any]) -> dict[str, Any]:
        rows = self._resource_rows(self.store.get(params["StackName"]))
        for row in rows:
            row["LastUpdatedTimestamp"] = row.pop("Timestamp")
        return {"StackResourceSummaries": rows}

    async def describe_stack_resources(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("StackName"):
            raise CloudFormationError("StackName is required (PhysicalResourceId alone is "
                                      "not supported by the local cloud)")
        rows = self._resource_rows(self.store.get(params["StackName"]))
        for key, field_name in (("LogicalResourceId", "LogicalResourceId"),
                                ("PhysicalResourceId", "PhysicalResourceId")):
            if params.get(key):
                rows = [row for row in rows if row[field_name] == params[key]]
        return {"StackResources": rows}

    async def describe_stack_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.store.get(params["StackName"])
        logical_id = params["LogicalResourceId"]
        for row in self._resource_rows(stack):
            if row["LogicalResourceId"] == logical_id:
                row["LastUpdatedTimestamp"] = row.pop("Timestamp")
                row["Metadata"] = "{}"
                return {"StackResourceDetail": row}
        raise CloudFormationError(f"Resource {logical_id} does not exist for stack "
                                  f"{stack.name}")

    # -- templates -----------------------------------------------------------------------

    async def get_template(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("ChangeSetName"):
            _, change_set = self.store.change_set(params["ChangeSetName"],
                                                  params.get("StackName"))
            text = change_set.template_body
        else:
            text = self.store.get(params.get("StackName") or "").template_body
        stages = ["Original", "Processed"]
        if params.get("TemplateStage") == "Processed" and transforms(template_body(text)):
            processed = await asyncio.to_thread(self._processed_text, text)
            return {"TemplateBody": processed, "StagesAvailable": stages}
        return {"TemplateBody": text, "StagesAvailable": stages}

    async def get_template_summary(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("StackName"):
            text = self.store.get(params["StackName"]).template_body
        else:
            text = self._template_text(params, None)
        body = self._check_template(text)
        summary = self._summary(body)
        summary.update({"Parameters": parameter_declarations(body),
                        "ResourceTypes": resource_types(body),
                        "Version": str(body.get("AWSTemplateFormatVersion", "2010-09-09"))})
        if "Metadata" in body:
            summary["Metadata"] = json.dumps(body["Metadata"])
        return summary

    async def validate_template(self, params: dict[str, Any]) -> dict[str, Any]:
        body = self._check_template(self._template_text(params, None))
        summary = self._summary(body)
        summary["Parameters"] = [
            {key: value for key, value in p.items()
             if key in ("ParameterKey", "DefaultValue", "NoEcho", "Description")}
            for p in parameter_declarations(body)]
        return summary

    @staticmethod
    def _summary(body: Mapping[str, Any]) -> dict[str, Any]:
        needs = capability_needs(body, transform_needs_expand=True)
        summary: dict[str, Any] = {"Capabilities": needs.capabilities,
                                   "DeclaredTransforms": transforms(body)}
        if needs.reason:
            summary["CapabilitiesReason"] = needs.reason
        if isinstance(body.get("Description"), str):
            summary["Description"] = body["Description"]
        return summary

    def _template_text(self, params: dict[str, Any], stack: Stack | None) -> str:
        """The template a request gives: TemplateBody, TemplateURL or the previous one."""
        if params.get("TemplateBody"):
            return str(params["TemplateBody"])
        if params.get("TemplateURL"):
            bucket, key = s3_location(params["TemplateURL"])
            try:
                return self._read_object(bucket, key).decode("utf-8")
            except UnicodeDecodeError:
                raise CloudFormationError("Template format error: the template at "
                                          "TemplateURL is not UTF-8 text") from None
        if params.get("UsePreviousTemplate") and stack is not None:
            return stack.template_body
        raise CloudFormationError("Either Template URL or Template Body must be specified.")

    @staticmethod
    def _check_template(text: str) -> dict[str, Any]:
        body = template_body(text)
        if not isinstance(body.get("Resources"), dict) or not body["Resources"]:
            raise CloudFormationError("Template format error: At least one Resources member "
                                      "must be defined.")
        return body

    def _template_file(self, stack: Stack, change_set: ChangeSet) -> Path:
        """Where the deployer reads a change set's template: under the cloud's home."""
        suffix = ".json" if change_set.template_body.lstrip().startswith("{") else ".yaml"
        return (self._folder / stack.stack_id.rsplit("/", 1)[-1]
                / (change_set.change_set_id.rsplit("/", 1)[-1] + suffix))

    def _processed(self, path: Path, values: Mapping[str, str]) -> dict[str, Any]:
        return sam.expand(load_template(path), region=self.settings.region, parameters=values)

    def _processed_text(self, text: str) -> str:
        folder = self._folder / "processed"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return json.dumps(self._processed(path, {}), indent=2, default=str)
        except DeployError as error:
            raise CloudFormationError(one_line(error)) from None
        finally:
            path.unlink(missing_ok=True)

    def _parameters(self, params: dict[str, Any], stack: Stack) -> list[dict[str, str]]:
        previous = parameter_values(stack.parameters)
        listed = []
        for item in params.get("Parameters") or []:
            key = item.get("ParameterKey", "")
            if item.get("UsePreviousValue"):
                if key not in previous:
                    raise CloudFormationError(f"Invalid input for parameter key {key}. "
                                              "Cannot specify usePreviousValue as true for "
                                              "non-existing parameter key")
                listed.append({"ParameterKey": key, "ParameterValue": previous[key]})
            else:
                listed.append({"ParameterKey": key,
                               "ParameterValue": str(item.get("ParameterValue", ""))})
        return listed

    async def deploy_template(self, template: Path, *, stack_name: str,
                              parameters: Mapping[str, str]) -> DeployReport:
        """``workshop deploy``, recorded as a stack (see :class:`.StackRuns`)."""
        return await self.runs.deploy_template(template, stack_name=stack_name,
                                               parameters=parameters)

    async def delete_now(self, stack_name: str) -> DeployReport | None:
        """``workshop delete``: DeleteStack, waited for."""
        return await self.runs.delete_now(stack_name)

    def reset(self) -> None:
        """Forget every stack (the deployer and services are reset by the caller)."""
        self.store.clear()
        shutil.rmtree(self._folder, ignore_errors=True)


# -- helpers ------------------------------------------------------------------------------


def _stack_name(params: Mapping[str, Any]) -> str:
    name = str(params.get("StackName") or "")
    if not _STACK_NAME.match(name) or len(name) > 128:
        raise CloudFormationError(
            f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*")
    return name


def _require(needs: Any, given: list[str]) -> None:
    missing = missing_capabilities(needs, given)
    if missing:
        raise CloudFormationError(f"Requires capabilities : [{', '.join(missing)}]",
                                  code="InsufficientCapabilitiesException")


def _export_name(spec: Mapping[str, Any], stack_name: str, settings: Settings) -> str | None:
    """An output's export name when it is text or a ``!Sub`` of pseudo parameters."""
    name = (spec.get("Export") or {}).get("Name") if isinstance(spec.get("Export"), dict) \
        else None
    if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str):
        name = (name["Fn::Sub"].replace("${AWS::StackName}", stack_name)
                .replace("${AWS::Region}", settings.region)
                .replace("${AWS::AccountId}", settings.account_id))
    return name if isinstance(name, str) and "${" not in name else None


def _parse(operation: Any, fields: dict[str, str]) -> dict[str, Any]:
    from moto.core.parse import QueryParser, RequestParserError
    from werkzeug.datastructures import MultiDict

    request = {"values": MultiDict(list(fields.items())), "body": "", "headers": {},
               "method": "POST", "url_params": {}, "url_path": "/"}
    try:
        return QueryParser(operation).parse(request)  # type: ignore[arg-type]
    except (RequestParserError, ValueError, KeyError, TypeError) as error:
        raise CloudFormationError(f"Invalid request: {error}") from None


def _serialize(operation: Any, result: dict[str, Any]) -> web.Response:
    from moto.core.serialize import QuerySerializer, SerializationContext

    request_id = str(uuid.uuid4())
    reply = QuerySerializer(operation, SerializationContext(request_id=request_id)
                            ).serialize(result)
    return web.Response(status=reply["status_code"], body=reply["body"].encode(),
                        headers={**reply["headers"], "x-amzn-RequestId": request_id})


def _reply(error: Any) -> web.Response:
    return web.Response(status=error.status, body=error.body, headers=error.headers)
