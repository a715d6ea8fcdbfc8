"""Lab 5 from the notebook's side: the primer state machine, and a trivia game played by the
panel and bots, judged by the Step Functions and trivia checks, on a private cloud."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from workshop import lab
from workshop.notebook import checks, show, state_machines, tables
from workshop.notebook.trivia_bots import AnswerKey, Bots
from workshop.notebook.trivia_panel import TriviaPanel
from workshop.player import Player

PRIMER = show.ROOT / "solutions" / "statemachines" / "primer.yaml"
WAIT = 15.0
# 100 of the state machine's seconds: one real second at the tests' time scale.
WAIT_SECONDS = 100


@pytest.fixture(autouse=True)
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failing checks are returned, not raised, so a test can look at their message."""
    monkeypatch.delenv(checks.STRICT_VARIABLE, raising=False)


@pytest.fixture(scope="module")
def trivia(cloud: dict) -> dict[str, str]:
    return lab.deploy(5, stack_name="notebook-trivia", target="local")["outputs"]


@pytest.fixture
def you(trivia: dict[str, str]) -> Iterator[Player]:
    player = Player(trivia["WebSocketURL"], user_id="you")
    yield player
    player.close()


def test_the_primer_grades_retries_and_records(cloud: dict) -> None:
    outputs = lab.deploy(5, template=PRIMER, stack_name="primer", target="local")["outputs"]
    arn = outputs["PrimerStateMachineArn"]
    runs = {}
    for name, answer in (("right", {"questionid": "choice", "answer": "Choice"}),
                         ("busy", {"questionid": "wait", "answer": "Wait", "busy": True})):
        runs[name] = state_machines.start(arn, {"player": "ada", "waitseconds": 2, **answer},
                                          name=name)
    assert checks.execution(runs["right"], visits={"Drum roll": 1, "Record the points": 1})
    assert checks.execution(runs["busy"], status="FAILED", visits={"Not graded": 1})
    history = state_machines.history_frame(runs["busy"])
    assert (history["type"] == "LambdaFunctionFailed").sum() == 3   # first try + 2 retries
    assert tables.items(outputs["PrimerAnswersTableName"]) == [
        {"player": "ada", "questionId": "choice", "points": 2}]
    wrong = checks.execution(runs["busy"], visits={"Record the points": 1})
    assert not wrong and "it ended FAILED, not SUCCEEDED (NotGraded:" in wrong.message
    assert "it entered Record the points 0 times, not 1" in wrong.message


def test_the_panel_and_bots_play_a_game(trivia: dict[str, str], you: Player) -> None:
    key = AnswerKey.load()
    panel = TriviaPanel(you)
    try:
        game_id = panel.new_game(name="You", timeout=WAIT)
        with Bots(trivia["WebSocketURL"], {"Ada": 1.0, "Linus": 0.0}, seed=1) as bots:
            bots.join(game_id, timeout=WAIT)
            # The creator hears of each join too, a moment after the one who joined.
            assert checks.eventually(lambda: set(panel.scores) == {"You", "Ada", "Linus"},
                                     timeout=WAIT)
            assert panel.you == "You"
            panel.start(waitseconds=WAIT_SECONDS, questioncount=2)
            first = panel.wait_for("question", timeout=WAIT)["question"]
            assert "answer" not in first
            assert panel.click(first["options"].index(key.answers[first["id"]]))
            panel.autoplay(lambda question: key.choose(question, accuracy=0.0,
                                                       rng=random.Random(2)))
            final = panel.wait_until_over(timeout=30)
            expected = {**bots.expected_scores(), "You": key.points[first["id"]]}
        assert final == dict(sorted(expected.items(), key=lambda item: -item[1]))
        assert len(panel.state.answers) == 2 and panel.state.over
        assert checks.trivia_scored(trivia["TriviaGamesTableName"], game_id, final)
        told_wrong = checks.trivia_scored(trivia["TriviaGamesTableName"], game_id,
                                          {**final, "Ada": final["Ada"] + 1})
        assert not told_wrong and "Ada was told" in told_wrong.message
        execution = (trivia["TriviaStateMachineArn"].replace(":stateMachine:", ":execution:")
                     + f":game-{game_id}")
        assert checks.execution(execution, visits={"AskQuestion": 2, "GameOver": 1})
    finally:
        panel.close()
