"""Fixtures shared by the emulator's tests."""

from __future__ import annotations

from typing import Any

import boto3
import pytest


@pytest.fixture
def cfn(cloud: dict) -> Any:
    """A CloudFormation client of the session's private cloud (``cloud`` sets the env)."""
    return boto3.client("cloudformation")
