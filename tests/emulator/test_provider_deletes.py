"""Deleting a stack whose resources were already deleted through the services' APIs:
CloudFormation counts a resource that is gone as deleted, and the stack is deleted."""

from __future__ import annotations

import boto3
from cloudformation_helpers import LAMBDA_ROLE_RESOURCE, unique, wait

FUNCTION = "Resources:\n" + LAMBDA_ROLE_RESOURCE + """  Hello:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(event, context):\\n    return 'hi'\\n"}
"""


def test_a_function_deleted_through_the_lambda_api_does_not_stop_the_stacks_delete(
        cfn) -> None:
    stack = unique("gone")
    cfn.create_stack(StackName=stack, TemplateBody=FUNCTION, Capabilities=["CAPABILITY_IAM"])
    wait(cfn, "stack_create_complete", stack)
    [function] = cfn.describe_stack_resources(StackName=stack, LogicalResourceId="Hello")[
        "StackResources"]
    boto3.client("lambda").delete_function(FunctionName=function["PhysicalResourceId"])

    stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=stack)
    wait(cfn, "stack_delete_complete", stack_id)
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == \
        "DELETE_COMPLETE"
