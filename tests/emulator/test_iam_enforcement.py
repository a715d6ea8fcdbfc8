"""Checking a role's calls (workshop.emulator.iam_enforcement), with policies in memory."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from workshop.emulator import aws_managed_policies
from workshop.emulator.credentials import Identity
from workshop.emulator.iam_enforcement import IamEnforcer, Refusal, refusal_response
from workshop.emulator.iam_policy import Effect
from workshop.emulator.iam_requests import Access, Call, lambda_call, manage_connections_call
from workshop.emulator.settings import Settings, SettingsError

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/GameRole"
SESSION = Identity("ASIAEXAMPLE", f"arn:aws:sts::{ACCOUNT}:assumed-role/GameRole/play", ROLE)
ROOT = Identity("AKIAEXAMPLE", f"arn:aws:iam::{ACCOUNT}:root", None)
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Games"
PUT = Call("dynamodb", "PutItem", "json", (Access("dynamodb:PutItem", TABLE),))


class Policies:
    """Role policies in memory, counting how often they are read."""

    def __init__(self, *documents: Any, boundary: Any = None) -> None:
        self.by_role = {ROLE: list(documents)}
        self.boundaries = {ROLE: boundary}
        self.reads = 0

    def documents(self, role_arn: str) -> list[Any]:
        self.reads += 1
        return self.by_role.get(role_arn, [])

    def boundary(self, role_arn: str) -> Any:
        return self.boundaries.get(role_arn)


def allowing(action: str = "dynamodb:*", resource: str = TABLE) -> dict:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


def enforcer(policies: Policies, **settings: Any) -> IamEnforcer:
    return IamEnforcer(Settings(**settings), policies=policies)


def test_the_learners_own_credentials_have_full_access() -> None:
    assert enforcer(Policies()).refusal(ROOT, PUT) is None


def test_a_role_may_do_what_its_policies_allow_and_nothing_else() -> None:
    iam = enforcer(Policies(allowing()))
    assert iam.refusal(SESSION, PUT) is None
    other = Call("dynamodb", "PutItem", "json", (Access("dynamodb:PutItem", TABLE + "2"),))
    refusal = iam.refusal(SESSION, other)
    assert refusal is not None and refusal.effect is Effect.IMPLICIT_DENY
    assert refusal.message() == (
        f"User: {SESSION.arn} is not authorized to perform: dynamodb:PutItem on resource: "
        f"{TABLE}2 because no identity-based policy allows the dynamodb:PutItem action")


def test_every_access_of_a_call_must_be_allowed() -> None:
    iam = enforcer(Policies(allowing("dynamodb:PutItem")))
    transaction = Call("dynamodb", "TransactWriteItems", "json", (
        Access("dynamodb:PutItem", TABLE), Access("dynamodb:ConditionCheckItem", TABLE)))
    refusal = iam.refusal(SESSION, transaction)
    assert refusal is not None and refusal.access == transaction.accesses[1]


def test_iam_off_allows_everything() -> None:
    assert enforcer(Policies(), iam=False).refusal(SESSION, PUT) is None


def test_an_unknown_call_is_refused_with_a_reason() -> None:
    refusal = enforcer(Policies(allowing("*", "*"))).refusal(
        SESSION, Call("events", "PutRule", "json", known=False))
    assert refusal is not None
    assert "does not know which IAM action it is" in refusal.message()
    assert "--iam off" in refusal.message()


def test_decisions_are_kept_until_cleared() -> None:
    policies = Policies(allowing())
    iam = enforcer(policies)
    for _ in range(3):
        assert iam.refusal(SESSION, PUT) is None
    assert policies.reads == 1
    policies.by_role[ROLE] = []  # a redeploy took the policy away
    assert iam.refusal(SESSION, PUT) is None  # still the kept decision…
    iam.clear()
    assert iam.refusal(SESSION, PUT) is not None  # … until the deploy clears them


def test_decisions_that_read_a_condition_are_not_kept() -> None:
    conditional = allowing()
    conditional["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}
    policies = Policies(conditional)
    iam = enforcer(policies)
    assert iam.refusal(SESSION, PUT, source_ip="127.0.0.1") is None
    assert iam.refusal(SESSION, PUT, source_ip="127.0.0.2") is not None
    assert policies.reads == 2


def test_a_permissions_boundary_limits_what_the_policies_allow() -> None:
    iam = enforcer(Policies(allowing("*", "*"), boundary=allowing("dynamodb:GetItem")))
    refusal = iam.refusal(SESSION, PUT)
    assert refusal is not None and refusal.effect is Effect.IMPLICIT_DENY
    assert refusal.message().endswith(
        "because no permissions boundary allows the dynamodb:PutItem action")


def test_a_function_policy_naming_the_role_allows_invoke_unless_explicitly_denied() -> None:
    invoke = lambda_call("InvokeFunction", "play", region="us-east-1", account=ACCOUNT)
    iam = enforcer(Policies())
    assert iam.refusal(SESSION, invoke, resource_policy=lambda access: True) is None
    assert iam.refusal(SESSION, invoke, resource_policy=lambda access: False) is not None
    denying = {"Statement": [{"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}]}
    iam = enforcer(Policies(denying))
    refusal = iam.refusal(SESSION, invoke, resource_policy=lambda access: True)
    assert refusal is not None and refusal.effect is Effect.EXPLICIT_DENY


# -- refusals in each service's protocol, as botocore reads them --------------------------------

_SESSION = botocore.session.get_session()


def parsed(service: str, operation: str, refusal: Refusal) -> tuple[str, int, str]:
    response = refusal_response(refusal)
    model = _SESSION.get_service_model(service)
    parser = create_parser(model.protocol)
    headers = HeadersDict(dict(response.headers))  # case-insensitive, as botocore's are
    result = parser.parse({"status_code": response.status, "headers": headers,
                           "body": response.body},
                          model.operation_model(operation).output_shape)
    return result["Error"]["Code"], response.status, result["Error"]["Message"]


def refused(call: Call) -> Refusal:
    refusal = enforcer(Policies()).refusal(SESSION, call)
    assert refusal is not None
    return refusal


@pytest.mark.parametrize("service, operation, call, code, status", [
    ("dynamodb", "PutItem", PUT, "AccessDeniedException", 400),
    ("stepfunctions", "StartExecution", Call("states", "StartExecution", "json", (
        Access("states:StartExecution", "arn:aws:states:us-east-1:1:stateMachine:m"),)),
     "AccessDeniedException", 400),
    ("logs", "PutLogEvents", Call("logs", "PutLogEvents", "json", (
        Access("logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:g"),)),
     "AccessDeniedException", 400),
    ("sns", "Publish", Call("sns", "Publish", "query", (
        Access("sns:Publish", "arn:aws:sns:us-east-1:1:t"),)), "AuthorizationError", 403),
    ("sqs", "SendMessage", Call("sqs", "SendMessage", "json", (
        Access("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q"),)), "AccessDenied", 403),
    ("lambda", "Invoke", lambda_call("InvokeFunction", "play", region="us-east-1",
                                     account=ACCOUNT), "AccessDeniedException", 403),
    ("apigatewaymanagementapi", "PostToConnection", manage_connections_call(
        "POST", "api", "dev", "c1=", region="us-east-1", account=ACCOUNT),
     "AccessDeniedException", 403),
    ("s3", "GetObject", Call("s3", "GetObject", "rest-xml", (
        Access("s3:GetObject", "arn:aws:s3:::b/k"),)), "AccessDenied", 403),
])
def test_each_service_refuses_in_its_own_protocol(service: str, operation: str, call: Call,
                                                  code: str, status: int) -> None:
    refusal = refused(call)
    assert parsed(service, operation, refusal) == (code, status, refusal.message())


def test_sns_and_sqs_spell_the_action_as_they_do_on_aws() -> None:
    sns = refused(Call("sns", "Publish", "query", (Access("sns:Publish", "arn:t"),)))
    assert "perform: SNS:Publish on resource: arn:t because no identity-based policy " \
           "allows the SNS:Publish action" in sns.message()
    sqs = refused(Call("sqs", "SendMessageBatch", "json", (Access("sqs:SendMessage", "arn:q"),)))
    assert "perform: sqs:sendmessage on resource: arn:q" in sqs.message()


def test_api_gateway_words_its_implicit_denial_without_a_reason() -> None:
    message = refused(manage_connections_call("POST", "api", "dev", "c1=", region="us-east-1",
                                              account=ACCOUNT)).message()
    assert message == (f"User: {SESSION.arn} is not authorized to perform: "
                       "execute-api:ManageConnections on resource: "
                       f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api/dev/POST/@connections/c1=")


# -- AWS-managed policies --------------------------------------------------------------------------


def test_aws_managed_policy_documents_are_aws_own() -> None:
    basic = aws_managed_policies.policy_document(
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert basic is not None
    assert set(basic["Statement"][0]["Action"]) == {
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    # The path is part of the name: AWS has no arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole.
    assert aws_managed_policies.policy_document(
        "arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole") is None
    assert aws_managed_policies.policy_document("arn:aws:iam::aws:policy/NoSuchPolicy") is None


# -- the switch ------------------------------------------------------------------------------------


def test_iam_is_on_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKSHOP_IAM", raising=False)
    assert Settings.from_env().iam is True
    assert Settings.from_env(iam=False).iam is False
    monkeypatch.setenv("WORKSHOP_IAM", "off")
    assert Settings.from_env().iam is False
    assert Settings.from_env(iam=True).iam is True  # the flag wins over the variable


def test_a_bad_switch_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_IAM", "maybe")
    with pytest.raises(SettingsError, match="^WORKSHOP_IAM takes on or off, not 'maybe'$"):
        Settings.from_env()
