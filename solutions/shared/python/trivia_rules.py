"""The rules of the trivia game (lab 5), on plain data: no AWS, no network.

Someone creates a game and is its first player; others join it while it waits; starting
it fixes the questions and closes the door. Then, question after question, the state
machine asks, waits and scores: a player may answer the question being asked, once, until
that question is scored, and each correct answer earns 1 point plus the question's bonus.
After the last question is scored the game is over.

Every function here takes the state and returns a new one (or raises ``TriviaError``, whose
message is the reason the player reads); nothing is changed in place, so a handler can
compute the new state first and write it only if the rules allowed it.

The game table has the key ``gameId`` (partition) + ``connectionId`` (sort), and a game is
the items that share its ``gameId``, read back with one Query:

* the game item, ``connectionId`` = ``GAME_ROW`` (``"#game"``; API Gateway connection ids
  never start with ``#``): ``{"gameId", "connectionId", "phase", "questions", "position",
  "scored"}``; ``questions`` are the chosen questions, answers included, so the answers
  stay in the table and never travel in the execution input or to the players;
  ``position`` is the index of the question being asked (-1 before the first); ``scored``
  says whether that question has been scored;
* one item per player, ``connectionId`` = the player's connection:
  ``{"gameId", "connectionId", "playerName", "score", "answers"}``, where ``answers`` maps
  a question id to the option the player chose.

Once the players have been told the game is over, the game item also gets
``"announced": true``, so ``gameover`` is sent once even if the state machine runs its
last task again.

``Game.to_items`` and ``game_from_items`` convert both ways (DynamoDB returns numbers as
Decimal). The checks below are what the handlers repeat as conditions on their writes, so
that two requests racing each other cannot both win: an answer is
``SET answers.#q = :a`` on the player item with ``attribute_not_exists(answers.#q)``, in a
transaction with a ConditionCheck that the game item still asks ``#q`` unscored; a join
puts the player item only while the game item's ``phase`` is ``waiting``; a start flips
``phase`` from ``waiting`` to ``playing`` with a condition, so it happens once.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "COLOURS",
    "GAME_ROW",
    "MAX_NAME_LENGTH",
    "MAX_PLAYERS",
    "OPTIONS_PER_QUESTION",
    "OVER",
    "PLAYING",
    "QUESTION_COUNT_RANGE",
    "WAITING",
    "WAIT_SECONDS_RANGE",
    "Game",
    "Player",
    "Question",
    "TriviaError",
    "accept_answer",
    "ask_question",
    "check_game_id",
    "choose_player_name",
    "choose_questions",
    "create_game",
    "drop_player",
    "end_game",
    "game_from_items",
    "game_id_in",
    "join_game",
    "new_game_id",
    "next_question",
    "parse_bank",
    "player_connections",
    "player_list",
    "public_question",
    "required",
    "score_question",
    "start_game",
    "start_options",
    "was_scored",
]

WAITING, PLAYING, OVER = "waiting", "playing", "over"
GAME_ROW = "#game"
OPTIONS_PER_QUESTION = 4
# Scoring writes the game item and every player item in one DynamoDB transaction, which
# takes at most 100 writes: 50 players leave room for the few that may join at once.
MAX_PLAYERS = 50
MAX_NAME_LENGTH = 24
WAIT_SECONDS_RANGE = (1, 300)
QUESTION_COUNT_RANGE = (1, 20)
# Players who send no name are named after a colour, as in the original game.
COLOURS = ("Amber", "Aqua", "Azure", "Beige", "Coral", "Crimson", "Cyan", "Gold", "Indigo",
           "Ivory", "Jade", "Khaki", "Lavender", "Lime", "Magenta", "Maroon", "Mint",
           "Navy", "Olive", "Orchid", "Peach", "Plum", "Ruby", "Salmon", "Sienna", "Teal",
           "Tomato", "Turquoise", "Violet", "Wheat")

_GAME_ID = re.compile(r"[0-9a-f]{32}")


class TriviaError(Exception):
    """A request the rules refuse; the message is the reason the player reads."""


# -- questions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """A question of the bank, answer included: it stays on the server."""

    id: str
    question: str
    options: tuple[str, ...]
    answer: str
    bonus: int = 0

    @property
    def points(self) -> int:
        """What a correct answer earns."""
        return 1 + self.bonus

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Question:
        """A question from the bank's JSON (or a stored item); refused if malformed."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"a question must be an object, not {raw!r}")
        qid, text, options = raw.get("id"), raw.get("question"), raw.get("options")
        answer, bonus = raw.get("answer"), raw.get("bonus", 0)
        if not isinstance(qid, str) or not qid:
            raise ValueError(f"question id must be a non-empty string, not {qid!r}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{qid}: the question must be a non-empty string")
        if (not isinstance(options, Sequence) or isinstance(options, str)
                or len(options) != OPTIONS_PER_QUESTION
                or not all(isinstance(o, str) and o.strip() for o in options)):
            raise ValueError(f"{qid}: options must be {OPTIONS_PER_QUESTION} non-empty strings")
        if len(set(options)) != len(options):
            raise ValueError(f"{qid}: options must be distinct")
        if answer not in options:
            raise ValueError(f"{qid}: the answer {answer!r} is not one of the options")
        # bool is an int in Python; DynamoDB hands numbers back as Decimal.
        if isinstance(bonus, bool) or not _is_whole(bonus) or bonus < 0:
            raise ValueError(f"{qid}: bonus must be a whole number >= 0, not {bonus!r}")
        return cls(qid, text, tuple(options), answer, int(bonus))

    def to_dict(self) -> dict[str, Any]:
        """The stored form, answer included (for the game item, never for players)."""
        return {"id": self.id, "question": self.question, "options": list(self.options),
                "answer": self.answer, "bonus": self.bonus}


def _is_whole(value: Any) -> bool:
    try:
        return int(value) == value
    except (TypeError, ValueError):
        return False


def public_question(question: Question) -> dict[str, Any]:
    """What players see of a question: id, text and options, never the answer."""
    return {"id": question.id, "question": question.question,
            "options": list(question.options)}


def parse_bank(raw: Any) -> tuple[Question, ...]:
    """The question bank from its JSON list; ids and question texts must be unique."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("the question bank must be a non-empty list")
    bank = tuple(Question.from_dict(item) for item in raw)
    for what, values in (("id", [q.id for q in bank]),
                         ("question", [q.question.strip().casefold() for q in bank])):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"repeated question {what}: {', '.join(repeated)}")
    return bank


def choose_questions(bank: Sequence[Question], count: int,
                     rng: random.Random | None = None) -> tuple[Question, ...]:
    """``count`` different questions drawn from the bank, in the order they will be asked.

    Pass a seeded ``random.Random`` to make the draw repeatable (tests, demos).
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise TriviaError(f"the number of questions must be a whole number, not {count!r}")
    distinct = {q.id: q for q in bank}
    if len(distinct) != len(bank):
        raise ValueError("the question bank repeats a question id")
    if not 1 <= count <= len(bank):
        raise TriviaError(f"the number of questions must be between 1 and {len(bank)}")
    return tuple((rng or random.Random()).sample(list(bank), count))


# -- game ids ----------------------------------------------------------------------------

def new_game_id(rng: random.Random | None = None) -> str:
    """A fresh game id: 32 hex digits, as in the gamecreated message."""
    if rng is None:
        return uuid.uuid4().hex
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def check_game_id(value: Any) -> str:
    """The ``gameid`` a client sent, if it can be a game id at all.

    Refusing malformed ids here keeps them out of DynamoDB keys (an empty string is not
    even a valid key there); a well-formed id of no game is refused by the other rules.
    """
    if not isinstance(value, str):
        raise TriviaError(f'"gameid" must be a string, not {value!r}')
    if not _GAME_ID.fullmatch(value):
        raise TriviaError(f"no such game: {value!r}")
    return value


# -- requests ----------------------------------------------------------------------------

def required(message: Mapping[str, Any], name: str, action: str) -> Any:
    """The field ``name`` of a client's message; refused if the message has none."""
    if name not in message:
        article = "an" if name[0] in "aeiou" else "a"
        raise TriviaError(f'{action} needs {article} "{name}"')
    return message[name]


def game_id_in(message: Mapping[str, Any], action: str) -> str:
    """The well-formed ``gameid`` a message must carry (joingame, startgame, answer)."""
    return check_game_id(required(message, "gameid", action))


def _whole_number_in(message: Mapping[str, Any], name: str, default: int,
                     bounds: tuple[int, int]) -> int:
    value = message.get(name, default)
    low, high = bounds
    # bool is an int in Python; JSON's 10.0 is not a whole number to a player either.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TriviaError(f'"{name}" must be a whole number, not {value!r}')
    if not low <= value <= high:
        raise TriviaError(f'"{name}" must be between {low} and {high}, not {value}')
    return value


def start_options(message: Mapping[str, Any], *, default_wait: int,
                  default_count: int) -> tuple[int, int]:
    """``(waitseconds, questioncount)`` of a startgame message, or the defaults."""
    return (_whole_number_in(message, "waitseconds", default_wait, WAIT_SECONDS_RANGE),
            _whole_number_in(message, "questioncount", default_count, QUESTION_COUNT_RANGE))


def choose_player_name(requested: Any, *, taken: Iterable[str] = (),
                       rng: random.Random | None = None) -> str:
    """The name a player asked for (trimmed), or a colour no other player of the game has."""
    if requested is None:
        free = [c for c in COLOURS if c not in set(taken)] or list(COLOURS)
        return (rng or random.Random()).choice(free)
    if not isinstance(requested, str):
        raise TriviaError(f'"name" must be a string, not {requested!r}')
    name = requested.strip()
    if not name:
        raise TriviaError("a player needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise TriviaError(f"a name has at most {MAX_NAME_LENGTH} characters")
    return name


# -- players and games -------------------------------------------------------------------

@dataclass(frozen=True)
class Player:
    """A player of one game: its connection, name, score and answers so far."""

    connection_id: str
    player_name: str
    score: int = 0
    answers: Mapping[str, str] = field(default_factory=dict)

    def view(self, receiver: str) -> dict[str, Any]:
        """This player as the player list shows it to ``receiver``."""
        return {"connectionId": self.connection_id, "playerName": self.player_name,
                "score": self.score, "currentPlayer": self.connection_id == receiver}

    def to_item(self, game_id: str) -> dict[str, Any]:
        return {"gameId": game_id, "connectionId": self.connection_id,
                "playerName": self.player_name, "score": self.score,
                "answers": dict(self.answers)}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Player:
        return cls(connection_id=str(item["connectionId"]),
                   player_name=str(item["playerName"]),
                   score=int(item.get("score", 0)),
                   answers={str(k): str(v) for k, v in item.get("answers", {}).items()})


@dataclass(frozen=True)
class Game:
    """One game: its phase, players (in the order they joined) and questions."""

    game_id: str
    phase: str = WAITING
    players: tuple[Player, ...] = ()
    questions: tuple[Question, ...] = ()
    position: int = -1  # the question being asked; -1 before the first
    scored: bool = False  # whether the question being asked has been scored

    def player(self, connection_id: str) -> Player | None:
        return next((p for p in self.players if p.connection_id == connection_id), None)

    @property
    def connection_ids(self) -> list[str]:
        """Who to broadcast to."""
        return [p.connection_id for p in self.players]

    @property
    def current_question(self) -> Question | None:
        """The question being asked, or None before the first."""
        return self.questions[self.position] if self.position >= 0 else None

    @property
    def has_next_question(self) -> bool:
        return self.phase == PLAYING and self.position + 1 < len(self.questions)

    def scores(self) -> dict[str, int]:
        """connection id -> score, in standings order (see ``player_list``)."""
        return {p.connection_id: p.score for p in _standings(self.players)}

    def to_items(self) -> list[dict[str, Any]]:
        """The table items of this game: the game item first, then one per player."""
        game_item = {"gameId": self.game_id, "connectionId": GAME_ROW, "phase": self.phase,
                     "questions": [q.to_dict() for q in self.questions],
                     "position": self.position, "scored": self.scored}
        return [game_item, *(p.to_item(self.game_id) for p in self.players)]


def game_from_items(items: Iterable[Mapping[str, Any]]) -> Game | None:
    """The game stored in ``items`` (a Query on its gameId), or None if there is none.

    Players come back in the order given: sort by something stable (the Query's order is
    by connection id) if join order matters to you.
    """
    items = list(items)
    game_items = [i for i in items if i.get("connectionId") == GAME_ROW]
    if not game_items:
        return None
    (head,) = game_items
    return Game(game_id=str(head["gameId"]),
                phase=str(head.get("phase", WAITING)),
                players=tuple(Player.from_item(i) for i in items
                              if i.get("connectionId") != GAME_ROW),
                questions=tuple(Question.from_dict(q) for q in head.get("questions", [])),
                position=int(head.get("position", -1)),
                scored=bool(head.get("scored", False)))


def _existing(game: Game | None) -> Game:
    if game is None:
        raise TriviaError("no such game")
    return game


def _check_player_name(player_name: Any) -> str:
    if not isinstance(player_name, str) or not player_name.strip():
        raise TriviaError("a player needs a name")
    return player_name


def create_game(game_id: str, connection_id: str, player_name: str) -> Game:
    """A new game, waiting for players, with its creator as the first player."""
    check_game_id(game_id)
    return Game(game_id=game_id,
                players=(Player(connection_id, _check_player_name(player_name)),))


def join_game(game: Game | None, connection_id: str, player_name: str) -> Game:
    """The game with one more player; only while it waits, and only once per connection."""
    game = _existing(game)
    if game.phase != WAITING:
        raise TriviaError("the game has already started")
    if game.player(connection_id) is not None:
        raise TriviaError("you are already in this game")
    if len(game.players) >= MAX_PLAYERS:
        raise TriviaError(f"the game is full: {MAX_PLAYERS} players")
    new_player = Player(connection_id, _check_player_name(player_name))
    return replace(game, players=(*game.players, new_player))


def start_game(game: Game | None, questions: Sequence[Question], *,
               by: str | None = None) -> Game:
    """The game started with ``questions`` (see ``choose_questions``); it starts once.

    ``by``, if given, is the connection asking: only a player of the game may start it.
    """
    game = _existing(game)
    if by is not None and game.player(by) is None:
        raise TriviaError("you are not in this game")
    if game.phase != WAITING:
        raise TriviaError("the game has already started")
    if not game.players:
        raise TriviaError("the game has no players")
    if not questions:
        raise TriviaError("the game needs at least one question")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError("a game cannot ask the same question twice")
    return replace(game, phase=PLAYING, questions=tuple(questions), position=-1,
                   scored=False)


def next_question(game: Game | None) -> tuple[Game, Question]:
    """The game asking its next question, and that question (to send with
    ``public_question``); the question before it must have been scored."""
    game = _existing(game)
    if game.phase != PLAYING:
        raise TriviaError("the game is not being played")
    if game.position >= 0 and not game.scored:
        raise TriviaError("the question being asked has not been scored yet")
    if not game.has_next_question:
        raise TriviaError("there are no questions left")
    game = replace(game, position=game.position + 1, scored=False)
    return game, game.questions[game.position]


def ask_question(game: Game | None) -> tuple[Game, Question]:
    """The question to send now: the next one, or, if the question being asked has not
    been scored, that one again (the state machine retried its task after the question
    was recorded). Compare ``position`` before and after to know whether to write."""
    game = _existing(game)
    if game.phase == PLAYING and game.current_question is not None and not game.scored:
        return game, game.current_question
    return next_question(game)


def was_scored(game: Game | None, position: int) -> bool:
    """Whether question ``position`` has been scored already; refused if the game has
    moved to another question (the state machine scores the question it asked)."""
    game = _existing(game)
    if game.position != position:
        raise TriviaError(f"question {position} is not the question being asked "
                          f"(that is question {game.position})")
    return game.scored


def accept_answer(game: Game | None, connection_id: str, question_id: Any,
                  answer: Any) -> Game:
    """The game with a player's answer recorded.

    It counts only for the question being asked, once per player, and only until that
    question is scored.
    """
    game = _existing(game)
    player = game.player(connection_id)
    if player is None:
        raise TriviaError("you are not in this game")
    if game.phase == WAITING:
        raise TriviaError("the game has not started yet")
    if game.phase == OVER:
        raise TriviaError("the game is over")
    question = game.current_question
    if question is None:
        raise TriviaError("no question is being asked yet")
    if not isinstance(question_id, str) or question_id != question.id:
        raise TriviaError(f"question {question_id!r} is not the question being asked")
    if game.scored:
        raise TriviaError("too late: this question has been scored")
    if question.id in player.answers:
        raise TriviaError("you have already answered this question")
    if not isinstance(answer, str) or answer not in question.options:
        raise TriviaError(f"{answer!r} is not one of the options")
    answered = replace(player, answers={**player.answers, question.id: answer})
    return _with_player(game, answered)


def score_question(game: Game | None) -> tuple[Game, dict[str, int]]:
    """The game with the question being asked scored, and the new scores.

    A correct answer earns 1 point plus the question's bonus; a wrong or missing answer
    earns nothing. Scoring the last question ends the game. The scores map connection
    id -> score in standings order.
    """
    game = _existing(game)
    if game.phase != PLAYING:
        raise TriviaError("the game is not being played")
    question = game.current_question
    if question is None:
        raise TriviaError("no question is being asked yet")
    if game.scored:
        raise TriviaError("this question has already been scored")
    players = tuple(
        replace(p, score=p.score + question.points)
        if p.answers.get(question.id) == question.answer else p
        for p in game.players)
    last = game.position == len(game.questions) - 1
    game = replace(game, players=players, scored=True, phase=OVER if last else PLAYING)
    return game, game.scores()


def end_game(game: Game | None) -> Game:
    """The game over now, whatever its phase (the state machine's Catch path)."""
    return replace(_existing(game), phase=OVER)


def drop_player(game: Game | None, connection_id: str) -> Game:
    """The game without a player who left (or whose connection is gone)."""
    game = _existing(game)
    if game.player(connection_id) is None:
        raise TriviaError("you are not in this game")
    return replace(game, players=tuple(p for p in game.players
                                       if p.connection_id != connection_id))


def player_connections(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """The players' connections among a game's items, even if its game item is gone:
    who to tell when the game ends because something went wrong."""
    return [str(i["connectionId"]) for i in items if i.get("connectionId") != GAME_ROW]


def _with_player(game: Game, player: Player) -> Game:
    return replace(game, players=tuple(player if p.connection_id == player.connection_id
                                       else p for p in game.players))


def _standings(players: Iterable[Player]) -> list[Player]:
    # Highest score first, then by name; the connection id breaks a tie of both.
    return sorted(players, key=lambda p: (-p.score, p.player_name, p.connection_id))


def player_list(game: Game, receiver: str) -> list[dict[str, Any]]:
    """The ``players`` of a playerlist message as ``receiver`` gets it: highest score
    first, then by name, with ``currentPlayer`` true on the receiver's own entry."""
    return [p.view(receiver) for p in _standings(game.players)]
