"""The pure model of API Gateway WebSocket APIs: route selection, deployments, validation."""

from __future__ import annotations

import threading

import pytest

from workshop.emulator.websocket_api import (
    BadRequest,
    Conflict,
    NotFound,
    RouteTable,
    WebSocketApis,
    evaluate_selection_expression,
    function_name_from_uri,
    policy_allows,
    select_route,
)

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:GameServer"
CHINA_URI = ("arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/"
             "arn:aws-cn:lambda:cn-north-1:123456789012:function:Lottery/invocations")
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"


def api_with_routes(*route_keys: str, expression: str = "$request.body.action") -> WebSocketApis:
    apis = WebSocketApis()
    apis.put_api("api1", name="game", route_selection_expression=expression)
    apis.put_integration("api1", "int1", integration_type="AWS_PROXY", integration_uri=URI)
    for number, key in enumerate(route_keys):
        apis.put_route("api1", f"route{number}", route_key=key, target="integrations/int1")
    apis.put_stage("api1", "dev", auto_deploy=True)
    return apis


def table_of(*route_keys: str, expression: str = "$request.body.action") -> RouteTable:
    table = api_with_routes(*route_keys, expression=expression).resolve("api1", "dev")
    assert table is not None
    return table


# -- route selection -------------------------------------------------------------------


@pytest.mark.parametrize(("body", "expected"), [
    ('{"action": "joinroom"}', "joinroom"),
    ('{"action": "dance"}', "$default"),          # no such route
    ('{"data": 1}', "$default"),                  # no action key
    ("not json at all", "$default"),
    ('["joinroom"]', "$default"),                 # JSON, but not an object
    ('"joinroom"', "$default"),
    ("", "$default"),
    ('{"action": "$connect"}', "$default"),       # lifecycle routes are never selected
    ('{"action": "$disconnect"}', "$default"),
    ('{"action": "JoinRoom"}', "$default"),       # route keys are case-sensitive
])
def test_select_route_falls_back_to_default(body: str, expected: str) -> None:
    table = table_of("$connect", "$disconnect", "$default", "joinroom")
    assert select_route(table, body) == expected


def test_select_route_without_default_is_none() -> None:
    table = table_of("joinroom")
    assert select_route(table, '{"action": "joinroom"}') == "joinroom"
    assert select_route(table, '{"action": "dance"}') is None
    assert select_route(table, "not json") is None


def test_registry_exposes_select_route() -> None:
    table = table_of("joinroom")
    assert WebSocketApis.select_route(table, '{"action": "joinroom"}') == "joinroom"


def test_nested_paths_and_non_string_values_are_stringified() -> None:
    table = table_of("$default", "move", "7", "true",
                     expression="$request.body.game.op")
    assert select_route(table, '{"game": {"op": "move"}}') == "move"
    assert select_route(table, '{"game": {"op": 7}}') == "7"
    assert select_route(table, '{"game": {"op": true}}') == "true"
    assert select_route(table, '{"game": "flat"}') == "$default"


@pytest.mark.parametrize(("expression", "expected"), [
    # The examples of the AWS guide, for {"service": "chat", "action": "join", ...}.
    ("$request.body.action", "join"),
    ("${request.body.action}", "join"),
    ("${request.body.service}/${request.body.action}", "chat/join"),
    ("${request.body.action}-${request.body.invalidPath}", "join-"),
    ("action", "action"),
    ("\\$default", "$default"),
    ("${request.body.data.room}", "room1234"),
    ("${request.body.tags}", "[a, b]"),
])
def test_selection_expressions_as_documented(expression: str, expected: str) -> None:
    body = '{"service": "chat", "action": "join", "data": {"room": "room1234"}, "tags": ["a", "b"]}'
    assert evaluate_selection_expression(expression, body) == expected


def test_expression_on_a_body_that_is_not_json_cannot_be_evaluated() -> None:
    assert evaluate_selection_expression("$request.body.action", "hello") is None
    assert evaluate_selection_expression("static", "hello") == "static"


@pytest.mark.parametrize("body", [
    '{"action": "join", "x": ' + "[" * 20000 + "]" * 20000 + "}",  # deeper than json parses
    '{"action": ' + "[" * 990 + "]" * 990 + "}",  # parses, too deep to render
])
def test_a_body_nested_too_deeply_cannot_be_evaluated(body: str) -> None:
    # A RecursionError here once escaped the gateway's message task: the client heard nothing.
    assert evaluate_selection_expression("$request.body.action", body) is None


def test_only_body_expressions_are_accepted() -> None:
    apis = WebSocketApis()
    with pytest.raises(BadRequest):
        apis.put_api("api1", name="game", route_selection_expression="$request.header.x")
    with pytest.raises(BadRequest):
        apis.put_api("api1", name="game", route_selection_expression="")


# -- deployments and stages --------------------------------------------------------------


def test_a_stage_never_deployed_serves_nothing() -> None:
    apis = api_with_routes("$default")
    apis.put_stage("api1", "prod")
    assert apis.resolve("api1", "prod") is None
    assert apis.resolve("api1", "nope") is None
    assert apis.resolve("nope", "dev") is None


def test_a_deployment_is_a_snapshot() -> None:
    apis = api_with_routes("$default")
    apis.create_deployment("api1", "dep1")
    apis.put_stage("api1", "prod", deployment_id="dep1")
    apis.put_route("api1", "later", route_key="joinroom", target="integrations/int1")

    deployed = apis.resolve("api1", "prod")
    assert deployed is not None and set(deployed.routes) == {"$default"}
    live = apis.resolve("api1", "dev")  # auto-deploy: the API as it is now
    assert live is not None and set(live.routes) == {"$default", "joinroom"}

    apis.create_deployment("api1", "dep2", stage_name="prod")
    redeployed = apis.resolve("api1", "prod")
    assert redeployed is not None and set(redeployed.routes) == {"$default", "joinroom"}


def test_a_snapshot_keeps_the_integration_it_was_deployed_with() -> None:
    apis = api_with_routes("$default")
    apis.create_deployment("api1", "dep1")
    apis.put_stage("api1", "prod", deployment_id="dep1")
    other = URI.replace("GameServer", "Other")
    apis.put_integration("api1", "int1", integration_type="AWS_PROXY", integration_uri=other)

    prod, dev = apis.resolve("api1", "prod"), apis.resolve("api1", "dev")
    assert prod is not None and dev is not None
    assert prod.routes["$default"].integration.function_name == "GameServer"
    assert dev.routes["$default"].integration.function_name == "Other"


def test_auto_deploy_with_no_routes_has_nothing_to_serve() -> None:
    apis = WebSocketApis()
    apis.put_api("api1", name="game")
    apis.put_stage("api1", "dev", auto_deploy=True)
    assert apis.resolve("api1", "dev") is None


def test_deploying_needs_a_route_and_an_existing_stage() -> None:
    apis = WebSocketApis()
    apis.put_api("api1", name="game")
    with pytest.raises(BadRequest, match="At least one route"):
        apis.create_deployment("api1", "dep1")
    apis.put_route("api1", "r1", route_key="$default")
    with pytest.raises(NotFound):
        apis.create_deployment("api1", "dep1", stage_name="missing")
    with pytest.raises(NotFound):
        apis.put_stage("api1", "dev", deployment_id="missing")


def test_updating_a_stage_without_a_deployment_keeps_its_deployment() -> None:
    apis = api_with_routes("$default")
    apis.put_stage("api1", "prod")
    apis.create_deployment("api1", "dep1", stage_name="prod")
    apis.put_stage("api1", "prod", stage_variables={"table": "Players"})
    table = apis.resolve("api1", "prod")
    assert table is not None and dict(table.stage_variables) == {"table": "Players"}


def test_a_deployment_in_use_cannot_be_deleted() -> None:
    apis = api_with_routes("$default")
    apis.create_deployment("api1", "dep1")
    apis.put_stage("api1", "prod", deployment_id="dep1")
    with pytest.raises(BadRequest):
        apis.delete_deployment("api1", "dep1")
    apis.delete_stage("api1", "prod")
    apis.delete_deployment("api1", "dep1")
    with pytest.raises(NotFound):
        apis.delete_deployment("api1", "dep1")


# -- routes, route responses, authorizers ---------------------------------------------------


def test_route_responses_make_a_route_two_way() -> None:
    apis = api_with_routes("$default", "echo")
    apis.put_route_response("api1", "rr1", route_id="route1", route_response_key="$default")
    table = apis.resolve("api1", "dev")
    assert table is not None
    assert table.routes["echo"].two_way and not table.routes["$default"].two_way
    apis.delete_route("api1", "route1")  # takes its route responses with it
    apis.put_route("api1", "route1", route_key="echo", target="integrations/int1")
    table = apis.resolve("api1", "dev")
    assert table is not None and not table.routes["echo"].two_way


def test_route_response_rules() -> None:
    apis = api_with_routes("echo")
    with pytest.raises(BadRequest):
        apis.put_route_response("api1", "rr1", route_id="route0", route_response_key="other")
    with pytest.raises(NotFound):
        apis.put_route_response("api1", "rr1", route_id="nope", route_response_key="$default")


def test_route_validation() -> None:
    apis = api_with_routes("joinroom")
    with pytest.raises(Conflict):
        apis.put_route("api1", "another", route_key="joinroom")
    apis.put_route("api1", "route0", route_key="joinroom", target=None)  # same id: replaces
    with pytest.raises(BadRequest):
        apis.put_route("api1", "r2", route_key="x", target="lambda/abc")
    with pytest.raises(BadRequest):  # WebSocket APIs authorize on $connect only
        apis.put_route("api1", "r3", route_key="x", authorization_type="CUSTOM",
                       authorizer_id="auth1")
    with pytest.raises(BadRequest):
        apis.put_route("api1", "r4", route_key="$connect", authorization_type="CUSTOM")
    with pytest.raises(NotFound):
        apis.put_route("nope", "r5", route_key="x")


def test_integration_validation() -> None:
    apis = api_with_routes()
    with pytest.raises(BadRequest):
        apis.put_integration("api1", "i", integration_type="LAMBDA", integration_uri=URI)
    with pytest.raises(BadRequest):
        apis.put_integration("api1", "i", integration_type="AWS_PROXY")
    with pytest.raises(BadRequest):
        apis.put_integration("api1", "i", integration_type="AWS_PROXY", integration_uri=URI,
                             timeout_ms=30_000)
    apis.put_integration("api1", "i", integration_type="MOCK")


def test_authorizers_are_resolved_on_connect() -> None:
    apis = api_with_routes("$default")
    apis.put_authorizer("api1", "auth1", authorizer_type="REQUEST", authorizer_uri=URI,
                        identity_source=["route.request.header.Authorization"])
    apis.put_route("api1", "connect", route_key="$connect", target="integrations/int1",
                   authorization_type="CUSTOM", authorizer_id="auth1")
    table = apis.resolve("api1", "dev")
    assert table is not None
    connect = table.routes["$connect"]
    assert connect.authorizer is not None
    assert connect.authorizer.function_name == "GameServer"
    assert connect.authorizer.identity_source == ("route.request.header.Authorization",)
    with pytest.raises(BadRequest):
        apis.put_authorizer("api1", "a2", authorizer_type="JWT", authorizer_uri=URI,
                            identity_source=[])


def test_deleting_what_does_not_exist_is_not_found() -> None:
    apis = api_with_routes("$default")
    for delete in (apis.delete_route, apis.delete_integration, apis.delete_route_response,
                   apis.delete_authorizer, apis.delete_stage, apis.delete_deployment):
        with pytest.raises(NotFound):
            delete("api1", "missing")
    apis.delete_api("api1")
    assert not apis.has_api("api1")
    with pytest.raises(NotFound):
        apis.delete_api("api1")


def test_put_api_again_keeps_resources_and_reset_clears_all() -> None:
    apis = api_with_routes("$default")
    apis.put_api("api1", name="renamed", route_selection_expression="$request.body.op")
    table = apis.resolve("api1", "dev")
    assert table is not None and table.route_selection_expression == "$request.body.op"
    assert "$default" in table.routes
    apis.reset()
    assert not apis.has_api("api1") and apis.api_ids() == []


def test_mutations_from_many_threads_are_not_lost() -> None:
    apis = api_with_routes()

    def add_routes(worker: int) -> None:
        for n in range(50):
            apis.put_route("api1", f"w{worker}-{n}", route_key=f"k{worker}-{n}")

    threads = [threading.Thread(target=add_routes, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table = apis.resolve("api1", "dev")
    assert table is not None and len(table.routes) == 400


# -- helpers the gateway relies on ------------------------------------------------------


@pytest.mark.parametrize(("uri", "name"), [
    (URI, "GameServer"),
    (FUNCTION_ARN, "GameServer"),
    (URI.replace("GameServer", "GameServer:live"), "GameServer"),
    (CHINA_URI, "Lottery"),
    ("https://example.com/hook", None),
    (None, None),
])
def test_function_name_from_uri(uri: str | None, name: str | None) -> None:
    assert function_name_from_uri(uri) == name


METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:api1/dev/$connect"


def statement(effect: str, resource: str, action: str = "execute-api:Invoke") -> dict:
    return {"Effect": effect, "Action": action, "Resource": resource}


@pytest.mark.parametrize(("statements", "allowed"), [
    ([statement("Allow", METHOD_ARN)], True),
    ([statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:api1/*")], True),
    ([statement("Allow", "*", action="execute-api:*")], True),
    ([statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:other/*")], False),
    ([statement("Allow", METHOD_ARN, action="s3:GetObject")], False),
    ([statement("Deny", METHOD_ARN)], False),
    ([statement("Allow", "*"), statement("Deny", METHOD_ARN)], False),  # Deny wins
    ([], False),
])
def test_policy_allows(statements: list[dict], allowed: bool) -> None:
    policy = {"Version": "2012-10-17", "Statement": statements}
    assert policy_allows(policy, METHOD_ARN) is allowed
    assert policy_allows(None, METHOD_ARN) is False
