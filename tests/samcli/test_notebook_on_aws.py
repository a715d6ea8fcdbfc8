"""A lab notebook on the aws target, end to end, without an account: WORKSHOP_TARGET=aws and
AWS_ENDPOINT_URL pointing at a private local cloud, so every deploy is `sam build` and
`sam deploy`, every output is read from CloudFormation, and every check runs as on AWS.

Lab 1 stands for the others: it deploys eight times (each check deploys), reads logs, and
ends with the SAM CLI section (`sam deploy`, `sam sync --code`, `sam delete`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workshop.cloud import private_cloud
from workshop.exercises import Workspace, all_exercises, lab_files
from workshop.exercises.catalog import LABS
from workshop.exercises.workspace import WORKSPACE_VARIABLE
from workshop.notebook.checks import STRICT_VARIABLE

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.timeout(900)
def test_lab_1_runs_top_to_bottom_on_the_aws_target(sam: Path, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "mygame")
    workspace.prepare(lab_files(max(LABS)))
    for item in all_exercises():
        workspace.solve(item)
    with private_cloud(time_scale=0.01):
        env = {**os.environ, STRICT_VARIABLE: "1", "WORKSHOP_TARGET": "aws",
               WORKSPACE_VARIABLE: str(workspace.root), "SAM_CLI_POLL_DELAY": "0.2",
               "__SAM_CLI_APP_DIR": str(tmp_path / "samconfig")}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
             "--nbval-cell-timeout=300", "-p", "no:cacheprovider", "-q", "--no-header",
             str(NOTEBOOKS_DIR / "01_hello_websocket.ipynb")],
            env=env, cwd=NOTEBOOKS_DIR, capture_output=True, text=True, timeout=840)
    assert run.returncode == 0, f"on the aws target:\n{run.stdout[-8000:]}{run.stderr[-2000:]}"
