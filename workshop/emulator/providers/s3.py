"""AWS::S3::Bucket in moto's S3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import NameStyle, Provider, Record, Resource, client_error, tag_list

__all__ = ["BucketProvider"]


class BucketProvider(Provider):
    """Buckets with versioning and tags. A bucket that still holds objects is not deleted
    (CloudFormation refuses too); it is left in place with a warning."""

    types = ("AWS::S3::Bucket",)
    name_property = "BucketName"
    name_style = NameStyle(max_length=63, lowercase=True)
    attribute_names = frozenset({"Arn", "DomainName", "DualStackDomainName",
                                 "RegionalDomainName", "WebsiteURL"})

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        region = self.settings.region
        return {
            "Ref": physical_id,
            "Arn": f"arn:aws:s3:::{physical_id}",
            "DomainName": f"{physical_id}.s3.amazonaws.com",
            "RegionalDomainName": f"{physical_id}.s3.{region}.amazonaws.com",
            "DualStackDomainName": f"{physical_id}.s3.dualstack.{region}.amazonaws.com",
            "WebsiteURL": f"http://{physical_id}.s3-website-{region}.amazonaws.com",
        }

    def create(self, resource: Resource) -> dict[str, Any]:
        request: dict[str, Any] = {"Bucket": resource.physical_id}
        if self.settings.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.settings.region}
        self.call(resource.logical_id, self.context.clients("s3").create_bucket, **request)
        self._configure(resource, None)
        return self.attributes(resource.logical_id, resource.physical_id, resource.properties)

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        self._configure(resource, old.properties)
        return dict(old.attributes)

    def _configure(self, resource: Resource, before: Mapping[str, Any] | None) -> None:
        props, before = resource.properties, before or {}
        client, name = self.context.clients("s3"), resource.physical_id
        versioning = props.get("VersioningConfiguration")
        if versioning != before.get("VersioningConfiguration") and (versioning or before):
            status = (versioning or {}).get("Status", "Suspended")
            self.call(resource.logical_id, client.put_bucket_versioning, Bucket=name,
                      VersioningConfiguration={"Status": status})
        if props.get("Tags") != before.get("Tags"):
            if props.get("Tags"):
                self.call(resource.logical_id, client.put_bucket_tagging, Bucket=name,
                          Tagging={"TagSet": tag_list(props["Tags"])})
            else:
                self.call(resource.logical_id, client.delete_bucket_tagging, Bucket=name)

    def delete(self, record: Record) -> None:
        client = self.context.clients("s3")
        try:
            client.delete_bucket(Bucket=record.physical_id)
        except client.exceptions.NoSuchBucket:
            pass
        except client.exceptions.ClientError as error:
            if "BucketNotEmpty" not in client_error(error):
                raise
            self.context.warn(f"{record.logical_id}: bucket {record.physical_id} is not empty, "
                              "so it was left in place (CloudFormation does the same)")
