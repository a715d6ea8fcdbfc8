"""Serverless game backends on AWS: the workshop's Python package.

In a notebook::

    import workshop
    workshop.up()                      # the local cloud, shared by every notebook
    workshop.deploy("template.yaml")   # SAM template -> local resources
    workshop.outputs()["WebSocketURL"]

After ``up()``, plain ``boto3.client(...)`` reaches the local cloud.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import cloud
from .cloud import CloudError, DeployFailed, deploy, down, reset, status
from .stack_reader import outputs  # DescribeStacks with plain boto3, on either target

__all__ = ["up", "down", "status", "deploy", "outputs", "reset", "CloudError", "DeployFailed",
           "CloudRestarted"]

__version__ = "0.1.0"


class CloudRestarted(UserWarning):
    """The local cloud restarted since this process last used it: what it held is gone."""


def up(*, port: int | None = None, time_scale: float | None = None) -> dict[str, Any]:
    """Start (or reuse) the local cloud and point this process's boto3 at it.

    If the cloud restarted since this process last used it, a :class:`CloudRestarted`
    warning names the stacks that are gone and what to run.
    """
    state = cloud.up(port=port, time_scale=time_scale)
    cloud.use_local_cloud(port=state["port"])
    if state.get("restarted"):
        warnings.warn(state["restarted"], CloudRestarted, stacklevel=2)
    return state
