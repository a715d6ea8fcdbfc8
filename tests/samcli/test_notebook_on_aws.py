"""The lab notebooks on the aws target, end to end, without an account: WORKSHOP_TARGET=aws
and AWS_ENDPOINT_URL pointing at a private local cloud, so every deploy is `sam build` and
`sam deploy`, every output is read from CloudFormation, and every check runs as on AWS.

Which notebooks run here, and why. Seconds measured on the shared 2-core machine: each
test alone, or (marked ~) each notebook alone while one other notebook run shared the CPU.
`make test` keeps those whose aws path differs from lab 1's; the two tests take about
260 s together, about 130 s more than lab 1 alone did.

* 00 (~7) — the aws preflight (region, credentials, the SAM CLI) and the target choice.
* 01 (about 115) — the exercise checks deploying through `sam deploy` on every check,
  logs, and the SAM CLI section (`sam deploy`, `sam sync --code`, `sam delete`).
* 05 (~160) — a second template (the primer stack), the website stack deployed without a
  build and its pages published to S3, fault injection (local only: on AWS the notebook
  says how FIS would do it and plays without faults), and checks that time Step Functions
  on the clock of whatever serves the calls. Then `workshop room --target aws --region …`
  hosts a game on the deployed stack and its pages, and a bot plays it.
* 99 (~50 after lab 5) — the clean-up on aws: `sam delete` of the game, the primer and
  the website (its bucket emptied first), log groups and layer versions, and an inventory
  that must come back empty. Lab 5, the room game and 99 took 138 s together.

Left out, since their aws path is lab 1's (exercise checks that deploy, then plain boto3
and WebSockets; lab 4's page is the same website as lab 5's): 02 (~68), 03 (~115),
04 (~143) and 06 (~147). All four passed on the aws target when this file was written;
``WORKSHOP_AWS_NOTEBOOKS=all`` runs them too (with ``-k 04_battle``, one of them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import pytest
from room_games import play_room_game, player_url

from workshop.cloud import private_cloud
from workshop.exercises import Workspace, all_exercises, lab_files
from workshop.exercises.catalog import LABS
from workshop.exercises.workspace import WORKSPACE_VARIABLE
from workshop.notebook.checks import STRICT_VARIABLE

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
OTHERS_VARIABLE = "WORKSHOP_AWS_NOTEBOOKS"
OTHERS = ("02_connection_table", "03_matchmaking", "04_battle", "06_lottery_sns")


@pytest.fixture
def aws_path(sam: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private local cloud, and the environment of a learner on the aws target pointed at
    it, with every exercise solved."""
    workspace = Workspace(tmp_path / "mygame")
    workspace.prepare(lab_files(max(LABS)))
    for item in all_exercises():
        workspace.solve(item)
    with private_cloud(time_scale=0.01):
        yield {**os.environ, STRICT_VARIABLE: "1", "WORKSHOP_TARGET": "aws",
               WORKSPACE_VARIABLE: str(workspace.root), "SAM_CLI_POLL_DELAY": "0.2",
               "__SAM_CLI_APP_DIR": str(tmp_path / "samconfig")}


def run_notebooks(env: dict[str, str], names: Sequence[str]) -> None:
    """Run each notebook top to bottom, in order, against the same cloud."""
    for name in names:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
             "--nbval-cell-timeout=300", "-p", "no:cacheprovider", "-q", "--no-header",
             "-x", str(NOTEBOOKS_DIR / f"{name}.ipynb")],
            env=env, cwd=NOTEBOOKS_DIR, capture_output=True, text=True, timeout=840)
        assert run.returncode == 0, \
            f"{name} on the aws target:\n{run.stdout[-8000:]}{run.stderr[-2000:]}"


def host_a_room_game(env: dict[str, str]) -> None:
    """`workshop room --target aws` (with --region) hosts a game on the deployed stack; a
    bot joins with what the room is told and ends on the leaderboard."""
    def joining(lines: IO[str]) -> tuple[str, str]:
        game_id = lines.readline().removeprefix("Trivia game ").strip()
        page = lines.readline().split("in a browser:", 1)[-1].strip()
        assert page.endswith(f"?game={game_id}") and "workshop-website" in page, page
        return game_id, player_url(lines)

    # 100 s to answer is 1 s at the time scale of 0.01: time for the bot's answer.
    out, expected = play_room_game(
        ["--target", "aws", "--region", env["AWS_REGION"], "--start-when", "1",
         "--questions", "1", "--wait", "100"],
        joining=joining, players={"Ada": 1.0}, seed=1, env=env)
    assert out.split("leaderboard:\n", 1)[1].split() == ["1.", "Ada", str(expected["Ada"])]


@pytest.mark.timeout(900)
def test_labs_0_and_1_run_top_to_bottom_on_the_aws_target(aws_path: dict[str, str]) -> None:
    run_notebooks(aws_path, ["00_setup", "01_hello_websocket"])


@pytest.mark.timeout(900)
def test_lab_5_a_room_game_and_the_clean_up_on_the_aws_target(
        aws_path: dict[str, str]) -> None:
    run_notebooks(aws_path, ["05_trivia_step_functions"])
    host_a_room_game(aws_path)
    run_notebooks(aws_path, ["99_cleanup"])


@pytest.mark.timeout(900)
# Opt-in, not a stub: these labs take the aws path lab 1 already covers, and would add
# about 8 minutes per Python run to `make test`; WORKSHOP_AWS_NOTEBOOKS=all runs them.
@pytest.mark.skipif(os.environ.get(OTHERS_VARIABLE) != "all",
                    reason=f"their aws path is lab 1's; {OTHERS_VARIABLE}=all runs them")
@pytest.mark.parametrize("name", OTHERS)
def test_the_other_labs_on_the_aws_target(aws_path: dict[str, str], name: str) -> None:
    run_notebooks(aws_path, [name])
