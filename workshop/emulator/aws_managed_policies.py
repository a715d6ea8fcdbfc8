"""AWS-managed policies (``arn:aws:iam::aws:policy/…``, ``arn:aws-cn:…`` in the China
regions) in moto's IAM, when a role names one.

SAM gives every function's role ``AWSLambdaBasicExecutionRole``, and templates attach
others (``AWSLambdaDynamoDBExecutionRole``, ``AWSXrayWriteOnlyAccess``…). On AWS they
exist in every account; moto can load all of them (about 1,500, per account and region
backend), which the local cloud leaves off because it costs seconds. Instead, the one a
request names is made from moto's bundled copy of AWS's documents
(``moto/iam/aws_managed_policies.py``) the first time it is attached or read, so that
``AttachRolePolicy``, ``GetPolicy`` and ``ListAttachedRolePolicies`` answer as on AWS and
IAM enforcement reads the real document. A name AWS does not have stays unknown:
``NoSuchEntity``, as on AWS.
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from typing import Any

from .partitions import ARN_PARTITION

__all__ = ["install", "policy_document"]

# The same documents in every partition; each partition's IAM has its own ARNs.
_PREFIX = re.compile(rf"arn:{ARN_PARTITION}:iam::aws:policy/")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _bundled() -> dict[str, Any]:
    """moto's copy of AWS's managed policies, by name (parsed once, about 0.1 s)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def policy_document(arn: str) -> dict[str, Any] | None:
    """The document of the AWS-managed policy ``arn``, or None if AWS has none such."""
    data = _find(arn)
    return data["Document"] if data else None


def _find(arn: str) -> dict[str, Any] | None:
    prefix = _PREFIX.match(arn)
    if prefix is None:
        return None
    name = arn.rsplit("/", 1)[-1]
    data = _bundled().get(name)
    if data is None or f"{prefix[0]}{(data.get('Path') or '/').lstrip('/')}{name}" != arn:
        return None
    return data


def _ensure(backend: Any, arn: str) -> None:
    """Put the AWS-managed policy ``arn`` into ``backend`` if AWS has it."""
    if arn in backend.managed_policies:
        return
    data = _find(arn)
    if data is None:
        return
    from moto.iam.models import AWSManagedPolicy

    with _lock:
        if arn not in backend.managed_policies:
            policy = AWSManagedPolicy.from_data(arn.rsplit("/", 1)[-1], backend.account_id,
                                                backend.region_name, data)
            # Another partition's ARN is not this IAM's (aws-cn's IAM has no arn:aws:…).
            if policy.arn == arn:
                backend.managed_policies[arn] = policy


def install() -> None:
    """Make moto's IAM find AWS-managed policies on demand (idempotent)."""
    from moto.iam.models import IAMBackend

    for method in ("attach_role_policy", "get_policy", "get_policy_version"):
        original = getattr(IAMBackend, method)
        if getattr(original, "_workshop_patched", False):
            continue

        def patched(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            _ensure(self, str(kwargs.get("policy_arn") or (args[0] if args else "")))
            return _original(self, *args, **kwargs)

        patched._workshop_patched = True  # type: ignore[attr-defined]
        setattr(IAMBackend, method, patched)
