"""Which AWS operation a REST request is, read from botocore's model of the service.

The local cloud serves some operations of a REST service (Lambda, API Gateway V2) and
answers the others with an error that names the operation, so a learner reads
"CreateRoute is not supported" rather than a bare 404.
"""

from __future__ import annotations

import functools
import re

__all__ = ["operation_name", "path_prefixes"]


@functools.lru_cache(maxsize=8)
def _operations(service: str) -> tuple[tuple[str, re.Pattern[str], str, str], ...]:
    """(method, path pattern, operation name, literal prefix) of a service's operations."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?")[0]
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(uri))
        prefix = "/".join(uri.split("/")[:3])  # "/2015-03-31/functions"
        found.append((http["method"], re.compile(pattern + "/?$"), name, prefix))
    return tuple(found)


def operation_name(service: str, method: str, path: str) -> str | None:
    """The operation of ``service`` a request is (``CreateRoute``…), or None."""
    return next((name for verb, pattern, name, _prefix in _operations(service)
                 if verb == method and pattern.match(path)), None)


def path_prefixes(service: str) -> list[str]:
    """The first two path segments of the service's operations, e.g. ``/v2/apis``."""
    return sorted({prefix for *_rest, prefix in _operations(service)})
