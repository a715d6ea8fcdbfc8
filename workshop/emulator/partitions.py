"""Which AWS partition a region belongs to, its DNS suffix, and ARNs built in it.

A region lives in one partition (``aws``, ``aws-cn``, ``aws-us-gov``…) and every ARN and
host name there carries it: ``arn:aws-cn:lambda:cn-northwest-1:…`` and
``….execute-api.cn-northwest-1.amazonaws.com.cn``. The table is botocore's own
(endpoints.json), the one the SDKs, the SAM CLI and moto read, so the local cloud never
disagrees with them about a region.
"""

from __future__ import annotations

from functools import lru_cache

import botocore.session
from botocore.exceptions import UnknownRegionError

from workshop.errors import WorkshopError

__all__ = ["ARN_PARTITION", "UnknownRegion", "arn", "partition_of", "url_suffix_of"]

# A partition in an ARN someone else wrote (``aws``, ``aws-cn``, ``aws-us-gov``,
# ``aws-iso-b``…), for the places that parse ARNs and must accept any of them.
ARN_PARTITION = r"aws(?:-[a-z]+)*"


class UnknownRegion(WorkshopError, ValueError):
    """A region that no AWS partition has."""


@lru_cache(maxsize=1)
def _resolver() -> object:
    # One botocore session's endpoint data, loaded once (about 60 ms).
    return botocore.session.get_session()._get_internal_component("endpoint_resolver")


@lru_cache(maxsize=32)
def partition_of(region: str) -> str:
    """``aws-cn`` for ``cn-northwest-1``, ``aws`` for ``eu-west-1``."""
    try:
        return _resolver().get_partition_for_region(region)  # type: ignore[attr-defined]
    except UnknownRegionError:
        raise UnknownRegion(f"{region!r} is not an AWS region (e.g. us-east-1, eu-west-1, "
                            "cn-northwest-1)") from None


@lru_cache(maxsize=32)
def url_suffix_of(region: str) -> str:
    """``amazonaws.com.cn`` for ``cn-northwest-1``: what ``AWS::URLSuffix`` resolves to."""
    return _resolver().get_partition_dns_suffix(partition_of(region))  # type: ignore[attr-defined]


def arn(service: str, resource: str, *, region: str, account: str = "",
        in_region: bool = True) -> str:
    """``arn:{partition}:{service}:{region}:{account}:{resource}``, in ``region``'s partition.

    Global services (IAM, S3) leave the region out of the ARN but still live in a
    partition: ``in_region=False`` keeps ``region`` only to choose it.
    """
    return (f"arn:{partition_of(region)}:{service}:{region if in_region else ''}:"
            f"{account}:{resource}")

