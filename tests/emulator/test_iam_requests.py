"""What each AWS call asks IAM for (workshop.emulator.iam_requests), from real boto3 requests.

Requests are built by botocore itself (serialised and signed as a handler's boto3 would),
so the wire forms read here are the ones the local cloud receives.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from workshop.emulator.iam_requests import (
    Access,
    apigateway_call,
    describe_call,
    function_arn,
    lambda_call,
    manage_connections_call,
)

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Games"
_SESSION = botocore.session.get_session()


def request_of(service: str, operation: str, params: dict[str, Any], *,
               region: str = REGION) -> AWSRequest:
    """The HTTP request botocore sends for ``operation`` (signed, like a handler's)."""
    client = _SESSION.create_client(service, region_name=region, aws_access_key_id="AKIDEXAMPLE",
                                    aws_secret_access_key="secret",
                                    endpoint_url="http://127.0.0.1:4580")
    model = client.meta.service_model.operation_model(operation)
    serialized = client._serializer.serialize_to_request(params, model)
    request = AWSRequest(method=serialized["method"],
                         url="http://127.0.0.1:4580" + serialized["url_path"],
                         data=serialized["body"], headers=serialized["headers"],
                         params=serialized["query_string"])
    SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), model.service_model.signing_name,
              region).add_auth(request)
    return request


def describe(service: str, operation: str, params: dict[str, Any], *, region: str = REGION,
             **options: Any):
    request = request_of(service, operation, params, region=region).prepare()
    path, _, query = request.url.removeprefix("http://127.0.0.1:4580").partition("?")
    body = request.body or b""
    return describe_call(request.method, path, query, dict(request.headers),
                         body if isinstance(body, bytes) else body.encode(),
                         region=region, account=ACCOUNT, **options)


def accesses(call: Any) -> list[tuple[str, str]]:
    assert call.known, call
    return [(a.action, a.resource) for a in call.accesses]


# -- DynamoDB ----------------------------------------------------------------------------------


def test_item_operations_are_on_the_table() -> None:
    call = describe("dynamodb", "PutItem", {"TableName": "Games", "Item": {"id": {"S": "1"}}})
    assert (call.service, call.protocol) == ("dynamodb", "json")
    assert accesses(call) == [("dynamodb:PutItem", TABLE)]


def test_a_query_of_an_index_is_on_the_index() -> None:
    call = describe("dynamodb", "Query", {"TableName": "Games", "IndexName": "byUser",
                                         "KeyConditionExpression": "u = :u"})
    assert accesses(call) == [("dynamodb:Query", f"{TABLE}/index/byUser")]
    assert accesses(describe("dynamodb", "Scan", {"TableName": "Games"})) == \
        [("dynamodb:Scan", TABLE)]


def test_a_table_named_by_its_arn() -> None:
    call = describe("dynamodb", "GetItem", {"TableName": TABLE, "Key": {"id": {"S": "1"}}})
    assert accesses(call) == [("dynamodb:GetItem", TABLE)]


def test_batches_need_their_action_on_every_table() -> None:
    call = describe("dynamodb", "BatchWriteItem", {"RequestItems": {
        "Games": [{"PutRequest": {"Item": {"id": {"S": "1"}}}}],
        "Rooms": [{"DeleteRequest": {"Key": {"id": {"S": "2"}}}}]}})
    assert accesses(call) == [("dynamodb:BatchWriteItem", TABLE),
                              ("dynamodb:BatchWriteItem", TABLE.replace("Games", "Rooms"))]


def test_transactions_need_each_items_own_action() -> None:
    key = {"id": {"S": "1"}}
    call = describe("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "Games", "Item": key}},
        {"Update": {"TableName": "Games", "Key": key, "UpdateExpression": "SET a = :a"}},
        {"Delete": {"TableName": "Rooms", "Key": key}},
        {"ConditionCheck": {"TableName": "Rooms", "Key": key,
                            "ConditionExpression": "attribute_exists(id)"}}]})
    rooms = TABLE.replace("Games", "Rooms")
    assert accesses(call) == [("dynamodb:PutItem", TABLE), ("dynamodb:UpdateItem", TABLE),
                              ("dynamodb:DeleteItem", rooms),
                              ("dynamodb:ConditionCheckItem", rooms)]
    assert call.accesses[0].context == {"dynamodb:EnclosingOperation": "TransactWriteItems"}
    reads = describe("dynamodb", "TransactGetItems", {"TransactItems": [
        {"Get": {"TableName": "Games", "Key": key}}]})
    assert accesses(reads) == [("dynamodb:GetItem", TABLE)]


def test_list_tables_is_account_wide_and_partiql_is_not_described() -> None:
    assert accesses(describe("dynamodb", "ListTables", {})) == [("dynamodb:ListTables", "*")]
    assert not describe("dynamodb", "ExecuteStatement", {"Statement": "SELECT * FROM t"}).known


# -- SNS, SQS ----------------------------------------------------------------------------------


def test_sns_publish_is_on_the_topic() -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:scores"
    call = describe("sns", "Publish", {"TopicArn": topic, "Message": "hi"})
    assert (call.service, call.protocol) == ("sns", "query")
    assert accesses(call) == [("sns:Publish", topic)]
    batch = describe("sns", "PublishBatch", {"TopicArn": topic, "PublishBatchRequestEntries": [
        {"Id": "1", "Message": "hi"}]})
    assert accesses(batch) == [("sns:Publish", topic)]
    assert accesses(describe("sns", "CreateTopic", {"Name": "scores"})) == \
        [("sns:CreateTopic", topic)]


@pytest.mark.parametrize("operation, params, action", [
    ("SendMessage", {"MessageBody": "hi"}, "sqs:SendMessage"),
    ("SendMessageBatch", {"Entries": [{"Id": "1", "MessageBody": "hi"}]}, "sqs:SendMessage"),
    ("ReceiveMessage", {}, "sqs:ReceiveMessage"),
    ("DeleteMessageBatch", {"Entries": [{"Id": "1", "ReceiptHandle": "r"}]},
     "sqs:DeleteMessage"),
])
def test_sqs_calls_are_on_the_queue_of_their_url(operation: str, params: dict,
                                                 action: str) -> None:
    url = f"http://127.0.0.1:4580/{ACCOUNT}/inbox"
    call = describe("sqs", operation, {"QueueUrl": url, **params})
    assert (call.service, call.protocol) == ("sqs", "json")
    assert accesses(call) == [(action, f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox")]


def test_sqs_by_queue_name() -> None:
    assert accesses(describe("sqs", "GetQueueUrl", {"QueueName": "inbox"})) == \
        [("sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox")]


def test_sqs_in_the_query_protocol() -> None:
    body = f"Action=SendMessage&QueueUrl=http%3A%2F%2Fq%2F{ACCOUNT}%2Finbox&MessageBody=hi"
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20260101/{REGION}/sqs/"
                                "aws4_request, SignedHeaders=host, Signature=0"}
    call = describe_call("POST", "/", "", headers, body.encode(), region=REGION,
                         account=ACCOUNT)
    assert call.protocol == "query"
    assert accesses(call) == [("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox")]


# -- Step Functions, Logs, STS, S3 ----------------------------------------------------------------


def test_step_functions_machines_executions_and_task_tokens() -> None:
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Trivia"
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:Trivia:game-1"
    assert accesses(describe("stepfunctions", "StartExecution", {"stateMachineArn": machine})) \
        == [("states:StartExecution", machine)]
    assert accesses(describe("stepfunctions", "DescribeExecution",
                             {"executionArn": execution})) == \
        [("states:DescribeExecution", execution)]
    tokens = {"tok": machine}
    call = describe("stepfunctions", "SendTaskSuccess", {"taskToken": "tok", "output": "{}"},
                    resolve_token=tokens.get)
    assert accesses(call) == [("states:SendTaskSuccess", machine)]
    # A token no execution holds: nothing to authorise, Step Functions says InvalidToken.
    stale = describe("stepfunctions", "SendTaskSuccess", {"taskToken": "old", "output": "{}"},
                     resolve_token=tokens.get)
    assert stale.known and stale.accesses == ()


def test_logs_groups_and_streams() -> None:
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f"
    assert accesses(describe("logs", "FilterLogEvents", {"logGroupName": "/aws/lambda/f"})) == \
        [("logs:FilterLogEvents", group)]
    put = describe("logs", "PutLogEvents", {"logGroupName": "/aws/lambda/f",
                                            "logStreamName": "s",
                                            "logEvents": [{"timestamp": 1, "message": "m"}]})
    assert accesses(put) == [("logs:PutLogEvents", f"{group}:log-stream:s")]


def test_get_caller_identity_needs_no_permission() -> None:
    call = describe("sts", "GetCallerIdentity", {})
    assert call.known and call.accesses == ()
    assert not describe("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r",
                                              "RoleSessionName": "session"}).known


def test_s3_objects_and_buckets() -> None:
    get = describe("s3", "GetObject", {"Bucket": "site", "Key": "index.html"})
    assert accesses(get) == [("s3:GetObject", "arn:aws:s3:::site/index.html")]
    assert accesses(describe("s3", "ListObjectsV2", {"Bucket": "site"})) == \
        [("s3:ListBucket", "arn:aws:s3:::site")]
    assert not describe("s3", "PutBucketPolicy", {"Bucket": "site", "Policy": "{}"}).known


def test_anything_else_is_unknown_never_allowed_by_default() -> None:
    call = describe("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}"})
    assert not call.known
    assert (call.service, call.operation, call.protocol) == ("iam", "CreateRole", "query")
    body = json.dumps({"Name": "x"}).encode()
    assert not describe_call("POST", "/", "", {"X-Amz-Target": "AWSEvents.PutRule"}, body,
                             region=REGION, account=ACCOUNT).known


# -- the Lambda API and @connections -------------------------------------------------------------


def test_lambda_function_arns_and_qualifiers() -> None:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:play"
    assert function_arn("play", region=REGION, account=ACCOUNT) == arn
    assert function_arn(arn, region=REGION, account=ACCOUNT) == arn
    assert function_arn(f"{ACCOUNT}:function:play", region=REGION, account=ACCOUNT) == arn
    assert function_arn("play:prod", region=REGION, account=ACCOUNT) == arn + ":prod"
    assert function_arn("play", region=REGION, account=ACCOUNT, qualifier="7") == arn + ":7"
    call = lambda_call("InvokeFunction", "play", region=REGION, account=ACCOUNT)
    assert call.accesses == (Access("lambda:InvokeFunction", arn),)
    assert lambda_call("ListFunctions", None, region=REGION, account=ACCOUNT).accesses == \
        (Access("lambda:ListFunctions", "*"),)


def test_api_gateway_reads_are_apigateway_get_on_the_resource_path() -> None:
    call = apigateway_call("GET", "/v2/apis/abc1234567/routes", region=REGION)
    assert call.protocol == "rest-json"
    assert call.accesses == (Access("apigateway:GET",
                                    f"arn:aws:apigateway:{REGION}::/apis/abc1234567/routes"),)


def test_manage_connections_names_method_stage_and_connection() -> None:
    call = manage_connections_call("delete", "abc123", "dev", "Zx0=", region=REGION,
                                   account=ACCOUNT)
    assert call.accesses == (Access(
        "execute-api:ManageConnections",
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/dev/DELETE/@connections/Zx0="),)


# -- partitions ----------------------------------------------------------------------------


def test_a_china_region_call_is_on_aws_cn_resources() -> None:
    """cn-northwest-1 (the original lottery lab's region) is in the aws-cn partition: a role's
    policy there names ``arn:aws-cn:…``, so the ARNs a call needs must carry it too."""
    china, queue = "cn-northwest-1", f"http://127.0.0.1:4580/{ACCOUNT}/inbox"
    assert accesses(describe("dynamodb", "PutItem", {"TableName": "Games", "Item": {}},
                             region=china)) == [
        ("dynamodb:PutItem", f"arn:aws-cn:dynamodb:{china}:{ACCOUNT}:table/Games")]
    assert accesses(describe("sqs", "ReceiveMessage", {"QueueUrl": queue}, region=china)) == [
        ("sqs:ReceiveMessage", f"arn:aws-cn:sqs:{china}:{ACCOUNT}:inbox")]
    assert accesses(describe("s3", "GetObject", {"Bucket": "b", "Key": "k"},
                             region=china)) == [("s3:GetObject", "arn:aws-cn:s3:::b/k")]
    assert accesses(lambda_call("InvokeFunction", "f", region=china, account=ACCOUNT)) == [
        ("lambda:InvokeFunction", f"arn:aws-cn:lambda:{china}:{ACCOUNT}:function:f")]
    assert accesses(manage_connections_call("POST", "abc", "dev", "c1", region=china,
                                            account=ACCOUNT)) == [
        ("execute-api:ManageConnections",
         f"arn:aws-cn:execute-api:{china}:{ACCOUNT}:abc/dev/POST/@connections/c1")]
    assert accesses(apigateway_call("GET", "/v2/apis", region=china)) == [
        ("apigateway:GET", f"arn:aws-cn:apigateway:{china}::/apis")]
