"""The deployer against a real in-process moto server, with recording fakes for the
Lambda runtime and the scheduler and the real WebSocketApis behind a recorder."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cloudformation_helpers import FAILING_API, LAMBDA_ROLE_RESOURCE
from moto.server import ThreadedMotoServer

from workshop.emulator import aws_managed_policies
from workshop.emulator.deployer import Deployer, DeployError, ProvisionError, TemplateError
from workshop.emulator.ids import CountingIds
from workshop.emulator.lambda_runtime import FunctionConfig, ResourceNotFound
from workshop.emulator.settings import Settings
from workshop.emulator.websocket_api import WebSocketApis

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"
ROOT = Path(__file__).resolve().parents[2]


# -- the local cloud's parts ----------------------------------------------------------


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # As in the local cloud's moto: AWS-managed policies a role names can be attached.
    aws_managed_policies.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield port
    server.stop()


def moto_api(port: int, path: str, body: dict | None = None) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/{path}", method="POST",
                                     data=json.dumps(body or {}).encode())
    urllib.request.urlopen(request).read()


class CallCounter:
    """boto3 clients for the moto server that count the AWS calls made through them."""

    def __init__(self, port: int) -> None:
        self.session = boto3.session.Session(aws_access_key_id="testing",
                                             aws_secret_access_key="testing",
                                             region_name="us-east-1")
        self.port = port
        self.cache: dict[str, Any] = {}
        self.calls: list[str] = []

    def __call__(self, service: str) -> Any:
        if service not in self.cache:
            client = self.session.client(service, endpoint_url=f"http://127.0.0.1:{self.port}")
            client.meta.events.register(
                "before-call", lambda model, **_: self.calls.append(model.name))
            self.cache[service] = client
        return self.cache[service]


class FakeRuntime:
    """The Lambda runtime's deploy-side contract, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.functions: dict[str, FunctionConfig] = {}
        self.policies: dict[str, dict[str, dict]] = {}
        self.versions: dict[str, int] = {}

    def put_function(self, config: FunctionConfig) -> dict:
        self.calls.append(("put_function", config.name))
        self.functions[config.name] = config
        self.policies.setdefault(config.name, {})
        return {"FunctionName": config.name}

    def delete_function(self, name: str) -> None:
        self.calls.append(("delete_function", name))
        del self.functions[name]
        del self.policies[name]

    def add_permission(self, name: str, **statement: Any) -> None:
        self.calls.append(("add_permission", name, statement["statement_id"]))
        self.policies[name][statement["statement_id"]] = statement

    def next_layer_version(self, layer_arn: str) -> int:
        self.versions[layer_arn] = self.versions.get(layer_arn, 0) + 1
        return self.versions[layer_arn]

    def remove_permission(self, name: str, statement_id: str) -> None:
        self.calls.append(("remove_permission", name, statement_id))
        if name not in self.policies:
            raise ResourceNotFound(f"Function not found: {name}")
        del self.policies[name][statement_id]


class FakeScheduler:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.rules: dict[str, dict] = {}

    def put_rule(self, name: str, **rule: Any) -> None:
        self.calls.append(("put_rule", name))
        self.rules[name] = rule

    def delete_rule(self, name: str) -> None:
        self.calls.append(("delete_rule", name))
        self.rules.pop(name, None)


class RecordingApis:
    """The real WebSocketApis (so its checks apply), with every change recorded."""

    def __init__(self) -> None:
        self.real = WebSocketApis()
        self.calls: list[tuple] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.real, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, *args))
            return method(*args, **kwargs)

        return recorded


class Cloud:
    def __init__(self, port: int, home: Path, aws: CallCounter) -> None:
        self.settings = Settings(port=port, home=home)
        self.aws = aws
        self.runtime = FakeRuntime()
        self.scheduler = FakeScheduler()
        self.apis = RecordingApis()
        self.deployer = Deployer(self.settings, runtime=self.runtime, apis=self.apis,
                                 scheduler=self.scheduler, clients=self.aws, ids=CountingIds())

    def calls(self) -> int:
        """Every call made on anything: AWS, runtime, scheduler, APIs."""
        return (len(self.aws.calls) + len(self.runtime.calls) + len(self.scheduler.calls)
                + len(self.apis.calls))

    def client(self, service: str) -> Any:
        return self.aws(service)


@pytest.fixture(scope="module")
def aws(moto_port: int) -> CallCounter:
    # Shared: making boto3 clients costs more than most of these tests.
    return CallCounter(moto_port)


@pytest.fixture
def cloud(moto_port: int, aws: CallCounter, tmp_path: Path) -> Cloud:
    moto_api(moto_port, "reset")
    moto_api(moto_port, "config", {"stepfunctions": {"execute_state_machine": True}})
    aws.calls.clear()
    return Cloud(moto_port, tmp_path / "home", aws)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the fixture templates and their code, free to edit."""
    return Path(shutil.copytree(TEMPLATES, tmp_path / "project"))


def physical(cloud: Cloud, stack: str, logical_id: str) -> str:
    resources = cloud.deployer.describe(stack)["resources"]
    return next(r["physical_id"] for r in resources if r["logical_id"] == logical_id)


def write(directory: Path, text: str, name: str = "template.yaml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


# -- the full template ------------------------------------------------------------------


@pytest.fixture
def deployed(cloud: Cloud, project: Path) -> Cloud:
    report = cloud.deployer.deploy(project / "full.yaml", stack_name="game")
    assert report.warnings == []
    return cloud


def test_cfn_lint_accepts_the_full_template() -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(lint), str(TEMPLATES / "full.yaml")], capture_output=True,
                            text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_full_template_creates_every_resource(deployed: Cloud) -> None:
    report = deployed.deployer.describe("game")
    statuses = {r["logical_id"]: r["status"] for r in report["resources"]}
    assert set(statuses.values()) == {"CREATE_COMPLETE"}
    assert "ProdAlarmsQueue" not in statuses  # its Condition is false for dev
    assert len(statuses) == 33


def test_tables_have_their_keys_indexes_stream_and_ttl(deployed: Cloud) -> None:
    dynamodb = deployed.client("dynamodb")
    name = physical(deployed, "game", "ConnectionsTable")
    assert name.startswith("game-ConnectionsTable-")
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "connectionId", "KeyType": "HASH"}]
    [index] = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["KeySchema"]) == (
        "byUser", [{"AttributeName": "userId", "KeyType": "HASH"}])
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    players = dynamodb.describe_table(TableName=deployed.deployer.outputs("game")[
        "PlayersTableName"])["Table"]
    assert players["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert deployed.deployer.outputs("game")["ConnectionsStreamArn"] == \
        table["LatestStreamArn"]


def test_topic_delivers_to_the_subscribed_queue(deployed: Cloud) -> None:
    sns, sqs = deployed.client("sns"), deployed.client("sqs")
    topic = physical(deployed, "game", "Announcements")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == \
        "Game announcements"
    queue_url = deployed.deployer.outputs("game")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])[
        "Attributes"]["VisibilityTimeout"] == "30"
    sns.publish(TopicArn=topic, Message="round 1")
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["round 1"]  # RawMessageDelivery


def test_bucket_log_group_roles_and_policies(deployed: Cloud) -> None:
    bucket = physical(deployed, "game", "ReplaysBucket")
    assert bucket == bucket.lower() and bucket.startswith("game-replaysbucket-")
    deployed.client("s3").head_bucket(Bucket=bucket)
    [group] = deployed.client("logs").describe_log_groups(
        logGroupNamePrefix="/workshop/game/game")["logGroups"]
    assert group["retentionInDays"] == 7
    iam = deployed.client("iam")
    role = physical(deployed, "game", "GameFunctionRole")
    inline = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert "replays" in inline and "GameFunctionRolePolicy0" in inline
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    # SAM's AWSLambdaBasicExecutionRole is attached too, as on AWS (IAM reads it).
    assert sorted(p["PolicyArn"] for p in attached) == sorted([
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        physical(deployed, "game", "ReadReplaysPolicy")])


def test_state_machine_has_substitutions_applied(deployed: Cloud) -> None:
    arn = deployed.deployer.outputs("game")["StateMachineArn"]
    assert arn.split(":")[-1].startswith("GameFlow-")
    machine = deployed.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    definition = json.loads(machine["definition"])
    tick = deployed.settings.function_arn(physical(deployed, "game", "TickFunction"))
    assert definition["States"]["Tick"]["Resource"] == tick
    assert definition["States"]["Announce"]["Parameters"]["TopicArn"] == \
        physical(deployed, "game", "Announcements")
    assert machine["roleArn"].endswith(f":role/{physical(deployed, 'game', 'GameFlowRole')}")


def test_functions_get_resolved_configuration(deployed: Cloud, project: Path) -> None:
    name = physical(deployed, "game", "GameFunction")
    config = deployed.runtime.functions[name]
    outputs = deployed.deployer.outputs("game")
    assert (config.handler, config.runtime, config.timeout, config.memory_size) == (
        "app.handler", "python3.12", 5.0, 128)
    assert config.code_dir == project / "src" / "game"
    assert config.role.endswith(f":role/{physical(deployed, 'game', 'GameFunctionRole')}")
    assert config.environment == {
        "STAGE": "dev",
        "PLAYERS_TABLE": outputs["PlayersTableName"],
        "CONNECTIONS_TABLE": physical(deployed, "game", "ConnectionsTable"),
        "TOPIC_ARN": physical(deployed, "game", "Announcements"),
        "QUEUE_URL": outputs["QueueUrl"],
        "BUCKET": physical(deployed, "game", "ReplaysBucket"),
        "SCORE_LIMIT": "100",
        "LOG_GROUP_ARN": "arn:aws:logs:us-east-1:123456789012:log-group:/workshop/game/game:*",
        "ALARMS": "none",
        "MANAGEMENT_URL": "https://api0001.execute-api.us-east-1.amazonaws.com/dev",
    }


def test_permissions_and_the_schedule(deployed: Cloud) -> None:
    game, tick = (physical(deployed, "game", n) for n in ("GameFunction", "TickFunction"))
    [api_statement] = deployed.runtime.policies[game].values()
    assert api_statement["principal"] == "apigateway.amazonaws.com"
    assert api_statement["source_arn"] == \
        "arn:aws:execute-api:us-east-1:123456789012:api0001/*"
    rule = physical(deployed, "game", "TickFunctionEveryMinute")
    [events_statement] = deployed.runtime.policies[tick].values()
    assert events_statement["principal"] == "events.amazonaws.com"
    assert events_statement["source_arn"] == f"arn:aws:events:us-east-1:123456789012:rule/{rule}"
    assert deployed.scheduler.rules[rule] == {
        "schedule_expression": "rate(1 minute)",
        "targets": [(tick, '{"source": "schedule"}')], "enabled": True}


def test_websocket_api_routes_stages_and_deployment(deployed: Cloud) -> None:
    apis = deployed.apis.real
    assert apis.api_ids() == ["api0001"]
    live = apis.resolve("api0001", "dev")  # AutoDeploy serves the routes as they are
    pinned = apis.resolve("api0001", "pinned")  # the Deployment's snapshot
    assert live is not None and pinned is not None
    assert pinned.stage_variables == {"release": "first"}
    for key in ("$connect", "$disconnect", "$default", "joinroom"):
        assert live.route(key) is not None and pinned.route(key) is not None
    calls = [call[0] for call in deployed.apis.calls]
    # The deployment snapshots the routes, so it comes after all four.
    assert calls.index("create_deployment") > max(
        i for i, name in enumerate(calls) if name == "put_route")


def test_outputs_are_resolved_and_local(deployed: Cloud) -> None:
    outputs = deployed.deployer.outputs("game")
    port = deployed.settings.port
    assert outputs["WebSocketURL"] == f"ws://127.0.0.1:{port}/api0001/dev"
    assert outputs["ConnectionsURL"] == f"http://127.0.0.1:{port}/api0001/dev"
    assert outputs["Zones"] == "us-east-1a,us-east-1b,us-east-1c"
    assert outputs["Greeting"] == "aGVsbG8="
    assert deployed.deployer.stacks() == ["game"]


# -- redeploying ------------------------------------------------------------------------


def test_unchanged_redeploy_calls_nothing(deployed: Cloud, project: Path) -> None:
    before = deployed.calls()
    report = deployed.deployer.deploy(project / "full.yaml", stack_name="game")
    assert (report.created, report.updated, report.deleted) == ([], [], [])
    assert len(report.unchanged) == 33
    assert deployed.calls() == before


def test_editing_handler_code_redeploys_only_that_function(deployed: Cloud,
                                                            project: Path) -> None:
    before = deployed.calls()
    with (project / "src" / "game" / "app.py").open("a") as source:
        source.write("\n# a learner's edit\n")
    report = deployed.deployer.deploy(project / "full.yaml", stack_name="game")
    assert (report.created, report.updated, report.deleted) == ([], ["GameFunction"], [])
    assert deployed.runtime.calls[-1] == ("put_function", physical(deployed, "game",
                                                                    "GameFunction"))
    assert deployed.calls() == before + 1


def test_editing_the_state_machine_updates_it_in_place(deployed: Cloud, project: Path) -> None:
    arn = deployed.deployer.outputs("game")["StateMachineArn"]
    asl = project / "statemachines" / "flow.asl.json"
    definition = json.loads(asl.read_text())
    definition["Comment"] = "Edited by a learner"
    asl.write_text(json.dumps(definition))
    report = deployed.deployer.deploy(project / "full.yaml", stack_name="game")
    assert (report.created, report.updated, report.deleted) == ([], ["GameFlow"], [])
    machine = deployed.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    assert json.loads(machine["definition"])["Comment"] == "Edited by a learner"
    assert deployed.deployer.outputs("game")["StateMachineArn"] == arn


def test_email_subscriptions_are_recorded_with_one_warning(cloud: Cloud,
                                                           tmp_path: Path) -> None:
    path = write(tmp_path, """
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Protocol: email, Endpoint: winners@example.com}]
  Boss:
    Type: AWS::SNS::Subscription
    Properties: {TopicArn: !Ref Topic, Protocol: email, Endpoint: boss@example.com}
""")
    report = cloud.deployer.deploy(path)
    assert report.warnings == ["SNS email subscriptions are recorded, but the local cloud "
                               "sends no email; subscribe an SQS queue to see the messages"]
    topic = physical(cloud, "workshop", "Topic")
    found = cloud.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["Endpoint"] for s in found) == ["boss@example.com", "winners@example.com"]


def test_parameters_change_what_is_created(deployed: Cloud, project: Path) -> None:
    report = deployed.deployer.deploy(project / "full.yaml", stack_name="game",
                                      parameters={"StageName": "prod"})
    assert report.created == ["ProdAlarmsQueue"]
    assert "GameStage" in report.updated  # renamed stage: replaced
    served = deployed.apis.real.resolve("api0001", "prod")
    assert served is not None and served.route("$connect") is not None
    assert not deployed.apis.real.has_stage("api0001", "dev")
    config = deployed.runtime.functions[physical(deployed, "game", "GameFunction")]
    assert config.environment["ALARMS"].endswith("/" + physical(
        deployed, "game", "ProdAlarmsQueue").rsplit("/", 1)[-1])
    assert config.memory_size == 256
    assert deployed.deployer.outputs("game")["WebSocketURL"].endswith("/api0001/prod")


# -- a bad template changes nothing -----------------------------------------------------


BROKEN = [
    ("broken_yaml.yaml", "GameFunction", "YAML error"),
    ("broken_unknown_ref.yaml", "GameFunction", "Ref to 'PlayerTable'"),
    ("broken_codeuri.yaml", "GameFunction", "CodeUri folder src/no_such_folder/ does not exist"),
    ("broken_handler.yaml", "GameFunction", "defines no function 'on_message'"),
    ("broken_asl.yaml", "GameFlow", "not valid JSON"),
]


@pytest.mark.parametrize(("name", "resource", "problem"), BROKEN)
def test_broken_template_is_refused_and_the_cloud_is_untouched(
        deployed: Cloud, project: Path, name: str, resource: str, problem: str) -> None:
    table = deployed.deployer.outputs("game")["PlayersTableName"]
    deployed.client("dynamodb").put_item(TableName=table, Item={"playerId": {"S": "alice"}})
    described = deployed.deployer.describe("game")
    functions = dict(deployed.runtime.functions)
    before = deployed.calls()

    with pytest.raises(TemplateError) as caught:
        deployed.deployer.deploy(project / name, stack_name="game")
    message = str(caught.value)
    file = "broken.asl.json" if name == "broken_asl.yaml" else name
    assert file in message and f" {resource}" in message and problem in message

    assert deployed.calls() == before  # nothing was called: no put, no delete
    assert deployed.deployer.describe("game") == described
    assert deployed.runtime.functions == functions
    items = deployed.client("dynamodb").scan(TableName=table)["Items"]
    assert items == [{"playerId": {"S": "alice"}}]


def test_unknown_getatt_attribute_and_cycles_are_template_errors(cloud: Cloud,
                                                                 tmp_path: Path) -> None:
    bad_attribute = write(tmp_path, """
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {DisplayName: !GetAtt Queue.Url}
""")
    with pytest.raises(TemplateError, match=r"Topic: Fn::GetAtt Queue\.Url: AWS::SQS::Queue has "
                       r"no attribute 'Url' \(it has: Arn, QueueName, QueueUrl\)"):
        cloud.deployer.deploy(bad_attribute)
    cycle = write(tmp_path, """
Resources:
  A: {Type: AWS::SQS::Queue, DependsOn: B}
  B: {Type: AWS::SQS::Queue, DependsOn: A}
""")
    with pytest.raises(TemplateError, match="circular dependency between resources: A, B"):
        cloud.deployer.deploy(cycle)
    assert cloud.calls() == 0


# -- changes, replacements and deletes -------------------------------------------------

TABLE = """
Resources:
  Scores:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}{extra}]
      KeySchema: [{{AttributeName: {key}, KeyType: HASH}}]
{indexes}"""
GSI = """      GlobalSecondaryIndexes:
        - IndexName: byPlayer
          KeySchema: [{AttributeName: player, KeyType: HASH}]
          Projection: {ProjectionType: KEYS_ONLY}
"""


def test_adding_a_gsi_updates_the_table_in_place(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, TABLE.format(extra="", key="id", indexes=""))
    cloud.deployer.deploy(path)
    name = physical(cloud, "workshop", "Scores")
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=name, Item={"id": {"S": "1"}, "player": {"S": "bob"}})
    write(tmp_path, TABLE.format(extra=", {AttributeName: player, AttributeType: S}",
                                 key="id", indexes=GSI))
    report = cloud.deployer.deploy(path)
    assert (report.updated, report.warnings) == (["Scores"], [])
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["byPlayer"]
    assert dynamodb.scan(TableName=name)["Count"] == 1


def test_changing_the_key_schema_replaces_the_table_with_a_warning(cloud: Cloud,
                                                                   tmp_path: Path) -> None:
    path = write(tmp_path, TABLE.format(extra="", key="id", indexes=""))
    cloud.deployer.deploy(path)
    old = physical(cloud, "workshop", "Scores")
    write(tmp_path, TABLE.format(extra="", key="id", indexes="").replace(
        "AttributeName: id", "AttributeName: scoreId"))
    report = cloud.deployer.deploy(path)
    new = physical(cloud, "workshop", "Scores")
    assert report.updated == ["Scores"] and new != old
    assert any("its items are lost" in w for w in report.warnings)
    assert cloud.client("dynamodb").list_tables()["TableNames"] == [new]


def test_removed_resources_are_deleted_dependents_first(deployed: Cloud, project: Path) -> None:
    table = deployed.deployer.outputs("game")["PlayersTableName"]
    game = physical(deployed, "game", "GameFunction")
    statement = physical(deployed, "game", "GamePermission")
    small = write(project, """
Transform: AWS::Serverless-2016-10-31
Resources:
  PlayersTable:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: playerId, Type: String}
""", "small.yaml")
    report = deployed.deployer.deploy(small, stack_name="game")
    assert report.unchanged == ["PlayersTable"] and len(report.deleted) == 32
    assert deployed.runtime.functions == {}
    calls = deployed.runtime.calls
    assert calls.index(("remove_permission", game, statement)) < \
        calls.index(("delete_function", game))
    api_calls = [c[0] for c in deployed.apis.calls]
    assert api_calls.index("delete_api") == len(api_calls) - 1  # its parts went first
    assert deployed.scheduler.rules == {}
    assert deployed.client("dynamodb").list_tables()["TableNames"] == [table]
    assert deployed.client("sns").list_topics()["Topics"] == []
    assert deployed.client("stepfunctions").list_state_machines()["stateMachines"] == []
    assert deployed.client("s3").list_buckets()["Buckets"] == []


def test_delete_stack_removes_everything(deployed: Cloud) -> None:
    report = deployed.deployer.delete("game")
    assert len(report.deleted) == 33
    assert deployed.deployer.stacks() == []
    assert deployed.client("dynamodb").list_tables()["TableNames"] == []
    assert deployed.apis.real.api_ids() == []


def test_retained_resources_are_kept(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  Keep:\n    Type: AWS::SQS::Queue\n"
                 "    DeletionPolicy: Retain\n  Other:\n    Type: AWS::SQS::Queue\n")
    cloud.deployer.deploy(path)
    write(tmp_path, "Resources:\n  Other:\n    Type: AWS::SQS::Queue\n")
    report = cloud.deployer.deploy(path)
    assert report.deleted == ["Keep"]
    assert any("DeletionPolicy Retain" in w for w in report.warnings)
    assert len(cloud.client("sqs").list_queues()["QueueUrls"]) == 2


# -- what is not emulated ----------------------------------------------------------------


def test_unsupported_types_are_warned_about_and_skipped(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  HttpApi:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: http, ProtocolType: HTTP}
  HttpRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref HttpApi, RouteKey: GET /}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [{Key: vpc, Value: !Ref Vpc}]
Outputs:
  Url:
    Value: !GetAtt HttpApi.ApiEndpoint
""")
    report = cloud.deployer.deploy(path)
    assert report.created == ["Queue"]
    assert report.warnings == [
        "Vpc (AWS::EC2::VPC): not emulated by the local cloud; skipped",
        ("HttpApi (AWS::ApiGatewayV2::Api): ProtocolType HTTP: only WebSocket APIs are "
         "emulated; skipped"),
        ("HttpRoute (AWS::ApiGatewayV2::Route): it belongs to an API that is not emulated; "
         "skipped"),
    ]
    statuses = {r["logical_id"]: r["status"] for r in cloud.deployer.describe()["resources"]}
    assert statuses["Vpc"] == statuses["HttpRoute"] == "NOT_EMULATED"
    assert cloud.apis.calls == []
    again = cloud.deployer.deploy(path)  # the warnings come back, ids stay
    assert again.warnings == report.warnings and again.outputs == report.outputs


def test_inline_code_runs_and_other_runtimes_are_skipped(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n" + LAMBDA_ROLE_RESOURCE + """  Inline:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              return "inline"
  Node:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "exports.handler = async () => 1;"}
""")
    report = cloud.deployer.deploy(path, stack_name="inline")
    assert report.created == ["Role", "Inline"]
    assert report.warnings == [("Node (AWS::Lambda::Function): runtime nodejs20.x is not "
                                "emulated; the local cloud runs Python functions; skipped")]
    [config] = cloud.runtime.functions.values()
    assert config.name.startswith("inline-Inline-")
    assert "return \"inline\"" in (config.code_dir / "index.py").read_text()
    assert config.code_dir.is_relative_to(cloud.settings.home)


INLINE_FUNCTION = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: {runtime}
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/r
      Code: {{ZipFile: "def handler(event, context): pass"}}
      Environment: {{Variables: {{{variables}}}}}
"""


def test_lambda_rules_are_checked_when_planning(cloud: Cloud, tmp_path: Path) -> None:
    old = write(tmp_path, INLINE_FUNCTION.format(runtime="python3.9", variables="A: 1"))
    assert cloud.deployer.plan(old).warnings == [
        "Fn: runtime python3.9 is end-of-life on AWS Lambda, which refuses new functions on "
        "it; use python3.12 or newer"]
    reserved = write(tmp_path, INLINE_FUNCTION.format(runtime="python3.12",
                                                      variables="AWS_REGION: x"))
    with pytest.raises(TemplateError, match="Fn: environment variable.s. AWS_REGION are "
                       "reserved by Lambda"):
        cloud.deployer.plan(reserved)


def test_exports_can_be_imported_by_another_stack(deployed: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, """
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [{Key: url, Value: !ImportValue game-WebSocketURL}]
Outputs:
  Url:
    Value: !ImportValue game-WebSocketURL
""")
    report = deployed.deployer.deploy(path, stack_name="client")
    assert report.outputs["Url"] == deployed.deployer.outputs("game")["WebSocketURL"]
    assert deployed.deployer.stacks() == ["client", "game"]


def test_report_json_and_stack_name_check(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    data = cloud.deployer.deploy(path, stack_name="json").to_json()
    assert set(data) == {"stack_name", "created", "updated", "deleted", "unchanged",
                         "warnings", "outputs", "seconds"}
    json.dumps(data)
    with pytest.raises(DeployError, match="stack name"):
        cloud.deployer.deploy(path, stack_name="no spaces")
    cloud.deployer.reset()
    assert cloud.deployer.stacks() == []


def test_provider_refusal_names_the_resource(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, FAILING_API)
    with pytest.raises(ProvisionError, match="Nothing: .*At least one route is required") \
            as failure:
        cloud.deployer.deploy(path)
    # Rolled back as CloudFormation does: the API made before the failure is gone again.
    assert failure.value.rolled_back and failure.value.logical_id == "Nothing"
    assert cloud.apis.real.api_ids() == [] and cloud.deployer.stacks() == []
