"""Resource providers: one module per AWS service family, one class per resource type.

``PROVIDERS`` maps each emulated CloudFormation type to its provider class; a type that
is not in it is not emulated (the deployer warns and skips it).
"""

from __future__ import annotations

from .apigatewayv2 import (
                           ApiProvider,
                           AuthorizerProvider,
                           DeploymentProvider,
                           IntegrationProvider,
                           RouteProvider,
                           RouteResponseProvider,
                           StageProvider,
)
from .awslambda import (
    AliasProvider,
    FunctionProvider,
    LayerVersionProvider,
    PermissionProvider,
    VersionProvider,
)
from .base import Provider, ProviderContext, Record, Resource, Skip
from .cloudformation import StackProvider
from .dynamodb import TableProvider
from .events import RuleProvider
from .iam import ManagedPolicyProvider, PolicyProvider, RoleProvider
from .logs import LogGroupProvider
from .s3 import BucketPolicyProvider, BucketProvider
from .sns import SubscriptionProvider, TopicPolicyProvider, TopicProvider
from .sqs import QueuePolicyProvider, QueueProvider
from .stepfunctions import StateMachineProvider

__all__ = ["PROVIDERS", "Provider", "ProviderContext", "Record", "Resource", "Skip"]

_CLASSES: tuple[type[Provider], ...] = (
    TableProvider, TopicProvider, SubscriptionProvider, TopicPolicyProvider, QueueProvider,
    QueuePolicyProvider, BucketProvider, BucketPolicyProvider, LogGroupProvider, RoleProvider,
    PolicyProvider,
    ManagedPolicyProvider, StateMachineProvider, FunctionProvider, PermissionProvider,
    VersionProvider, AliasProvider, LayerVersionProvider, ApiProvider, IntegrationProvider,
    RouteProvider,
    RouteResponseProvider, AuthorizerProvider, DeploymentProvider, StageProvider,
    RuleProvider, StackProvider,
)

PROVIDERS: dict[str, type[Provider]] = {kind: cls for cls in _CLASSES for kind in cls.types}
