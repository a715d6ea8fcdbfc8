"""Lab 1's exercises: a WebSocket API whose stage, routes and permission the learner writes.

The checks connect to the learner's API the way a game client does and read what
API Gateway and the function did: the handshake's status, the replies, the log lines.
"""

from __future__ import annotations

import json
import secrets
import time

import websocket

from ..notebook import tables
from ..notebook.checks import Check, eventually, handshake_status, verdict
from .catalog import Exercise
from .runner import Deployment

__all__ = ["EXERCISES"]

_STATUS_MEANING = {
    403: "403 Forbidden: the stage has no deployment (exercise 1.1; and API Gateway cannot "
         "deploy an API that has no routes yet, exercise 1.2)",
    500: "500 Internal Server Error: API Gateway may not invoke the $connect function "
         "(exercise 1.3)",
}


def _main_server(deployment: Deployment) -> str:
    return deployment.output("MainServerFunctionName")


def _handler_lines(function_name: str, text: str, since_ms: int, *,
                   timeout: float = 5.0) -> list[str]:
    def found() -> list[str]:
        return [event["message"] for event in tables.log_events(function_name, since_ms=since_ms)
                if text in event["message"]]
    return eventually(found, timeout=timeout)


def _blocked(status: int, *, on_500: str = "") -> Check | None:
    """A failing verdict when the handshake cannot get as far as a check needs (101)."""
    if status == 101:
        return None
    if status == 500 and on_500:
        return verdict(False, "", f"connecting answered 500: {on_500}")
    said = _STATUS_MEANING.get(status, f"HTTP {status}")
    return verdict(False, "", f"connecting answered {said}; that has to work first")


def stage_deployed(deployment: Deployment) -> Check:
    status = handshake_status(deployment.url)
    return verdict(status != 403,
                   f"the stage is deployed: the handshake got past it (answered {status})",
                   "connecting answered 403 Forbidden: the stage has no deployment. "
                   "Look at the Stage resource in your template.yaml")


def routes(deployment: Deployment) -> Check:
    started = tables.now_ms()
    blocked = _blocked(handshake_status(deployment.url),
                       on_500="your $connect route exists but API Gateway may not invoke its "
                              "function yet: do exercise 1.3, then check 1.2 again")
    if blocked is not None:
        return blocked
    socket = websocket.create_connection(deployment.url + "?user_id=check-routes", timeout=10)
    try:
        socket.send(json.dumps({"action": "check-your-routes"}))
        reply = json.loads(socket.recv())
    finally:
        socket.close()
    function = _main_server(deployment)
    if reply.get("action") != "error":
        return verdict(False, "", f"a message with an unknown action got {reply} from API "
                                  "Gateway itself, so no route took it: is there a $default "
                                  "route whose Target is your integration?")
    if not _handler_lines(function, "connect user_id=", started):
        return verdict(False, "", f"{function} never ran for the new connection: is there a "
                                  "$connect route whose Target is your integration?")
    if not _handler_lines(function, "disconnect connection_id=", started):
        return verdict(False, "", f"{function} never ran after the socket closed: is there "
                                  "a $disconnect route whose Target is your integration?")
    return verdict(True, "$connect, $default and $disconnect all reach MainServerFunction", "")


def permission(deployment: Deployment) -> Check:
    started = tables.now_ms()
    blocked = _blocked(handshake_status(deployment.url),
                       on_500="API Gateway may not invoke MainServerFunction. Its log is empty, "
                              "because the function never ran; API Gateway's execution log "
                              "says 'Invalid permissions on Lambda function'")
    if blocked is not None:
        return blocked
    if not _handler_lines(_main_server(deployment), "connect user_id=", started):
        return verdict(False, "", "the connection opened, but MainServerFunction never ran: "
                                  "with no $connect route there is nothing to permit yet "
                                  "(exercise 1.2)")
    return verdict(True, "API Gateway invokes MainServerFunction: the handshake opened (101)",
                   "")


def connect_user_id(deployment: Deployment) -> Check:
    function, started = _main_server(deployment), tables.now_ms()
    user_id = f"learner-{secrets.token_hex(3)}"
    status = handshake_status(deployment.url, user_id=user_id)
    blocked = _blocked(status)
    if blocked is not None:
        return verdict(False, "", f"connecting with ?user_id={user_id} answered {status}; "
                                  f"{blocked.message}")
    if not _handler_lines(function, f"connect user_id={user_id} ", started):
        seen = _handler_lines(function, "connect user_id=", started, timeout=0.5)
        return verdict(False, "", f"connected with ?user_id={user_id}, but the function "
                                  f"logged {seen[-1].strip() if seen else 'no connect line'}: "
                                  "read user_id from event['queryStringParameters']")
    guests_before = time.time()
    if handshake_status(deployment.url, user_id=None) != 101:
        return verdict(False, "", "connecting without ?user_id= was refused: a player without "
                                  "an id should get a guest id, not a refusal")
    guest = _handler_lines(function, "connect user_id=guest-", int(guests_before * 1000))
    if not guest:
        return verdict(False, "", "connecting without ?user_id= logged no 'user_id=guest-…': "
                                  "queryStringParameters is None then; make up a guest id")
    too_long = handshake_status(deployment.url, user_id="x" * 65)
    if too_long != 400:
        return verdict(False, "", f"a 65-character user_id was answered {too_long}, not 400: "
                                  "return {'statusCode': 400, ...} to refuse the handshake")
    return verdict(True, f"$connect took {user_id} from the query string, made a guest id "
                         "without one, and refused a 65-character id with 400", "")


EXERCISES = [
    Exercise(
        "1.1", "Deploy the stage",
        "Connecting to a stage that has never been deployed answers 403. In your "
        "`template.yaml`, make the `Stage` deploy every change of the API to itself.",
        "A stage serves a *deployment* of the API. `AutoDeploy: true` on the "
        "`AWS::ApiGatewayV2::Stage` makes API Gateway create one on every change.",
        stage_deployed),
    Exercise(
        "1.2", "The integration and the three routes",
        "Write `MainServerIntegration` (an `AWS_PROXY` integration calling "
        "`MainServerFunction`) and the routes `$connect`, `$disconnect` and `$default` "
        "that target it.",
        "An `AWS::ApiGatewayV2::Integration` has `IntegrationType: AWS_PROXY` and an "
        "`IntegrationUri` of the form `arn:${AWS::Partition}:apigateway:${AWS::Region}:"
        "lambda:path/2015-03-31/functions/${MainServerFunction.Arn}/invocations`. Each "
        "`AWS::ApiGatewayV2::Route` has `ApiId`, `RouteKey` and `Target: !Sub "
        "integrations/${MainServerIntegration}`.",
        routes),
    Exercise(
        "1.3", "Let API Gateway invoke the function",
        "Every connection now answers 500. Write `MainServerPermission`, the resource "
        "policy that lets API Gateway invoke `MainServerFunction`.",
        "An `AWS::Lambda::Permission` with `Action: lambda:InvokeFunction`, "
        "`Principal: apigateway.amazonaws.com`, `FunctionName: !Ref MainServerFunction` and "
        "a `SourceArn` of `arn:${AWS::Partition}:execute-api:${AWS::Region}:"
        "${AWS::AccountId}:${MainEntry}/*`.",
        permission),
    Exercise(
        "1.4", "Who is connecting?",
        "In `main_server/app.py`, `connect` must take the player's id from `?user_id=`, "
        "make up a guest id when there is none, and refuse an id longer than "
        "`MAX_USER_ID_LENGTH` with status 400.",
        "`event.get('queryStringParameters')` is a dict, or None when the URL has no query. "
        "`secrets.token_hex(6)` makes a guest id; returning `{'statusCode': 400, 'body': "
        "...}` from `$connect` refuses the handshake.",
        connect_user_id),
]
