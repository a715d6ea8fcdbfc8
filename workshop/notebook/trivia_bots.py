"""The trivia game's requests, and bot players that join a game and answer with a chosen accuracy.

The request builders (:func:`newgame`, :func:`joingame`, :func:`startgame`,
:func:`answer`) are the one place the trivia wire protocol is spelled out on the client
side; the panel, the bots and ``python -m workshop demo`` all send through them.

A bot knows the question bank (``solutions/trivia/questions.json``), like a player who
studied: it picks the right option with probability ``accuracy`` and a wrong one
otherwise. It answers the moment a question arrives, from its connection's reader
thread, so bots keep up even when the local cloud's time scale shrinks the wait between
questions to a fraction of a second.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from ..lab import TEMPLATE
from ..player import Player

__all__ = ["BANK", "AnswerKey", "Bots", "TriviaBot", "answer", "joingame", "newgame",
           "scores", "startgame"]

BANK = TEMPLATE.parent / "solutions" / "trivia" / "questions.json"


def _request(action: str, **fields: Any) -> dict[str, Any]:
    """A request with the optional fields that were not given left out."""
    return {"action": action, **{key: value for key, value in fields.items()
                                 if value is not None}}


def newgame(*, name: str | None = None) -> dict[str, Any]:
    """Create a game; the sender is its first player (``name``, or a random one)."""
    return _request("newgame", name=name)


def joingame(game_id: str, *, name: str | None = None) -> dict[str, Any]:
    """Join a game that has not started yet."""
    return _request("joingame", gameid=game_id, name=name)


def startgame(game_id: str, *, waitseconds: int | None = None,
              questioncount: int | None = None) -> dict[str, Any]:
    """Start a game: ``waitseconds`` to answer each of ``questioncount`` questions."""
    return _request("startgame", gameid=game_id, waitseconds=waitseconds,
                    questioncount=questioncount)


def answer(game_id: str, question_id: str, option: str) -> dict[str, Any]:
    """Answer the question being asked with one of its options (the option's text)."""
    return _request("answer", gameid=game_id, questionid=question_id, answer=option)


def scores(playerlist: Mapping[str, Any]) -> dict[str, int]:
    """A ``playerlist`` message as ``{player name: score}``, best first."""
    ranked = sorted(playerlist.get("players", []), key=lambda p: -p.get("score", 0))
    return {str(p.get("playerName")): int(p.get("score", 0)) for p in ranked}


@dataclass(frozen=True)
class AnswerKey:
    """The right option and the points of every question in the bank."""

    answers: Mapping[str, str]
    points: Mapping[str, int]

    @classmethod
    def load(cls, path: Path = BANK) -> AnswerKey:
        """The key of the question bank at ``path``."""
        bank = json.loads(path.read_text())
        return cls(answers={q["id"]: q["answer"] for q in bank},
                   points={q["id"]: 1 + int(q.get("bonus", 0)) for q in bank})

    def choose(self, question: Mapping[str, Any], *, accuracy: float,
               rng: random.Random) -> str:
        """An option of ``question``: the right one with probability ``accuracy``."""
        right = self.answers.get(question["id"])
        wrong = [option for option in question["options"] if option != right]
        if right in question["options"] and (rng.random() < accuracy or not wrong):
            return right
        return rng.choice(wrong or list(question["options"]))

    def earned(self, question_id: str, option: str) -> int:
        """What answering ``option`` to the question earns (0 if wrong)."""
        return self.points.get(question_id, 0) if self.answers.get(question_id) == option else 0


class TriviaBot:
    """One bot player: its own connection; it answers every question it is asked."""

    def __init__(self, url: str, *, name: str, accuracy: float, key: AnswerKey,
                 rng: random.Random) -> None:
        self.name, self.accuracy = name, accuracy
        self.game_id: str | None = None
        self.answers: dict[str, str] = {}   # question id -> the option it sent
        self._key, self._rng = key, rng
        self.player = Player(url, name=name, on_message=self._heard)

    def __repr__(self) -> str:
        return f"<TriviaBot {self.name} accuracy {self.accuracy:.0%}, {len(self.answers)} answers>"

    def send(self, request: Mapping[str, Any]) -> None:
        """Send one of this module's requests; remembers the game it creates or joins."""
        if "gameid" in request:
            self.game_id = request["gameid"]
        self.player.send(**request)

    def create(self, *, timeout: float = 15.0) -> str:
        """Create a game (named after the bot); returns its id."""
        self.send(newgame(name=self.name))
        self.game_id = self.player.wait_for("gamecreated", timeout=timeout)["gameId"]
        return self.game_id

    def expected_score(self) -> int:
        """The points its answers earn by the bank's key."""
        return sum(self._key.earned(qid, option) for qid, option in self.answers.items())

    def _heard(self, message: dict[str, Any]) -> None:
        if message.get("action") == "gamecreated":
            self.game_id = message.get("gameId")
        question = message.get("question")
        if message.get("action") != "question" or not self.game_id or not question:
            return
        option = self._key.choose(question, accuracy=self.accuracy, rng=self._rng)
        self.answers[question["id"]] = option
        self.player.send(**answer(self.game_id, question["id"], option))


class Bots:
    """Bots named after ``accuracies`` (``{"Ada": 0.9, "Linus": 0.3}``), connected.

    ``seed`` makes their choices repeatable for the same questions. Use it as a context
    manager, or call :meth:`close`.
    """

    def __init__(self, url: str, accuracies: Mapping[str, float], *, seed: int | None = None,
                 key: AnswerKey | None = None) -> None:
        key = key or AnswerKey.load()
        rng = random.Random(seed)
        self.bots: list[TriviaBot] = []
        try:
            for name, accuracy in accuracies.items():
                self.bots.append(TriviaBot(url, name=name, accuracy=accuracy, key=key,
                                           rng=random.Random(rng.random())))
        except Exception:
            self.close()
            raise

    def __iter__(self) -> Iterator[TriviaBot]:
        return iter(self.bots)

    def __len__(self) -> int:
        return len(self.bots)

    def join(self, game_id: str, *, timeout: float = 15.0) -> None:
        """Every bot joins the game, one after the other, each told the player list."""
        for bot in self.bots:
            bot.send(joingame(game_id, name=bot.name))
            bot.player.wait_for("playerlist", timeout=timeout)

    def expected_scores(self) -> dict[str, int]:
        """Each bot's score by the bank's key, from the answers it sent."""
        return {bot.name: bot.expected_score() for bot in self.bots}

    def close(self) -> None:
        """Close every bot's connection."""
        for bot in self.bots:
            bot.player.close()

    def __enter__(self) -> Bots:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
