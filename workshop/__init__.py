"""Serverless game backends on AWS: the workshop's Python package.

In a notebook::

    import workshop
    workshop.up()                      # the local cloud, shared by every notebook
    workshop.deploy("template.yaml")   # SAM template -> local resources
    workshop.outputs()["WebSocketURL"]

After ``up()``, plain ``boto3.client(...)`` reaches the local cloud.
"""

from __future__ import annotations

from typing import Any

from . import cloud
from .cloud import CloudError, DeployFailed, deploy, down, outputs, reset, status

__all__ = ["up", "down", "status", "deploy", "outputs", "reset", "CloudError", "DeployFailed"]

__version__ = "0.1.0"


def up(*, port: int | None = None, time_scale: float | None = None) -> dict[str, Any]:
    """Start (or reuse) the local cloud and point this process's boto3 at it."""
    state = cloud.up(port=port, time_scale=time_scale)
    cloud.use_local_cloud(port=state["port"])
    return state
