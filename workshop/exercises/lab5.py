"""Lab 5's exercises: the trivia game whose clock is a Step Functions state machine.

The checks play real games on the learner's stack, the way the trivia page does:
players connect, create and join a game, start it, answer, and the checks read what
came back, the game table, and the execution's definition and history.

A game's answering window is a few seconds of real time on either target: on the
local cloud ``waitseconds`` is scaled by its clock (``workshop up --time-scale``).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3

from .. import cloud, faults
from ..notebook import state_machines, tables
from ..notebook.checks import Check, CheckFailed, eventually, verdict
from ..notebook.trivia_bots import AnswerKey
from ..player import Player, PlayerTimeout
from .catalog import Exercise
from .json_parts import ABSENT, Part
from .runner import Deployment

__all__ = ["EXERCISES"]

ASL = "statemachines/trivia.asl.json"
# What the state machine sends may follow a cold start of its function.
FLOW = 15.0
UNKNOWN_GAME = "0123456789abcdef0123456789abcdef"
TASKS = ("AskQuestion", "ScoreAnswers", "AnnounceGameOver")
LAMBDA_TRANSIENT = ("Lambda.ServiceException", "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException", "Lambda.TooManyRequestsException")
RACE_LOG = "refused by the write's condition"
# 5.4's check on the local cloud: how many invocations of AskQuestion's function fail.
OUTAGE, OUTAGE_ERROR = 2, "Lambda.ServiceException"


# -- playing a game ------------------------------------------------------------------------

def _on_the_local_cloud(deployment: Deployment) -> bool:
    """Is the local cloud behind the deployment: its target, or the endpoint the aws target
    was pointed at (``AWS_ENDPOINT_URL``, as the tests of the aws path do)?"""
    if deployment.target == "local":
        return True
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").rstrip("/")
    return bool(endpoint) and endpoint == cloud.settings().endpoint_url.rstrip("/")


def _time_scale(deployment: Deployment) -> float:
    """How fast the Step Functions clock behind the deployment runs: the local cloud's
    time scale wherever it serves the calls, real time on AWS."""
    if not _on_the_local_cloud(deployment):
        return 1.0
    return float((cloud.status() or {}).get("time_scale") or 1.0)


def _waitseconds(deployment: Deployment, real_seconds: float) -> int:
    """The ``waitseconds`` that last about ``real_seconds`` on the deployment's clock."""
    return max(1, min(300, round(real_seconds / _time_scale(deployment))))


def _execution_arn(machine_arn: str, game_id: str) -> str:
    return machine_arn.replace(":stateMachine:", ":execution:") + f":game-{game_id}"


def _own_id(playerlist: Mapping[str, Any]) -> str:
    return next(p["connectionId"] for p in playerlist["players"] if p.get("currentPlayer"))


class _Table:
    """Players of one check's game; every connection is closed when the check ends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tag = f"check5-{secrets.token_hex(3)}"
        self.players: list[Player] = []
        self.ids: dict[Player, str] = {}
        self.game_id = ""

    def seat(self, *names: str) -> list[Player]:
        for name in names:
            self.players.append(Player(self.url, user_id=f"{self.tag}-{name}", name=name))
        return self.players

    def new_game(self) -> str:
        """The first player creates a game, the others join it."""
        first, *others = self.players
        first.send("newgame", name=first.name)
        self.game_id = first.wait_for("gamecreated", timeout=FLOW)["gameId"]
        self.ids[first] = _own_id(first.wait_for("playerlist", timeout=FLOW))
        for index, player in enumerate(others, start=1):
            player.send("joingame", gameid=self.game_id, name=player.name)
            self.ids[player] = _own_id(player.wait_for("playerlist", timeout=FLOW))
            for earlier in self.players[:index]:      # everyone hears the newcomer
                earlier.wait_for("playerlist", timeout=FLOW)
        return self.game_id

    def warm_up(self, per_player: int = 1) -> None:
        """Answers to no game, all at once: as many answer functions running as needed."""
        _at_once([(player, {"gameid": UNKNOWN_GAME, "questionid": "q01", "answer": "x"})
                  for player in self.players for _ in range(per_player)])
        for player in self.players:
            for _ in range(per_player):
                player.wait_for("error", timeout=FLOW)

    def close(self) -> None:
        for player in self.players:
            player.close()


@contextmanager
def _table(deployment: Deployment, *names: str) -> Iterator[_Table]:
    table = _Table(deployment.url)
    try:
        table.seat(*names)
        yield table
    finally:
        table.close()


def _at_once(sends: Iterable[tuple[Player, dict[str, Any]]]) -> None:
    """Send every ``(player, fields)`` answer at the same instant (threads on a barrier)."""
    sends = list(sends)
    barrier = threading.Barrier(len(sends))

    def send(player: Player, fields: dict[str, Any]) -> None:
        barrier.wait()
        player.send("answer", **fields)

    threads = [threading.Thread(target=send, args=pair) for pair in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _errors(player: Player) -> list[str]:
    return [str(m.get("data")) for m in player.messages("error")]


def _start(deployment: Deployment, table: _Table, *, waitseconds: int, count: int,
           first: bool = False) -> str:
    """Start the table's game; its execution's ARN once it runs (else CheckFailed).

    ``first``: this is exercise 5.1's own check; the others say to do 5.1 first.
    """
    try:
        return _started(deployment, table, waitseconds=waitseconds, count=count)
    except CheckFailed as failure:
        if first:
            raise
        raise CheckFailed(f"do exercise 5.1 first: {failure}") from None


def _started(deployment: Deployment, table: _Table, *, waitseconds: int, count: int) -> str:
    machine = deployment.output("TriviaStateMachineArn")
    first = table.players[0]
    errors_before, asked_at = len(_errors(first)), time.time() - 30.0
    first.send("startgame", gameid=table.game_id, waitseconds=waitseconds,
               questioncount=count)
    for player in table.players:
        try:
            player.wait_for("gamestarted", timeout=FLOW)
        except PlayerTimeout as timeout:
            raise CheckFailed(f"startgame did not start the game: {timeout}") from None
    arn = _execution_arn(machine, table.game_id)
    sfn = boto3.client("stepfunctions")

    def described() -> dict[str, Any] | None:
        try:
            return sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            return None

    if eventually(described, timeout=5.0):
        return arn
    said = _errors(first)[errors_before:]
    if said:
        raise CheckFailed(f"the players were told {said[-1]!r} after gamestarted: "
                          "start_execution failed; look at TriviaStartGameFunction's log")
    recent = [e for e in sfn.list_executions(stateMachineArn=machine,
                                             maxResults=100)["executions"]
              if e["startDate"].timestamp() >= asked_at]
    others = [e["name"] for e in recent if table.game_id in
              sfn.describe_execution(executionArn=e["executionArn"]).get("input", "")]
    if others:
        raise CheckFailed(f"the game's execution is named {others[0]!r}, not "
                          f"'game-{table.game_id}': name it game-<gameid>, so that Step "
                          "Functions refuses a second execution of the same game")
    raise CheckFailed("the players heard gamestarted, but no execution of the state machine "
                      f"started for game {table.game_id}: startgame must call "
                      "stepfunctions.start_execution")


def _definition(deployment: Deployment) -> dict[str, Any]:
    return state_machines.definition(deployment.output("TriviaStateMachineArn"))


def _needs_wait(definition: Mapping[str, Any]) -> None:
    if not any(s.get("Type") == "Wait" for s in definition.get("States", {}).values()):
        raise CheckFailed("the state machine scores each question the moment it is asked, "
                          "so nobody can answer in time: do exercise 5.2 (the Wait state) "
                          "first")


# -- 5.1 the startgame route starts the execution -----------------------------------------

def starts_the_execution(deployment: Deployment) -> Check:
    waitseconds = _waitseconds(deployment, 1.0)
    with _table(deployment, "ann", "bob") as table:
        table.new_game()
        arn = _start(deployment, table, waitseconds=waitseconds, count=1, first=True)
        name = arn.rsplit(":", 1)[-1]
        given = json.loads(boto3.client("stepfunctions").describe_execution(
            executionArn=arn)["input"])
        if given != {"gameid": table.game_id, "waitseconds": waitseconds}:
            extra = sorted(set(given) - {"gameid", "waitseconds"})
            if extra:
                return verdict(False, "", f"execution {name} got the input keys {extra} too: "
                                          "its input is only {gameid, waitseconds}; the "
                                          "questions and answers stay in the game table, "
                                          "out of the execution history")
            return verdict(False, "", f"execution {name} got the input {given}, not "
                                      f"{{'gameid': {table.game_id!r}, 'waitseconds': "
                                      f"{waitseconds}}} (the game's id and the wait the "
                                      "player asked for)")
        for player in table.players:
            try:
                question = player.wait_for("question", timeout=FLOW)["question"]
            except PlayerTimeout as timeout:
                return verdict(False, "", f"execution {name} started but no question came: "
                                          f"{timeout}. Look at its history")
        return verdict(True, f"startgame started execution {name} with only "
                             f"{{gameid, waitseconds}}, and its first question "
                             f"({question['id']}) reached both players", "")


# -- 5.2 ask, wait, score, loop -----------------------------------------------------------

def asks_waits_and_loops(deployment: Deployment) -> Check:
    count, key = 3, AnswerKey.load()
    waitseconds = _waitseconds(deployment, 2.0)
    states = _definition(deployment).get("States", {})
    waits = [n for n, s in states.items() if s.get("Type") == "Wait"]
    choices = [n for n, s in states.items() if s.get("Type") == "Choice"]
    fixed = [n for n in waits if states[n].get("SecondsPath") != "$.waitseconds"]
    if fixed:
        how = states[fixed[0]].get("Seconds", states[fixed[0]].get("SecondsPath"))
        return verdict(False, "", f"{fixed[0]} waits {how!r} whatever the game's creator "
                                  "asked for: read the wait from the execution's input with "
                                  "\"SecondsPath\": \"$.waitseconds\"")
    with _table(deployment, "ada", "bob") as table:
        ada = table.players[0]

        def answer_right(message: dict[str, Any]) -> None:
            question = message.get("question")
            if message.get("action") == "question" and question:
                ada.send("answer", gameid=table.game_id, questionid=question["id"],
                         answer=key.answers.get(question["id"], ""))

        table.new_game()
        table.warm_up()
        ada.on_message = answer_right
        arn = _start(deployment, table, waitseconds=waitseconds, count=count)
        name = arn.rsplit(":", 1)[-1]
        try:
            for player in table.players:
                player.wait_for("gameover", timeout=count * (FLOW + 2.0))
        except PlayerTimeout as timeout:
            return verdict(False, "", f"the game never ended: {timeout}. Look at execution "
                                      f"{name}'s history")
        time.sleep(0.3)                         # a second gameover would arrive meanwhile
        asked = [m["question"]["id"] for m in ada.messages("question")]
        if len(asked) < count:
            return verdict(False, "", f"the game asked {len(asked)} of its {count} questions, "
                                      "then ended: after ScoreAnswers, a Choice state must go "
                                      "back to AskQuestion while $.scored.more is true")
        if len(asked) > count or len(set(asked)) != count:
            return verdict(False, "", f"a {count}-question game asked {asked}: the Choice "
                                      "must stop looping once $.scored.more is false")
        overs = [len(p.messages("gameover")) for p in table.players]
        if overs != [1] * len(table.players):
            return verdict(False, "", f"the players got {overs} gameover messages, not one "
                                      "each: the loop must end in AnnounceGameOver once")
        final = ada.messages("playerlist")[-1]["players"]
        score = next(p["score"] for p in final if p["connectionId"] == table.ids[ada])
        earned = sum(key.points.get(qid, 0) for qid in asked)
        if score != earned:
            late = [e for e in _errors(ada) if "not the question" in e or "too late" in e]
            return verdict(False, "", f"ada answered all {count} questions right the moment "
                                      f"they came, but scored {score} of {earned}"
                                      + (f" (told {late[0]!r})" if late else "")
                                      + ": the answers came after the scoring. Is there a "
                                      "Wait state between AskQuestion and ScoreAnswers?")
        described = state_machines.wait(arn, timeout=FLOW)
        if described["status"] != "SUCCEEDED":
            return verdict(False, "", f"execution {name} ended {described['status']}: look "
                                      "at its history")
        taken = Counter(state_machines.path(arn))
        for names, what in ((waits, "Wait"), (choices, "Choice")):
            entered = sum(taken[n] for n in names)
            if entered != count:
                return verdict(False, "", f"execution {name} entered a {what} state {entered} "
                                          f"times in a {count}-question game, not {count}: "
                                          "look at its path")
        loop = ", ".join(f"{n} ×{taken[n]}" for n in ("AskQuestion", *waits, "ScoreAnswers",
                                                      *choices))
        return verdict(True, f"a {count}-question game asked every question, waited "
                             f"waitseconds each time, scored ada's {earned} points and ended "
                             f"with one gameover: {loop}", "")


# -- 5.3 an answer counts once ------------------------------------------------------------

def answers_count_once(deployment: Deployment) -> Check:
    rounds = 3
    _needs_wait(_definition(deployment))
    function = deployment.output("TriviaAnswerFunctionName")
    games_table = boto3.resource("dynamodb").Table(deployment.output("TriviaGamesTableName"))
    waitseconds = _waitseconds(deployment, 3.0)
    started_ms = tables.now_ms()
    with _table(deployment, "ann", "bob") as table:
        table.new_game()
        table.warm_up(per_player=4)
        _start(deployment, table, waitseconds=waitseconds, count=rounds)
        ann = table.players[0]
        for index in range(rounds):
            before = {player: len(_errors(player)) for player in table.players}
            questions = [p.wait_for("question", timeout=FLOW)["question"] for p in table.players]
            question = questions[0]
            # Every player sends every option at the same instant.
            _at_once([(player, {"gameid": table.game_id, "questionid": question["id"],
                                "answer": option})
                      for player in table.players for option in question["options"]])
            if index == 0:
                ann.send("answer", gameid=table.game_id, questionid="q-not-asked",
                         answer=question["options"][0])
            for player in table.players:
                player.wait_for("playerlist", timeout=FLOW + waitseconds)
            for player in table.players:
                said = [e for e in _errors(player)[before[player]:] if "q-not-asked" not in e]
                refused = len(said)
                stored = (games_table.get_item(
                    Key={"gameId": table.game_id, "connectionId": table.ids[player]},
                    ConsistentRead=True).get("Item") or {}).get("answers", {})
                kept = stored.get(question["id"])
                sent = len(question["options"])
                if kept is None:
                    return verdict(False, "", f"{player.name} sent the {sent} options of "
                                              f"{question['id']} at once and none was "
                                              f"recorded; the replies were {said}: is a "
                                              "condition refusing every answer?")
                if refused < sent - 1:
                    return verdict(False, "", f"{player.name} sent the {sent} options of "
                                              f"{question['id']} at the same instant: "
                                              f"{sent - refused} were accepted and the table "
                                              f"kept {kept!r}, the last write. Each handler "
                                              "read 'no answer yet' before any wrote: make "
                                              "the write conditional")
            if index == 0:
                wrong = [e for e in _errors(ann)[before[ann]:] if "q-not-asked" in e]
                if not wrong:
                    return verdict(False, "", "an answer to a question that is not being "
                                              "asked got no error reply")
        raced = eventually(lambda: [e for e in tables.log_events(function, since_ms=started_ms)
                                    if RACE_LOG in e["message"]], timeout=15.0)
        if not raced:
            return verdict(False, "", f"every answer counted once, but in {rounds} rounds no "
                                      "two answers raced (each handler read the game after "
                                      "the one before had written), so this run could not "
                                      "test your conditions. Nothing wrong was seen: check "
                                      "again")
        return verdict(True, f"{rounds} times, each player sent all four options at the same "
                             "instant: one answer counted and the others were refused "
                             f"({len(raced)} by your write's condition, losing a race); an "
                             "answer to another question was refused too. (An answer racing "
                             "the scoring itself is not provoked here: the condition on the "
                             "game item is what stops it.)", "")


# -- 5.4 Retry and Catch -------------------------------------------------------------------

def _retry_problem(name: str, state: Mapping[str, Any]) -> str | None:
    retriers = state.get("Retry") or []
    covered = {error for retrier in retriers for error in retrier.get("ErrorEquals", [])}
    if not retriers:
        return (f"{name} has no Retry: a throttled or failed Lambda invocation would end the "
                "game. Retry the Lambda service's transient errors")
    missing = [error for error in LAMBDA_TRANSIENT if error not in covered]
    if missing:
        return f"{name}'s Retry does not cover {', '.join(missing)}"
    broad = sorted(covered & {"States.ALL", "States.TaskFailed"})
    if broad:
        return (f"{name}'s Retry names {broad[0]}, which also retries errors of the game "
                "itself (a TriviaError fails again every time): retry only the Lambda "
                "service's errors")
    return None


def _catch_problem(name: str, state: Mapping[str, Any], states: Mapping[str, Any]) -> str | None:
    catchers = [c for c in state.get("Catch") or [] if "States.ALL" in c.get("ErrorEquals", [])]
    if not catchers:
        return (f"{name} has no Catch for States.ALL: when it fails for good the execution "
                "fails and the players wait forever")
    catcher = catchers[0]
    target = states.get(catcher.get("Next"), {})
    if catcher.get("Next") != "EndGameAfterError":
        return f"{name}'s Catch goes to {catcher.get('Next')!r}, not EndGameAfterError"
    if target.get("Type") != "Task":
        return "EndGameAfterError must be a Task that invokes the game-over function"
    if catcher.get("ResultPath") in (None, "$"):
        return (f"{name}'s Catch has no ResultPath: the error would replace the state's data "
                "and EndGameAfterError could not find $.gameid. Put it at \"$.error\"")
    return None


def _outage(deployment: Deployment, task: Mapping[str, Any]) -> faults.Fault | None:
    """On the local cloud, the next ``OUTAGE`` invocations of the task's function fail with
    ``Lambda.ServiceException``; on AWS, None (nothing can be injected from here)."""
    if deployment.target != "local":
        return None
    resource = str(task.get("Resource", ""))
    if ":function:" in resource:
        return faults.add_error(resource, error=OUTAGE_ERROR, count=OUTAGE)
    return faults.add_error("TriviaQuestionFunction", error=OUTAGE_ERROR, count=OUTAGE,
                            stack_name=deployment.report.get("stack_name"))


def _backoff(deployment: Deployment, task: Mapping[str, Any], retries: int) -> float:
    """Seconds a task's first Retrier waits over ``retries`` retries, on the cloud's clock."""
    retrier = next(iter(task.get("Retry") or []), {})
    interval = float(retrier.get("IntervalSeconds", 1))
    rate = float(retrier.get("BackoffRate", 2.0))
    seconds = sum(interval * rate ** attempt for attempt in range(retries))
    return seconds * _time_scale(deployment)


def _question_or_end(player: Player, timeout: float) -> str | None:
    """``"question"`` once one came, ``"gameover"`` if the game ended first, else None."""
    def came() -> str | None:
        actions = [m.get("action") for m in player.inbox]
        return next((a for a in actions if a in ("question", "gameover")), None)

    return eventually(came, timeout=timeout)


def _failures(execution_arn: str, error: str) -> int:
    return sum(event["type"] == "LambdaFunctionFailed"
               and event["lambdaFunctionFailedEventDetails"].get("error") == error
               for event in state_machines.history(execution_arn))


def retries_and_catches(deployment: Deployment) -> Check:
    definition = _definition(deployment)
    states = definition.get("States", {})
    missing = [name for name in TASKS if states.get(name, {}).get("Type") != "Task"]
    if missing:
        return verdict(False, "", f"the state machine has no Task {missing[0]}: keep the "
                                  "states of the game, add Retry and Catch to them")
    for name in TASKS:
        problem = _retry_problem(name, states[name]) or _catch_problem(name, states[name],
                                                                       states)
        if problem:
            return verdict(False, "", problem)
    if states.get("GameFailed", {}).get("Type") != "Fail":
        return verdict(False, "", "there is no Fail state GameFailed: after EndGameAfterError "
                                  "has told the players, the execution should fail, so the "
                                  "failure shows in the console")
    _needs_wait(definition)
    games_table = boto3.resource("dynamodb").Table(deployment.output("TriviaGamesTableName"))
    with _table(deployment, "ann", "bob") as table:
        table.new_game()
        # On the local cloud, Lambda "fails" twice when AskQuestion first invokes it, as in
        # an outage: the Retry is seen at work, not only read. (AWS cannot be asked to.)
        fault = _outage(deployment, states["AskQuestion"])
        try:
            arn = _start(deployment, table, waitseconds=_waitseconds(deployment, 1.5), count=3)
            name = arn.rsplit(":", 1)[-1]
            for player in table.players:
                came = _question_or_end(player, FLOW + _backoff(
                    deployment, states["AskQuestion"], OUTAGE if fault else 0))
                if came != "question" and fault is not None:
                    return verdict(False, "", f"AskQuestion met {OUTAGE} × {OUTAGE_ERROR} "
                                              "(injected by this check, as a Lambda outage "
                                              f"would be) and {player.name} got "
                                              f"{came or 'nothing'} instead of a question: "
                                              f"its Retry must try again at least {OUTAGE} "
                                              f"times. Look at execution {name}'s history")
                if came != "question":
                    return verdict(False, "", f"the game's first question never reached "
                                              f"{player.name} (got {came or 'nothing'}): "
                                              f"look at execution {name}'s history")
        finally:
            if fault is not None:
                fault.clear()
        met = _failures(arn, OUTAGE_ERROR) if fault is not None else 0
        if fault is not None and met != OUTAGE:
            return verdict(False, "", f"{OUTAGE} × {OUTAGE_ERROR} were injected into "
                                      f"AskQuestion's function, but execution {name} met "
                                      f"{met}: look at its history")
        # The game item vanishes while the players think: ScoreAnswers cannot score.
        games_table.delete_item(Key={"gameId": table.game_id, "connectionId": "#game"})
        described = state_machines.wait(arn, timeout=3 * FLOW)
        path = state_machines.path(arn)
        if "EndGameAfterError" not in path:
            return verdict(False, "", f"ScoreAnswers failed and execution {name} ended "
                                      f"{described['status']} at {path[-1] if path else '?'}, "
                                      "without EndGameAfterError: the players were never told")
        told = {}
        for player in table.players:
            try:
                told[player.name] = player.wait_for("error", timeout=FLOW)["data"]
                player.wait_for("gameover", timeout=FLOW)
            except PlayerTimeout as timeout:
                return verdict(False, "", f"EndGameAfterError ran but {timeout}: is its "
                                          "input {gameid, error} (\"error.$\": "
                                          "\"$.error.Error\")?")
        if described["status"] != "FAILED" or path[-1] != "GameFailed":
            return verdict(False, "", f"execution {name} ended {described['status']} at "
                                      f"{path[-1]}: after EndGameAfterError it should end in "
                                      "the Fail state GameFailed")
        retried = (f"AskQuestion met {OUTAGE} injected {OUTAGE_ERROR}s and retried "
                   "them; " if fault is not None else "")
        return verdict(True, "every task retries Lambda's transient errors and catches the "
                             f"rest; {retried}when ScoreAnswers failed, the players were told "
                             f"{told['ann']!r} and gameover, and {name} ended in GameFailed",
                       "")


EXERCISES = [
    Exercise(
        "5.1", "Start the game's state machine",
        "In `trivia/start_game.py`, start an execution of the state machine "
        "(`STATE_MACHINE_ARN`) for the game: named `game-<gameid>`, with the input "
        "`{\"gameid\", \"waitseconds\"}` and nothing else. If Step Functions refuses, end "
        "the game with `games.abort` so the players are told.",
        "`stepfunctions.start_execution(stateMachineArn=..., name=f\"game-{game_id}\", "
        "input=json.dumps({...}))`. The input is a JSON *string*. Catch `ClientError` around "
        "it and call `games.abort(event, game_id, \"the game could not start: try a new "
        "game\")`.",
        starts_the_execution),
    Exercise(
        "5.2", "Ask, wait, score, loop",
        "In `statemachines/trivia.asl.json` the game asks one question, scores it at once and "
        "ends. Add the Wait state `WaitForAnswers` between `AskQuestion` and `ScoreAnswers`, "
        "waiting the seconds the game's creator chose, and the Choice state `MoreQuestions` "
        "after `ScoreAnswers` that loops back to `AskQuestion` while questions are left.",
        "`{\"Type\": \"Wait\", \"SecondsPath\": \"$.waitseconds\", \"Next\": "
        "\"ScoreAnswers\"}`; `{\"Type\": \"Choice\", \"Choices\": [{\"Variable\": "
        "\"$.scored.more\", \"BooleanEquals\": true, \"Next\": \"AskQuestion\"}], "
        "\"Default\": \"AnnounceGameOver\"}`. Then point `AskQuestion`'s `Next` at the Wait "
        "and `ScoreAnswers`'s `Next` at the Choice.",
        asks_waits_and_loops,
        json_parts={ASL: (
            Part(("States", "WaitForAnswers"), ABSENT),
            Part(("States", "MoreQuestions"), ABSENT),
            Part(("States", "AskQuestion", "Next"), "ScoreAnswers"),
            Part(("States", "ScoreAnswers", "Next"), "AnnounceGameOver"),
        )}),
    Exercise(
        "5.3", "An answer counts once",
        "In `trivia/games.py`, make `record_answer`'s write conditional: it may set the "
        "answer only if the player has none for that question yet, and only while the game "
        "item still asks that question unscored — checked by DynamoDB in the same "
        "transaction, so two answers sent at once cannot both count.",
        "Add `\"ConditionExpression\": \"attribute_exists(connectionId) AND "
        "attribute_not_exists(answers.#question)\"` to the Update, and in front of it "
        "`_game_is(game, \"#phase = :playing AND #position = :position AND #scored = :no\", "
        "{\":playing\": PLAYING, \":position\": game.position, \":no\": False})`. A failed "
        "condition cancels the transaction: `_transact` raises `Conflict`, and `answer.py` "
        "tells the player why.",
        answers_count_once),
    Exercise(
        "5.4", "Retry and Catch",
        "In `statemachines/trivia.asl.json`, give `AskQuestion`, `ScoreAnswers` and "
        "`AnnounceGameOver` a `Retry` for Lambda's transient errors and a `Catch` of "
        "everything else to a new Task `EndGameAfterError`, which invokes the game-over "
        "function with `{gameid, error}` and then goes to a new Fail state `GameFailed`.",
        "Retry: `{\"ErrorEquals\": [\"Lambda.ServiceException\", \"Lambda.AWSLambdaException\", "
        "\"Lambda.SdkClientException\", \"Lambda.TooManyRequestsException\"], "
        "\"IntervalSeconds\": 1, \"MaxAttempts\": 3, \"BackoffRate\": 2}`. Catch: "
        "`{\"ErrorEquals\": [\"States.ALL\"], \"ResultPath\": \"$.error\", \"Next\": "
        "\"EndGameAfterError\"}`. EndGameAfterError: `\"Resource\": "
        "\"${TriviaGameOverFunctionArn}\"`, `\"Parameters\": {\"gameid.$\": \"$.gameid\", "
        "\"error.$\": \"$.error.Error\"}`, `\"ResultPath\": null`, `\"Next\": \"GameFailed\"`.",
        retries_and_catches,
        json_parts={ASL: (
            *(Part(("States", task, field), ABSENT)
              for task in TASKS for field in ("Retry", "Catch")),
            Part(("States", "EndGameAfterError"), ABSENT),
            Part(("States", "GameFailed"), ABSENT),
        )}),
]
