"""Who may read a bucket's objects anonymously, and S3 Block Public Access.

Two jobs, both about "public" as S3 means it (S3 user guide, "Blocking public access to
your Amazon S3 storage", "The meaning of public"; API reference,
``PublicAccessBlockConfiguration``):

* **Evaluation.** :func:`anonymous_read` decides whether an anonymous ``s3:GetObject`` on
  one key is allowed, as the website endpoint must (it serves only publicly readable
  objects): an explicit Deny in the bucket policy wins; an Allow to everyone grants; an
  object ACL granting READ to AllUsers grants unless ``IgnorePublicAcls`` or the bucket
  owner enforces ownership (ACLs disabled); ``RestrictPublicBuckets`` shuts out anonymous
  readers of a bucket whose policy is public.
* **Block Public Access on the local cloud's S3.** Since April 2023 a new bucket has all
  four settings on, and with ``BlockPublicPolicy`` on, ``PutBucketPolicy`` with a public
  policy fails with ``403 AccessDenied``. moto does neither; :func:`install` makes it, so a
  template that forgets to turn the block off fails locally exactly as it does on AWS.

The bucket policy's statements that name everyone are evaluated by the local cloud's one
IAM matcher (:mod:`.iam_policy`), with the condition keys an anonymous website request
has: ``aws:SourceIp``, ``aws:Referer``, ``aws:UserAgent`` (when sent) and
``aws:SecureTransport`` (always false: website endpoints are HTTP only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .iam_policy import Effect, evaluate

__all__ = ["ALL_BLOCKED", "PublicAccessBlock", "RequestContext", "acl_grants_public_read",
           "anonymous_read", "install", "is_public_policy", "parse_public_access_block"]

_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
# Condition keys whose fixed value makes an Allow to "*" non-public ("The meaning of public").
_LIMITING_KEYS = frozenset(key.lower() for key in (
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount",
    "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id", "aws:SourceIp"))


@dataclass(frozen=True)
class PublicAccessBlock:
    """A bucket's four Block Public Access settings (all off: no block configured)."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


ALL_BLOCKED = PublicAccessBlock(True, True, True, True)


@dataclass(frozen=True)
class RequestContext:
    """What IAM's global condition keys say about one anonymous website request."""

    source_ip: str = "127.0.0.1"
    referer: str | None = None
    user_agent: str | None = None
    secure_transport: bool = False
    # The website region's partition: a bucket policy names ``arn:aws-cn:s3:::…`` there.
    partition: str = "aws"

    def policy_context(self) -> dict[str, str]:
        """The condition keys this request has (a header it did not send is absent)."""
        keys = {"aws:SourceIp": self.source_ip, "aws:Referer": self.referer,
                "aws:UserAgent": self.user_agent,
                "aws:SecureTransport": "true" if self.secure_transport else "false"}
        return {key: value for key, value in keys.items() if value is not None}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _everyone(principal: Any) -> bool:
    """``"Principal": "*"`` or ``{"AWS": "*"}``: the statement names everyone."""
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in _as_list(principal.get("AWS"))
    return False


def _names_anonymous(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        # Everyone except those listed; an anonymous caller is never listed by name.
        return not _everyone(statement["NotPrincipal"])
    return _everyone(statement.get("Principal"))


def _statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return [s for s in _as_list((policy or {}).get("Statement")) if isinstance(s, Mapping)]


def _policy_decision(policy: Mapping[str, Any] | None, *, resource: str,
                     context: RequestContext, action: str = "s3:GetObject") -> Effect:
    """What a bucket policy says of an anonymous ``action`` (s3:GetObject): the statements
    that name everyone, evaluated by the local cloud's one IAM matcher (:mod:`.iam_policy`)."""
    statements = [{k: v for k, v in s.items() if k not in ("Principal", "NotPrincipal")}
                  for s in _statements(policy) if _names_anonymous(s)]
    document = {"Version": (policy or {}).get("Version"), "Statement": statements}
    return evaluate([document], action=action, resource=resource,
                    context=context.policy_context()).effect


def _fixed(values: Any) -> bool:
    items = _as_list(values)
    return bool(items) and all(isinstance(v, str) and "*" not in v and "?" not in v
                               and v not in ("0.0.0.0/0", "::/0") for v in items)


def _limited(condition: Any) -> bool:
    """Whether a Condition pins the caller to fixed values of a limiting key."""
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        name = str(operator).lower()
        if "not" in name or "ifexists" in name or not isinstance(tests, Mapping):
            continue
        if any(str(key).lower() in _LIMITING_KEYS and _fixed(value)
               for key, value in tests.items()):
            return True
    return False


def is_public_policy(policy: Mapping[str, Any] | None) -> bool:
    """S3's "public": some Allow names everyone and no condition pins it to fixed values."""
    return any(statement.get("Effect") == "Allow" and _names_anonymous(statement)
               and not _limited(statement.get("Condition"))
               for statement in _statements(policy))


def acl_grants_public_read(grants: Iterable[Mapping[str, Any]]) -> bool:
    """Whether ACL grants (``{"uri": …, "permission": …}``) let AllUsers read."""
    return any(grant.get("uri") == _ALL_USERS and grant.get("permission") in ("READ",
                                                                             "FULL_CONTROL")
               for grant in grants)


def anonymous_read(*, bucket: str, key: str, policy: Mapping[str, Any] | None,
                   block: PublicAccessBlock, acl_public: bool, acls_enabled: bool,
                   context: RequestContext) -> bool:
    """Whether an anonymous ``s3:GetObject`` of ``key`` is allowed."""
    decision = _policy_decision(policy, resource=f"arn:{context.partition}:s3:::{bucket}/{key}",
                                context=context)
    if decision is Effect.EXPLICIT_DENY:
        return False
    if block.restrict_public_buckets and is_public_policy(policy):
        return False
    if decision is Effect.ALLOW:
        return True
    return acl_public and acls_enabled and not block.ignore_public_acls


def parse_public_access_block(xml: bytes) -> PublicAccessBlock:
    """The four settings from a GetPublicAccessBlock reply."""
    text = xml.decode(errors="replace")

    def flag(name: str) -> bool:
        found = re.search(rf"<{name}>\s*(\w+)\s*</{name}>", text)
        return bool(found) and found.group(1).lower() == "true"

    return PublicAccessBlock(flag("BlockPublicAcls"), flag("IgnorePublicAcls"),
                             flag("BlockPublicPolicy"), flag("RestrictPublicBuckets"))


def install() -> None:
    """Make moto's S3 block public access as AWS does: on for new buckets, and enforced
    on ``PutBucketPolicy`` (installing twice is harmless)."""
    from moto.s3 import models
    from moto.s3.exceptions import S3AccessDeniedError

    backend = models.S3Backend
    if getattr(backend.create_bucket, "_workshop_blocks_public", False):
        return
    create_bucket, put_bucket_policy = backend.create_bucket, backend.put_bucket_policy

    def create(self: Any, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
        bucket = create_bucket(self, bucket_name, *args, **kwargs)
        bucket.public_access_block = models.PublicAccessBlock(True, True, True, True)
        return bucket

    def put_policy(self: Any, bucket_name: str, policy: bytes) -> None:
        block = self.get_bucket(bucket_name).public_access_block
        if block is not None and block.block_public_policy:
            try:
                document = json.loads(policy)
            except ValueError:
                document = None     # moto's own validation answers a malformed policy
            if isinstance(document, Mapping) and is_public_policy(document):
                raise S3AccessDeniedError()
        put_bucket_policy(self, bucket_name, policy)

    create._workshop_blocks_public = True  # type: ignore[attr-defined]
    backend.create_bucket = create  # type: ignore[method-assign]
    backend.put_bucket_policy = put_policy  # type: ignore[method-assign]
    models.FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]


# The local S3 endpoint stands in for S3's HTTPS one, as IAM enforcement's context does.
_API_REQUEST = RequestContext(secure_transport=True)


def _bucket_permission(bucket: Any, action: str, resource: str) -> Any:
    """moto's bucket-policy check of object requests, with conditions evaluated: moto's
    own ignores them, so the SAM CLI's managed bucket (Deny ``s3:*`` when
    ``aws:SecureTransport`` is false) would refuse every upload."""
    from moto.iam.access_control import PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    try:
        policy = json.loads(bucket.policy)
    except ValueError:
        return PermissionResult.NEUTRAL
    effect = _policy_decision(policy if isinstance(policy, Mapping) else None,
                              resource=resource, context=_API_REQUEST, action=action)
    return {Effect.EXPLICIT_DENY: PermissionResult.DENIED,
            Effect.ALLOW: PermissionResult.PERMITTED}.get(effect, PermissionResult.NEUTRAL)
