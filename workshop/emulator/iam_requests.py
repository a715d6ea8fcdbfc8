"""What an AWS API call asks IAM for: its action(s) and the ARN(s) of what it touches.

IAM decides per (action, resource); a request carries neither by name, so each service's
wire form is read here, from plain values (method, path, query, headers, body). Only
calls the functions and state machines of a serverless app make are described; any
other call a role makes is :attr:`Call.known` False, and the cloud refuses it rather
than let it through unchecked.

The actions and resources are those of the Service Authorization Reference and the
services' guides, for instance:

* DynamoDB: the action is named after the operation, on the table ARN, or the index ARN
  for a Query or Scan of an index; ``BatchGetItem``/``BatchWriteItem`` need their own
  action on every table named; a transaction needs, per item, the action of the
  underlying operation (``PutItem``, ``UpdateItem``, ``DeleteItem``, ``GetItem``) or
  ``ConditionCheckItem`` ("Using IAM with DynamoDB transactions"), and sets the condition
  key ``dynamodb:EnclosingOperation``;
* SQS: ``*Batch`` operations need the action of the single one (``sqs:SendMessage`` for
  ``SendMessageBatch``), on the queue ARN taken from the queue URL;
* SNS: ``PublishBatch`` needs ``sns:Publish``;
* Step Functions: executions are the resource of Describe/Stop/GetExecutionHistory; the
  ``SendTask*`` calls are authorised on the state machine whose execution issued the
  token (SAM's ``StepFunctionsCallbackPolicy`` names the state machine);
* CloudWatch Logs: log groups, and log streams for ``PutLogEvents``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import partitions

__all__ = ["Access", "Call", "apigateway_call", "describe_call", "function_arn", "lambda_call",
           "manage_connections_call"]

# The service of an X-Amz-Target prefix.
_TARGET_SERVICES = {"DynamoDB_20120810": "dynamodb", "AWSStepFunctions": "states",
                    "Logs_20140328": "logs", "AmazonSQS": "sqs"}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
# Resolves a Step Functions task token to the state machine ARN that issued it.
TokenResolver = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Access:
    """One thing IAM is asked: may the caller do ``action`` on ``resource``?"""

    action: str  # "dynamodb:PutItem": service prefix and the action's documented name
    resource: str  # an ARN, or "*" for actions without resource-level permissions
    context: Mapping[str, Any] = field(default_factory=dict)  # extra condition keys


@dataclass(frozen=True)
class Call:
    """An API call as IAM sees it."""

    service: str  # the signing name: dynamodb, sns, sqs, states, logs, lambda, execute-api…
    operation: str
    protocol: str  # json, query, rest-json or rest-xml: how a refusal must be worded
    accesses: tuple[Access, ...] = ()
    known: bool = True  # False: the local cloud cannot tell what this call needs

    @property
    def action(self) -> str:
        """The call's action, as a refusal names it."""
        return f"{self.service}:{self.operation}"


@dataclass(frozen=True)
class _Where:
    region: str  # the one the request was signed for
    account: str
    partition: str

    def arn(self, service: str, resource: str, *, account: str | None = None) -> str:
        return (f"arn:{self.partition}:{service}:{self.region}:"
                f"{self.account if account is None else account}:{resource}")

    def global_arn(self, service: str, resource: str) -> str:
        """An S3-style ARN: no region, no account."""
        return f"arn:{self.partition}:{service}:::{resource}"


def _where(signed_region: str | None, *, region: str, account: str) -> _Where:
    """Where a request acts: the region it was signed for, in that region's partition (the
    cloud's own for a region AWS does not have, which moto serves as well)."""
    try:
        partition = partitions.partition_of(signed_region or region)
    except partitions.UnknownRegion:
        partition = partitions.partition_of(region)
    return _Where(signed_region or region, account, partition)


# -- the entry points ---------------------------------------------------------------------


def describe_call(method: str, path: str, query: str, headers: Mapping[str, str],
                  body: bytes, *, region: str, account: str,
                  resolve_token: TokenResolver | None = None) -> Call:
    """What a request to moto's services asks IAM for (the Lambda API and
    ``@connections`` have their own: :func:`lambda_call`, :func:`manage_connections_call`)."""
    scope = _credential_scope(headers, query)
    where = _where(scope[0] if scope else None, region=region, account=account)
    target = headers.get("X-Amz-Target", "")
    prefix, _, operation = target.partition(".")
    if prefix in _TARGET_SERVICES:
        document = _json(body)
        describe = _JSON_SERVICES[_TARGET_SERVICES[prefix]]
        return describe(operation, document, where, resolve_token)
    service = scope[1] if scope else "unknown"
    if service == "s3":
        return _s3(method, path, query, where)
    params = dict(parse_qsl(query))
    if method == "POST" and "Action" not in params:
        params |= dict(parse_qsl(body.decode("utf-8", "replace")))
    if "Action" in params:  # the query protocol: SNS, SQS (older clients), IAM, STS…
        describe_query = _QUERY_SERVICES.get(service)
        if describe_query is None:
            return _unknown(service, params["Action"], "query")
        return describe_query(params["Action"], params, where)
    return _unknown(service, target or f"{method} {path}", "json" if target else "rest-json")


def function_arn(name: str, *, region: str, account: str, qualifier: str | None = None) -> str:
    """The ARN Invoke is authorised on: a name, partial or full ARN, with its qualifier."""
    if name.startswith("arn:"):
        arn = name
    else:
        parts = name.split(":")
        if len(parts) >= 3 and parts[1] == "function":  # "123456789012:function:name"
            account, parts = parts[0], parts[2:]
        arn = partitions.arn("lambda", f"function:{':'.join(parts)}", region=region,
                             account=account)
    if qualifier and not arn.endswith(":" + qualifier):
        arn = f"{arn}:{qualifier}"
    return arn


def lambda_call(action: str, function: str | None, *, region: str, account: str,
                qualifier: str | None = None) -> Call:
    """A Lambda API call: ``lambda:InvokeFunction`` (Invoke), ``lambda:GetFunction``…
    on the (qualified) function ARN, or on "*" without a function (ListFunctions)."""
    arn = "*" if function is None else function_arn(function, region=region, account=account,
                                                    qualifier=qualifier)
    return Call("lambda", action, "rest-json", (Access(f"lambda:{action}", arn),))


def apigateway_call(method: str, path: str, *, region: str) -> Call:
    """An API Gateway control-plane call (``/v2/apis/…``): ``apigateway:{METHOD}`` on
    ``arn:{partition}:apigateway:{region}::{path}``, the path without its ``/v2`` prefix."""
    resource = path.removeprefix("/v2") or "/"
    arn = partitions.arn("apigateway", resource, region=region)
    operation = method.upper()
    return Call("apigateway", operation, "rest-json", (Access(f"apigateway:{operation}", arn),))


def manage_connections_call(method: str, api_id: str, stage: str, connection_id: str, *,
                            region: str, account: str) -> Call:
    """``@connections`` POST/GET/DELETE: ``execute-api:ManageConnections`` on
    ``arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/@connections/{id}``."""
    arn = partitions.arn("execute-api", f"{api_id}/{stage}/{method.upper()}/@connections/"
                         f"{connection_id}", region=region, account=account)
    return Call("execute-api", "ManageConnections", "rest-json",
                (Access("execute-api:ManageConnections", arn),))


# -- helpers --------------------------------------------------------------------------------


def _credential_scope(headers: Mapping[str, str], query: str) -> tuple[str, str] | None:
    """(region, service) the request was signed for."""
    match = _CREDENTIAL.search(headers.get("Authorization", ""))
    if match:
        return match.group(3), match.group(4)
    credential = dict(parse_qsl(query)).get("X-Amz-Credential", "")
    parts = credential.split("/")
    return (parts[2], parts[3]) if len(parts) == 5 else None


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _unknown(service: str, operation: str, protocol: str) -> Call:
    return Call(service, operation, protocol, known=False)


# -- DynamoDB -------------------------------------------------------------------------------

# Operations without a table: IAM has no resource type for them ("*").
_DYNAMODB_ACCOUNT_WIDE = frozenset({"ListTables", "DescribeLimits", "DescribeEndpoints",
                                    "ListBackups", "ListGlobalTables"})
_TRANSACT_WRITE_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                           "ConditionCheck": "ConditionCheckItem"}


def _table_arn(where: _Where, name: Any) -> str:
    name = str(name)
    return name if name.startswith("arn:") else where.arn("dynamodb", f"table/{name}")


def _dynamodb(operation: str, document: dict[str, Any], where: _Where,
              _resolve: TokenResolver | None) -> Call:
    accesses: list[Access] = []
    if operation in ("BatchGetItem", "BatchWriteItem"):
        tables = document.get("RequestItems") or {}
        accesses = [Access(f"dynamodb:{operation}", _table_arn(where, t)) for t in tables]
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        enclosing = {"dynamodb:EnclosingOperation": operation}
        for item in document.get("TransactItems") or []:
            for kind, request in (item or {}).items():
                action = "GetItem" if operation == "TransactGetItems" \
                    else _TRANSACT_WRITE_ACTIONS.get(kind)
                if action is None or not isinstance(request, dict):
                    return _unknown("dynamodb", operation, "json")
                accesses.append(Access(f"dynamodb:{action}",
                                       _table_arn(where, request.get("TableName")), enclosing))
    elif "TableName" in document:
        arn = _table_arn(where, document["TableName"])
        if operation in ("Query", "Scan") and document.get("IndexName"):
            arn = f"{arn}/index/{document['IndexName']}"
        accesses = [Access(f"dynamodb:{operation}", arn)]
    elif operation in _DYNAMODB_ACCOUNT_WIDE:
        accesses = [Access(f"dynamodb:{operation}", "*")]
    else:  # PartiQL, streams, backups by ARN…: not described
        return _unknown("dynamodb", operation, "json")
    return Call("dynamodb", operation, "json", tuple(_unique(accesses)))


def _unique(accesses: list[Access]) -> list[Access]:
    seen: set[tuple[str, str]] = set()
    out = []
    for access in accesses:
        if (access.action, access.resource) not in seen:
            seen.add((access.action, access.resource))
            out.append(access)
    return out


# -- Step Functions ---------------------------------------------------------------------------

_STATES_BY_MACHINE = frozenset({"StartExecution", "StartSyncExecution", "DescribeStateMachine",
                                "UpdateStateMachine", "DeleteStateMachine", "ListExecutions"})
_STATES_BY_EXECUTION = frozenset({"DescribeExecution", "StopExecution", "GetExecutionHistory",
                                  "DescribeStateMachineForExecution", "RedriveExecution"})
_STATES_BY_TOKEN = frozenset({"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"})
_STATES_ACCOUNT_WIDE = frozenset({"ListStateMachines", "ListActivities"})


def _states(operation: str, document: dict[str, Any], where: _Where,
            resolve: TokenResolver | None) -> Call:
    resource: str | None
    if operation in _STATES_BY_MACHINE:
        resource = document.get("stateMachineArn")
    elif operation in _STATES_BY_EXECUTION:
        resource = document.get("executionArn")
    elif operation in _STATES_BY_TOKEN:
        resource = resolve(str(document.get("taskToken", ""))) if resolve else None
        if resource is None:
            # A token no running execution holds: Step Functions answers InvalidToken or
            # TaskDoesNotExist, and nothing is done, so there is nothing to authorise.
            return Call("states", operation, "json")
    elif operation in _STATES_ACCOUNT_WIDE:
        resource = "*"
    elif operation == "CreateStateMachine" and document.get("name"):
        resource = where.arn("states", f"stateMachine:{document['name']}")
    else:
        return _unknown("states", operation, "json")
    if not resource:
        return _unknown("states", operation, "json")
    return Call("states", operation, "json", (Access(f"states:{operation}", str(resource)),))


# -- CloudWatch Logs ----------------------------------------------------------------------------

_LOGS_ACCOUNT_WIDE = frozenset({"DescribeLogGroups", "DescribeDestinations",
                                "DescribeQueries", "DescribeResourcePolicies"})


def _logs(operation: str, document: dict[str, Any], where: _Where,
          _resolve: TokenResolver | None) -> Call:
    if operation in _LOGS_ACCOUNT_WIDE:
        return Call("logs", operation, "json", (Access(f"logs:{operation}", "*"),))
    group = document.get("logGroupName") or document.get("logGroupIdentifier")
    if not group:
        return _unknown("logs", operation, "json")
    group = str(group)
    arn = group.removesuffix(":*") if group.startswith("arn:") \
        else where.arn("logs", f"log-group:{group}")
    if operation == "PutLogEvents" and document.get("logStreamName"):
        arn = f"{arn}:log-stream:{document['logStreamName']}"
    return Call("logs", operation, "json", (Access(f"logs:{operation}", arn),))


# -- SQS ----------------------------------------------------------------------------------------

_SQS_SINGLE = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
_SQS_BY_NAME = frozenset({"GetQueueUrl", "CreateQueue"})
_SQS_ACCOUNT_WIDE = frozenset({"ListQueues"})


def _queue_arn(where: _Where, url: str) -> str | None:
    """``arn:{partition}:sqs:{region}:{account}:{name}`` of a queue URL (``…/{account}/{name}``)."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) != 2:
        return None
    return where.arn("sqs", unquote(parts[1]), account=parts[0])


def _sqs_call(operation: str, params: Mapping[str, Any], where: _Where, protocol: str) -> Call:
    action = f"sqs:{_SQS_SINGLE.get(operation, operation)}"
    if operation in _SQS_ACCOUNT_WIDE:
        return Call("sqs", operation, protocol, (Access(action, "*"),))
    if operation in _SQS_BY_NAME and params.get("QueueName"):
        owner = params.get("QueueOwnerAWSAccountId") or where.account
        arn = where.arn("sqs", params["QueueName"], account=owner)
        return Call("sqs", operation, protocol, (Access(action, arn),))
    arn = _queue_arn(where, str(params.get("QueueUrl") or ""))
    if arn is None:
        return _unknown("sqs", operation, protocol)
    return Call("sqs", operation, protocol, (Access(action, arn),))


def _sqs_json(operation: str, document: dict[str, Any], where: _Where,
              _resolve: TokenResolver | None) -> Call:
    return _sqs_call(operation, document, where, "json")


def _sqs_query(operation: str, params: Mapping[str, str], where: _Where) -> Call:
    return _sqs_call(operation, params, where, "query")


# -- SNS, STS (query protocol) ----------------------------------------------------------------

_SNS_BY_TOPIC = frozenset({"Publish", "PublishBatch", "Subscribe", "GetTopicAttributes",
                           "SetTopicAttributes", "DeleteTopic", "ListSubscriptionsByTopic",
                           "AddPermission", "RemovePermission"})
_SNS_ACCOUNT_WIDE = frozenset({"ListTopics", "ListSubscriptions"})


def _sns(operation: str, params: Mapping[str, str], where: _Where) -> Call:
    action = "sns:Publish" if operation == "PublishBatch" else f"sns:{operation}"
    if operation in _SNS_ACCOUNT_WIDE or (operation == "Publish" and params.get("PhoneNumber")):
        return Call("sns", operation, "query", (Access(action, "*"),))
    if operation == "CreateTopic" and params.get("Name"):
        arn = where.arn("sns", params["Name"])
    elif operation in _SNS_BY_TOPIC:
        arn = params.get("TopicArn") or params.get("TargetArn") or ""
    elif operation in ("Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes"):
        arn = (params.get("SubscriptionArn") or "").rpartition(":")[0]
    else:
        return _unknown("sns", operation, "query")
    if not arn:
        return _unknown("sns", operation, "query")
    return Call("sns", operation, "query", (Access(action, arn),))


def _sts(operation: str, params: Mapping[str, str], where: _Where) -> Call:
    if operation == "GetCallerIdentity":  # needs no permission, even under an explicit Deny
        return Call("sts", operation, "query")
    return _unknown("sts", operation, "query")


# -- S3 (path-style object and bucket reads and writes) -----------------------------------------

_S3_LIST_PARAMETERS = frozenset({"list-type", "prefix", "delimiter", "continuation-token",
                                 "max-keys", "encoding-type", "start-after", "marker",
                                 "fetch-owner", "x-id"})
_S3_OBJECT_PARAMETERS = frozenset({"versionId", "partNumber", "uploadId", "uploads", "x-id"})
_S3_OBJECT_ACTIONS = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject",
                      "POST": "PutObject", "DELETE": "DeleteObject"}


def _s3(method: str, path: str, query: str, where: _Where) -> Call:
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket and method == "GET":  # ListBuckets
        return Call("s3", "ListBuckets", "rest-xml", (Access("s3:ListAllMyBuckets", "*"),))
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    names -= {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
              "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"}
    if bucket and key and names <= _S3_OBJECT_PARAMETERS and method in _S3_OBJECT_ACTIONS:
        action = _S3_OBJECT_ACTIONS[method]
        access = Access(f"s3:{action}", where.global_arn("s3", f"{bucket}/{key}"))
        return Call("s3", action, "rest-xml", (access,))
    if bucket and not key and method in ("GET", "HEAD") and names <= _S3_LIST_PARAMETERS:
        access = Access("s3:ListBucket", where.global_arn("s3", bucket))
        return Call("s3", "ListBucket", "rest-xml", (access,))
    return _unknown("s3", f"{method} {path}", "rest-xml")


_JSON_SERVICES = {"dynamodb": _dynamodb, "states": _states, "logs": _logs, "sqs": _sqs_json}
_QUERY_SERVICES = {"sns": _sns, "sqs": _sqs_query, "sts": _sts}
