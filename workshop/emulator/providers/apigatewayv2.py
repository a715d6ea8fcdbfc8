"""AWS::ApiGatewayV2::* for WebSocket APIs, on the local gateway's ``WebSocketApis``.

Ids are made up here, in AWS's shapes (10 characters for an API, 7 for its parts), by the
injectable id source. HTTP APIs are not emulated: such an API, and every part of it, is
skipped with a warning.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .base import Provider, Record, Resource, Skip, as_bool

__all__ = [
    "ApiProvider",
    "AuthorizerProvider",
    "DeploymentProvider",
    "IntegrationProvider",
    "RouteProvider",
    "RouteResponseProvider",
    "StageProvider",
]


class ApiProvider(Provider):
    """A WebSocket API; Ref is its id, ApiEndpoint its ``wss://`` address on AWS."""

    types = ("AWS::ApiGatewayV2::Api",)
    replace_on = frozenset({"ProtocolType"})
    attribute_names = frozenset({"ApiEndpoint", "ApiId"})

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        protocol = properties.get("ProtocolType")
        if protocol != "WEBSOCKET":
            raise Skip(f"ProtocolType {protocol or '(none)'}: only WebSocket APIs are emulated")
        if not properties.get("RouteSelectionExpression"):
            raise self.fail(logical_id, "a WebSocket API needs a RouteSelectionExpression, "
                            "such as $request.body.action")
        return properties

    def physical_id(self, logical_id: str, properties: Mapping[str, Any], *,
                    generation: int) -> str:
        return self.context.ids.api_id()

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = f"wss://{self.settings.execute_api_host(physical_id)}"
        return {"Ref": physical_id, "ApiId": physical_id, "ApiEndpoint": endpoint}

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        self.call(resource.logical_id, lambda: self.context.apis.put_api(
            resource.physical_id, name=str(props.get("Name", resource.logical_id)),
            route_selection_expression=props["RouteSelectionExpression"]))
        return self.attributes(resource.logical_id, resource.physical_id, props)

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        return self.create(resource)  # put_api keeps the API's routes and stages

    def delete(self, record: Record) -> None:
        self.call(record.logical_id, lambda: self.context.apis.delete_api(record.physical_id))


class _ApiPart(Provider):
    """A part of an API (integration, route…): 7-character id, replaced if ApiId changes.

    Subclasses name their ``put`` / ``delete`` methods on ``WebSocketApis`` and map
    properties to the put method's keyword arguments in ``arguments``.
    """

    replace_on = frozenset({"ApiId"})
    put_method: ClassVar[str]
    delete_method: ClassVar[str]

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        if not properties.get("ApiId"):
            raise self.fail(logical_id, "ApiId is required")
        if properties["ApiId"] in self.context.skipped:
            raise Skip("it belongs to an API that is not emulated")
        return properties

    def physical_id(self, logical_id: str, properties: Mapping[str, Any], *,
                    generation: int) -> str:
        return self.context.ids.short_id()

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        return {"Ref": physical_id, **{name: physical_id for name in self.attribute_names}}

    @abc.abstractmethod
    def arguments(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        """Keyword arguments of the put method, from the resource's properties."""

    def create(self, resource: Resource) -> dict[str, Any]:
        put: Callable[..., Any] = getattr(self.context.apis, self.put_method)
        arguments = self.arguments(resource.properties)
        self.call(resource.logical_id, lambda: put(resource.properties["ApiId"],
                                                   resource.physical_id, **arguments))
        return self.attributes(resource.logical_id, resource.physical_id, resource.properties)

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        return self.create(resource)  # the put methods create or replace

    def delete(self, record: Record) -> None:
        remove: Callable[..., Any] = getattr(self.context.apis, self.delete_method)
        self.call(record.logical_id,
                  lambda: remove(record.properties["ApiId"], record.physical_id))


class IntegrationProvider(_ApiPart):
    types = ("AWS::ApiGatewayV2::Integration",)
    attribute_names = frozenset({"IntegrationId"})
    put_method, delete_method = "put_integration", "delete_integration"

    def arguments(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        timeout = properties.get("TimeoutInMillis")
        return {"integration_type": properties.get("IntegrationType", "AWS_PROXY"),
                "integration_uri": properties.get("IntegrationUri"),
                "credentials_arn": properties.get("CredentialsArn"),
                "timeout_ms": None if timeout is None else int(timeout)}


class RouteProvider(_ApiPart):
    types = ("AWS::ApiGatewayV2::Route",)
    attribute_names = frozenset({"RouteId"})
    put_method, delete_method = "put_route", "delete_route"

    def arguments(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        return {"route_key": properties.get("RouteKey", ""),
                "target": properties.get("Target"),
                "authorization_type": properties.get("AuthorizationType", "NONE"),
                "authorizer_id": properties.get("AuthorizerId"),
                "route_response_selection_expression":
                    properties.get("RouteResponseSelectionExpression")}


class RouteResponseProvider(_ApiPart):
    types = ("AWS::ApiGatewayV2::RouteResponse",)
    attribute_names = frozenset({"RouteResponseId"})
    put_method, delete_method = "put_route_response", "delete_route_response"

    def arguments(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        return {"route_id": properties.get("RouteId"),
                "route_response_key": properties.get("RouteResponseKey", "$default")}


class AuthorizerProvider(_ApiPart):
    types = ("AWS::ApiGatewayV2::Authorizer",)
    attribute_names = frozenset({"AuthorizerId"})
    put_method, delete_method = "put_authorizer", "delete_authorizer"

    def arguments(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        source = properties.get("IdentitySource") or []
        return {"authorizer_type": properties.get("AuthorizerType", "REQUEST"),
                "authorizer_uri": properties.get("AuthorizerUri"),
                "identity_source": [source] if isinstance(source, str) else list(source)}


class DeploymentProvider(_ApiPart):
    """A snapshot of the routes as they are when it is created, as on AWS: give it a
    ``DependsOn`` on the routes. A changed deployment is a new one (a new id), so stages
    move to it before the old one is deleted."""

    types = ("AWS::ApiGatewayV2::Deployment",)
    attribute_names = frozenset({"DeploymentId"})
    put_method, delete_method = "create_deployment", "delete_deployment"

    def requires_recreation(self, name: str) -> str:
        return "Always"  # a changed deployment is a new one

    def arguments(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        return {"stage_name": properties.get("StageName")}


class StageProvider(_ApiPart):
    """A stage; Ref is its name. ``AutoDeploy`` serves the routes as they are now."""

    types = ("AWS::ApiGatewayV2::Stage",)
    name_property = "StageName"
    put_method, delete_method = "put_stage", "delete_stage"

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        if not properties.get("StageName"):
            raise self.fail(logical_id, "a stage needs a StageName")
        return super().prepare(logical_id, properties)

    def physical_id(self, logical_id: str, properties: Mapping[str, Any], *,
                    generation: int) -> str:
        return str(properties["StageName"])

    def arguments(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        variables = properties.get("StageVariables") or {}
        return {"deployment_id": properties.get("DeploymentId"),
                "auto_deploy": as_bool(properties.get("AutoDeploy")),
                "stage_variables": {str(k): str(v) for k, v in variables.items()}}
