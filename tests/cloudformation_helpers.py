"""CloudFormation templates and waits shared by the test folders (the CloudFormation API's
tests, the deployer's, the SAM CLI's): one copy of each template a test needs for its
effect, not for its content, so a fix to one (a property API Gateway starts to require)
reaches every test.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["FAILING_API", "FAILING_API_RESOURCES", "FAST", "INLINE_FUNCTION_RESOURCE",
           "LAMBDA_ROLE_RESOURCE", "unique", "wait"]

FAST = {"Delay": 0.1, "MaxAttempts": 300}  # the boto3 waiters' 30 s polls, shortened

# API Gateway refuses a Deployment of an API with no route, so creating these two fails
# (after Api is made, which a rollback then deletes). Indented as a template's Resources.
FAILING_API_RESOURCES = """  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: ws, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Nothing:
    Type: AWS::ApiGatewayV2::Deployment
    Properties: {ApiId: !Ref Api}
"""
FAILING_API = "Resources:\n" + FAILING_API_RESOURCES

# A role Lambda may assume (Role: !GetAtt Role.Arn), as a template's Resources entry.
LAMBDA_ROLE_RESOURCE = """  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com},
                     Action: sts:AssumeRole}]
"""

# A Python function Fn with inline code, as a template's Resources entry (the deployer's
# unit tests: its role is an ARN no one checks there).
INLINE_FUNCTION_RESOURCE = """  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/r
      Code: {ZipFile: "def handler(event, context): pass"}
"""


def unique(prefix: str) -> str:
    """A stack (bucket, change set…) name no other test uses, so tests share one cloud."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait(cfn: Any, waiter: str, stack: str) -> None:
    """Wait with boto3's ``waiter`` (``stack_create_complete``…) for ``stack``, polling fast."""
    cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig=FAST)
