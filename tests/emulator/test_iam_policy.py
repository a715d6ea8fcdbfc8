"""IAM policy evaluation (workshop.emulator.iam_policy), against IAM's documented rules."""

from __future__ import annotations

import json

import pytest

from workshop.emulator.iam_policy import (
    Effect,
    action_matches,
    arn_like,
    evaluate,
    resource_matches,
)

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/Games"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: object = "dynamodb:*", resource: object = TABLE, **more: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(action: object = "dynamodb:*", resource: object = TABLE, **more: object) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def decide(*documents: object, action: str = "dynamodb:PutItem", resource: str = TABLE,
           context: dict | None = None) -> Effect:
    return evaluate(documents, action=action, resource=resource, context=context).effect


# -- the order of evaluation ------------------------------------------------------------------


def test_nothing_allows_means_an_implicit_deny() -> None:
    assert decide() is Effect.IMPLICIT_DENY
    assert decide(policy(allow(resource=TABLE + "2"))) is Effect.IMPLICIT_DENY


def test_an_allow_allows() -> None:
    assert decide(policy(allow())) is Effect.ALLOW


def test_an_explicit_deny_wins_whatever_the_order() -> None:
    assert decide(policy(allow(), deny("dynamodb:PutItem"))) is Effect.EXPLICIT_DENY
    assert decide(policy(deny("dynamodb:PutItem")), policy(allow())) is Effect.EXPLICIT_DENY
    assert decide(policy(allow()), policy(deny("dynamodb:PutItem"))) is Effect.EXPLICIT_DENY


def test_documents_may_be_json_text_and_a_single_statement_object() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": allow()})
    assert decide(text) is Effect.ALLOW


def test_malformed_documents_and_statements_allow_nothing() -> None:
    decision = evaluate(["{not json", policy({"Action": "*", "Resource": "*"}),
                         policy({"Effect": "Allow", "Action": "*"})],
                        action="dynamodb:PutItem", resource=TABLE)
    assert decision.effect is Effect.IMPLICIT_DENY
    assert len(decision.notes) == 3


# -- Action and Resource ---------------------------------------------------------------------


def test_actions_match_case_insensitively_with_wildcards() -> None:
    assert action_matches("dynamodb:putitem", "dynamodb:PutItem")
    assert action_matches("DynamoDB:Put*", "dynamodb:PutItem")
    assert action_matches("dynamodb:?etItem", "dynamodb:GetItem")
    assert action_matches("*", "sns:Publish")
    assert not action_matches("dynamodb:Get*", "dynamodb:PutItem")
    assert not action_matches("dynamodb:Put", "dynamodb:PutItem")


def test_resources_match_case_sensitively() -> None:
    assert resource_matches(TABLE, TABLE)
    assert not resource_matches(TABLE.lower(), TABLE)


def test_resource_wildcards_stay_in_their_segment_unless_they_end_it() -> None:
    # "If the * wildcard is the last character of a resource ARN segment, it can expand
    # to match beyond the colon boundaries."
    assert resource_matches("arn:aws:dynamodb:*", TABLE)
    assert resource_matches("arn:aws:dynamodb:*:*:table/*", TABLE)
    assert resource_matches("arn:aws:dynamodb:us-east-?:123456789012:table/G*s", TABLE)
    assert not resource_matches("arn:aws:dyn*db:us-east-1:1:table/T",
                                "arn:aws:dyn:x:db:us-east-1:1:table/T")
    assert resource_matches("*", TABLE)
    assert resource_matches(f"{TABLE}/index/*", f"{TABLE}/index/byUser")
    assert not resource_matches(TABLE, f"{TABLE}/index/byUser")


def test_brackets_and_dots_are_plain_characters() -> None:
    # fnmatch would read [abc] as a character class, a regular expression "." as any.
    assert resource_matches("arn:aws:sns:us-east-1:1:[a]", "arn:aws:sns:us-east-1:1:[a]")
    assert not resource_matches("arn:aws:sns:us-east-1:1:[a]", "arn:aws:sns:us-east-1:1:a")
    assert not resource_matches("arn:aws:sns:us-east-1:1:a.c", "arn:aws:sns:us-east-1:1:abc")
    assert action_matches("execute-api:Invoke", "execute-api:Invoke")
    assert not action_matches("execute-api:[I]nvoke", "execute-api:Invoke")


def test_not_action_and_not_resource_cover_everything_else() -> None:
    everything_but_delete = {"Effect": "Allow", "NotAction": "dynamodb:DeleteItem",
                             "Resource": "*"}
    assert decide(policy(everything_but_delete)) is Effect.ALLOW
    assert decide(policy(everything_but_delete), action="dynamodb:DeleteItem") \
        is Effect.IMPLICIT_DENY
    other_tables = {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": TABLE}
    assert decide(policy(allow(resource="*"), other_tables)) is Effect.ALLOW
    assert decide(policy(allow(resource="*"), other_tables), resource=TABLE + "2") \
        is Effect.EXPLICIT_DENY


def test_lists_of_actions_and_resources() -> None:
    statement = allow(["sns:Publish", "dynamodb:PutItem"], [TABLE + "2", TABLE])
    assert decide(policy(statement)) is Effect.ALLOW


def test_policy_variables_in_2012_10_17_only() -> None:
    mine = allow(resource="arn:aws:dynamodb:us-east-1:123456789012:table/${aws:username}")
    assert decide(policy(mine), context={"aws:username": "Games"}) is Effect.ALLOW
    assert decide(policy(mine)) is Effect.IMPLICIT_DENY  # absent: the element matches nothing
    old = {"Version": "2008-10-17", "Statement": [mine]}
    assert decide(old, context={"aws:username": "Games"}) is Effect.IMPLICIT_DENY
    literal = allow(resource="arn:aws:sns:us-east-1:1:a${*}")
    assert decide(policy(literal), resource="arn:aws:sns:us-east-1:1:a*") is Effect.ALLOW
    assert decide(policy(literal), resource="arn:aws:sns:us-east-1:1:ab") is Effect.IMPLICIT_DENY


# -- conditions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("condition, context, applies", [
    ({"StringEquals": {"aws:PrincipalAccount": "123456789012"}},
     {"aws:PrincipalAccount": "123456789012"}, True),
    ({"StringEquals": {"aws:principalaccount": ["1", "123456789012"]}},
     {"aws:PrincipalAccount": "123456789012"}, True),  # keys are case-insensitive
    ({"StringEquals": {"aws:PrincipalAccount": "1"}}, {"aws:PrincipalAccount": "2"}, False),
    ({"StringEquals": {"aws:PrincipalAccount": "1"}}, {}, False),  # absent: false
    ({"StringNotEquals": {"aws:PrincipalAccount": "1"}}, {}, True),  # negated, absent: true
    ({"StringEqualsIfExists": {"aws:PrincipalAccount": "1"}}, {}, True),
    ({"StringLike": {"aws:userid": "AROA*:lambda-?"}}, {"aws:userid": "AROAX:lambda-1"}, True),
    ({"StringNotLike": {"aws:userid": "AROA*"}}, {"aws:userid": "AROAX"}, False),
    ({"StringEqualsIgnoreCase": {"k": "ABC"}}, {"k": "abc"}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:execute-api:*:*:api/*"}},
     {"aws:SourceArn": "arn:aws:execute-api:us-east-1:1:api/dev/$connect"}, True),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:1:t"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:2:t"}, False),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, True),
    ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "false"}, False),
    ({"NumericLessThan": {"n": "10"}}, {"n": "9"}, True),
    ({"NumericGreaterThanEquals": {"n": 10}}, {"n": "9"}, False),
    ({"NumericEquals": {"n": "ten"}}, {"n": "10"}, False),  # not a number: no match
    ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
     {"aws:CurrentTime": "2026-12-05T10:00:00Z"}, True),
    ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {"aws:SourceIp": "127.0.0.1"}, True),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "127.0.0.1"}, True),
    ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    ({"Null": {"aws:TokenIssueTime": "false"}}, {}, False),
    ({"ForAnyValue:StringEquals": {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}},
     {"dynamodb:EnclosingOperation": "TransactWriteItems"}, True),
    ({"ForAnyValue:StringEquals": {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}},
     {}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a"]}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a", "c"]}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}, True),
    ({"StringEquals": {"a": "1"}, "Bool": {"b": "true"}}, {"a": "1", "b": "false"}, False),
])
def test_conditions(condition: dict, context: dict, applies: bool) -> None:
    decision = evaluate([policy(allow(Condition=condition))], action="dynamodb:PutItem",
                        resource=TABLE, context=context)
    assert decision.allowed is applies
    assert not decision.context_free  # a condition was consulted: never reused


def test_a_false_condition_on_a_deny_leaves_the_allow() -> None:
    # moto turns a false condition into a deny; IAM just skips the statement.
    document = policy(allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))
    assert decide(document, context={"aws:SecureTransport": "true"}) is Effect.ALLOW
    assert decide(document, context={"aws:SecureTransport": "false"}) is Effect.EXPLICIT_DENY


def test_an_unknown_condition_operator_cannot_allow_and_says_so() -> None:
    unknown = {"StringSortOfEquals": {"aws:PrincipalAccount": "123456789012"}}
    decision = evaluate([policy(allow(Condition=unknown))], action="dynamodb:PutItem",
                        resource=TABLE, context={"aws:PrincipalAccount": "123456789012"})
    assert decision.effect is Effect.IMPLICIT_DENY
    assert any("StringSortOfEquals" in note for note in decision.notes)
    # … and a Deny using one applies, rather than letting an Allow through.
    assert decide(policy(allow(), deny(Condition=unknown))) is Effect.EXPLICIT_DENY


def test_decisions_without_conditions_may_be_reused() -> None:
    assert evaluate([policy(allow())], action="dynamodb:PutItem", resource=TABLE).context_free


def test_arn_like_matches_each_of_six_parts() -> None:
    assert arn_like("arn:aws:execute-api:us-east-1:1:api/*",
                    "arn:aws:execute-api:us-east-1:1:api/dev/GET/x")
    assert arn_like("arn:aws:logs:*:*:log-group:g:*", "arn:aws:logs:r:1:log-group:g:log-stream:s")
    assert not arn_like("arn:aws:sns:*", "arn:aws:sns:us-east-1:1:t")  # fewer than six parts
    assert not arn_like("arn:aws:sns:us-*:1:t", "arn:aws:sns:eu:west:1:t")
