"""Deleting a stack whose resources were already deleted through the services' APIs:
CloudFormation counts a resource that is gone as deleted, and the stack is deleted."""

from __future__ import annotations

import uuid

import boto3

FAST = {"Delay": 0.1, "MaxAttempts": 300}
FUNCTION = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com},
                     Action: sts:AssumeRole}]
  Hello:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(event, context):\\n    return 'hi'\\n"}
"""


def test_a_function_deleted_through_the_lambda_api_does_not_stop_the_stacks_delete(
        cloud: dict) -> None:
    cfn = boto3.client("cloudformation")
    stack = f"gone-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=stack, TemplateBody=FUNCTION, Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=FAST)
    [function] = cfn.describe_stack_resources(StackName=stack, LogicalResourceId="Hello")[
        "StackResources"]
    boto3.client("lambda").delete_function(FunctionName=function["PhysicalResourceId"])

    stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == \
        "DELETE_COMPLETE"
