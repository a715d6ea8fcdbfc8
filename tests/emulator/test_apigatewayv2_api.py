"""The API Gateway V2 reads show the gateway's real state, through boto3 as on AWS."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from workshop import cloud as lifecycle

ECHO = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml"
TEMPLATE_ROUTES = {"$connect", "$disconnect", "$default", "echo", "shout"}


@pytest.fixture(scope="module")
def deployed(cloud: dict) -> dict[str, str]:
    outputs = lifecycle.deploy(ECHO, stack_name="v2-reads")["outputs"]
    return {**outputs, "ApiId": outputs["WebSocketURL"].split("/")[3]}


@pytest.fixture(scope="module")
def v2(cloud: dict):
    return boto3.client("apigatewayv2", config=Config(retries={"max_attempts": 0}))


def error_of(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_get_routes_lists_the_templates_routes(v2, deployed) -> None:
    routes = v2.get_routes(ApiId=deployed["ApiId"])["Items"]
    assert {route["RouteKey"] for route in routes} == TEMPLATE_ROUTES
    integrations = v2.get_integrations(ApiId=deployed["ApiId"])["Items"]
    (integration,) = integrations
    assert all(route["Target"] == f"integrations/{integration['IntegrationId']}"
               for route in routes)
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"].endswith(
        f":function:{deployed['EchoFunctionName']}/invocations")
    route = v2.get_route(ApiId=deployed["ApiId"], RouteId=routes[0]["RouteId"])
    assert route["RouteKey"] == routes[0]["RouteKey"]


def test_get_api_endpoint_is_the_local_url_the_outputs_use(v2, deployed) -> None:
    api = v2.get_api(ApiId=deployed["ApiId"])
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    assert deployed["WebSocketURL"] == f"{api['ApiEndpoint']}/dev"
    assert deployed["ApiId"] in [item["ApiId"] for item in v2.get_apis()["Items"]]


def test_stages_show_auto_deploy(v2, deployed) -> None:
    (stage,) = v2.get_stages(ApiId=deployed["ApiId"])["Items"]
    assert stage["StageName"] == "dev" and stage["AutoDeploy"] is True
    assert v2.get_stage(ApiId=deployed["ApiId"], StageName="dev")["StageName"] == "dev"
    assert v2.get_deployments(ApiId=deployed["ApiId"])["Items"] == []


def test_routes_page_with_next_token(v2, deployed) -> None:
    keys = []
    for page in v2.get_paginator("get_routes").paginate(
            ApiId=deployed["ApiId"], PaginationConfig={"PageSize": 2}):
        assert len(page["Items"]) <= 2
        keys += [route["RouteKey"] for route in page["Items"]]
    assert sorted(keys) == sorted(TEMPLATE_ROUTES)


def test_unknown_ids_are_not_found_in_api_gateways_words(v2, deployed) -> None:
    code, message = error_of(v2.get_routes, ApiId="nosuchapi0")
    assert code == "NotFoundException"
    account = boto3.client("sts").get_caller_identity()["Account"]
    assert message == f"Invalid API identifier specified {account}:nosuchapi0"
    assert error_of(v2.get_route, ApiId=deployed["ApiId"], RouteId="nope123")[0] == \
        "NotFoundException"
    assert error_of(v2.get_stage, ApiId=deployed["ApiId"], StageName="prod")[0] == \
        "NotFoundException"


def test_writes_say_that_templates_change_apis(v2, deployed) -> None:
    code, message = error_of(v2.create_route, ApiId=deployed["ApiId"], RouteKey="new")
    assert code == "BadRequestException"
    assert message.startswith("CreateRoute is not supported by the local cloud")
    assert "template" in message
    routes = v2.get_routes(ApiId=deployed["ApiId"])["Items"]
    assert {route["RouteKey"] for route in routes} == TEMPLATE_ROUTES
