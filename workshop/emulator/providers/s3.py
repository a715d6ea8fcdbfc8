"""AWS::S3::Bucket and AWS::S3::BucketPolicy in moto's S3.

A bucket's static website (``WebsiteConfiguration``), its Block Public Access settings
(``PublicAccessBlockConfiguration``), versioning, default encryption (``BucketEncryption``,
which the SAM CLI's managed bucket sets) and tags are applied as CloudFormation applies them;
other properties (lifecycle, logging, CORS…) are accepted and recorded but change nothing
locally, and the one a learner would miss (``NotificationConfiguration``) is warned about. A new
bucket blocks public access (as on AWS since April 2023), so a public-read bucket policy
deploys only when the template turns ``BlockPublicPolicy`` off; the policy is put after
the bucket, as its ``!Ref`` orders it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import partitions
from ..template import ProvisionError
from .base import NameStyle, Provider, Record, Resource, as_bool, client_error, tag_list

__all__ = ["BucketPolicyProvider", "BucketProvider"]

# Regions whose website endpoint is "s3-website-{region}"; the others use "s3-website.{region}"
# (S3 user guide, "Website endpoints"; AWS general reference, S3 website endpoints).
_DASH_WEBSITE_REGIONS = frozenset({
    "us-east-1", "us-west-1", "us-west-2", "ap-southeast-1", "ap-southeast-2",
    "ap-northeast-1", "eu-west-1", "sa-east-1", "us-gov-west-1"})
_BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                   "RestrictPublicBuckets")
# Recorded but not applied, and noticeable: what a learner would wait for in vain.
_NOT_APPLIED = {"NotificationConfiguration": "the local S3 sends no event notifications"}


def website_host(bucket: str, region: str) -> str:
    """The host name of a bucket's website endpoint on AWS."""
    separator = "-" if region in _DASH_WEBSITE_REGIONS else "."
    return f"{bucket}.s3-website{separator}{region}.{partitions.url_suffix_of(region)}"


def _encryption_request(config: Mapping[str, Any]) -> dict[str, Any]:
    """A template's ``BucketEncryption`` as PutBucketEncryption's configuration."""
    rules = []
    for rule in config.get("ServerSideEncryptionConfiguration") or []:
        default = rule.get("ServerSideEncryptionByDefault") or {}
        entry: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {
            key: str(value) for key, value in default.items()}}
        if "BucketKeyEnabled" in rule:
            entry["BucketKeyEnabled"] = as_bool(rule["BucketKeyEnabled"])
        rules.append(entry)
    return {"Rules": rules}


def _website_request(config: Mapping[str, Any]) -> dict[str, Any]:
    """A template's ``WebsiteConfiguration`` as PutBucketWebsite's request."""
    request: dict[str, Any] = {}
    if config.get("IndexDocument"):
        request["IndexDocument"] = {"Suffix": str(config["IndexDocument"])}
    if config.get("ErrorDocument"):
        request["ErrorDocument"] = {"Key": str(config["ErrorDocument"])}
    if config.get("RedirectAllRequestsTo"):
        request["RedirectAllRequestsTo"] = {k: str(v) for k, v in
                                            config["RedirectAllRequestsTo"].items()}
    rules = []
    for rule in config.get("RoutingRules") or []:
        entry: dict[str, Any] = {"Redirect": {k: str(v) for k, v in
                                              (rule.get("RedirectRule") or {}).items()}}
        if rule.get("RoutingRuleCondition"):
            entry["Condition"] = {k: str(v) for k, v in rule["RoutingRuleCondition"].items()}
        rules.append(entry)
    if rules:
        request["RoutingRules"] = rules
    return request


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
        region, suffix = self.settings.region, self.settings.url_suffix
        return {
            "Ref": physical_id,
            "Arn": self.settings.arn("s3", physical_id, account="", in_region=False),
            "DomainName": f"{physical_id}.s3.{suffix}",
            "RegionalDomainName": f"{physical_id}.s3.{region}.{suffix}",
            "DualStackDomainName": f"{physical_id}.s3.dualstack.{region}.{suffix}",
            # Deploy outputs show it as the local website endpoint (s3_website.website_url).
            "WebsiteURL": f"http://{website_host(physical_id, region)}",
        }

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        for name, consequence in _NOT_APPLIED.items():
            if properties.get(name):
                self.context.warn(f"{logical_id}: {name} is recorded but not emulated: "
                                  f"{consequence}")
        return properties

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
        self._configure_block(resource, before)
        ownership = props.get("OwnershipControls")
        if ownership != before.get("OwnershipControls"):
            if ownership:
                self.call(resource.logical_id, client.put_bucket_ownership_controls,
                          Bucket=name, OwnershipControls={"Rules": [
                              {"ObjectOwnership": str(rule["ObjectOwnership"])}
                              for rule in ownership.get("Rules") or []]})
            else:
                self.call(resource.logical_id, client.delete_bucket_ownership_controls,
                          Bucket=name)
        website = props.get("WebsiteConfiguration")
        if website != before.get("WebsiteConfiguration"):
            if website:
                self.call(resource.logical_id, client.put_bucket_website, Bucket=name,
                          WebsiteConfiguration=_website_request(website))
            else:
                self.call(resource.logical_id, client.delete_bucket_website, Bucket=name)
        self._configure_encryption(resource, before)
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

    def _configure_encryption(self, resource: Resource, before: Mapping[str, Any]) -> None:
        encryption = resource.properties.get("BucketEncryption")
        if encryption == before.get("BucketEncryption"):
            return
        client, name = self.context.clients("s3"), resource.physical_id
        if encryption:
            self.call(resource.logical_id, client.put_bucket_encryption, Bucket=name,
                      ServerSideEncryptionConfiguration=_encryption_request(encryption))
        else:
            self.call(resource.logical_id, client.delete_bucket_encryption, Bucket=name)

    def _configure_block(self, resource: Resource, before: Mapping[str, Any]) -> None:
        """Block Public Access as the template says; settings it leaves out are off."""
        block = resource.properties.get("PublicAccessBlockConfiguration")
        if block == before.get("PublicAccessBlockConfiguration") and before:
            return
        client, name = self.context.clients("s3"), resource.physical_id
        if block is None:
            if before.get("PublicAccessBlockConfiguration") is not None:
                self.call(resource.logical_id, client.delete_public_access_block, Bucket=name)
            return
        settings = {key: as_bool(block.get(key)) for key in _BLOCK_SETTINGS}
        self.call(resource.logical_id, client.put_public_access_block, Bucket=name,
                  PublicAccessBlockConfiguration=settings)

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


class BucketPolicyProvider(Provider):
    """A bucket's policy (PutBucketPolicy); S3 refuses a public one while the bucket
    blocks public policies, and the deploy says so."""

    types = ("AWS::S3::BucketPolicy",)
    replace_on = frozenset({"Bucket"})

    def physical_id(self, logical_id: str, properties: Mapping[str, Any], *,
                    generation: int) -> str:
        return str(properties.get("Bucket"))

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        document = props.get("PolicyDocument")
        if not isinstance(document, Mapping):
            raise self.fail(resource.logical_id, "PolicyDocument must be a JSON object")
        try:
            self.context.clients("s3").put_bucket_policy(Bucket=str(props["Bucket"]),
                                                         Policy=json.dumps(document))
        except Exception as error:  # botocore's ClientError, whatever the code
            detail = client_error(error)
            if "AccessDenied" in detail:
                detail += (" (the bucket blocks public bucket policies, as every new bucket "
                           "does: set PublicAccessBlockConfiguration with BlockPublicPolicy "
                           "and RestrictPublicBuckets false on the bucket first)")
            raise ProvisionError(f"{self.context.template_path}: {resource.logical_id}: "
                                 f"{detail}") from error
        return {"Ref": resource.physical_id}

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        return self.create(resource)

    def delete(self, record: Record) -> None:
        self.tolerate("s3", "NoSuchBucket", "delete_bucket_policy", Bucket=record.physical_id)
