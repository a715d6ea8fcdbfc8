"""A crowd of players in one asyncio loop, for load tests and benchmarks.

:class:`workshop.player.Player` gives each player a thread: right for a notebook cell
and a handful of players. A classroom of hundreds joining at once needs one event loop,
so a :class:`Bot` is the same kind of client written for asyncio. It speaks only the
wire protocol (JSON text frames, see DESIGN.md), so it plays against the local cloud
and against API Gateway on AWS alike::

    async with Crowd(url, prefix="class") as crowd:
        bots = await crowd.connect(200)
        await crowd.everyone(bots, "joinroom")
        await crowd.until(lambda: all(answered_join(bot) for bot in bots), timeout=60)
        assert not pairing_problems(bots)

Besides the clients it holds the rules a load test checks: every player paired exactly
once (:func:`pairing_problems`), every battle settled exactly once
(:func:`settlement_problems`), and no player left without an answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp

__all__ = [
    "Arrival",
    "Bot",
    "Crowd",
    "CrowdTimeout",
    "answered_join",
    "gather_bounded",
    "pairing_problems",
    "settlement_problems",
]


class CrowdTimeout(TimeoutError):
    """What a crowd waited for did not happen in time; the text says who is missing."""


@dataclass
class Arrival:
    """A message and when it arrived (``time.perf_counter()`` seconds)."""

    at: float
    message: dict[str, Any]


@dataclass(eq=False)
class Bot:
    """One player on one WebSocket connection; a task reads every frame into ``inbox``."""

    user_id: str
    ws: aiohttp.ClientWebSocketResponse
    inbox: list[Arrival] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # action -> when last sent
    sends: int = 0
    closed_by_server: bool = False
    # Called with (bot, message) for every message, as it arrives (to answer a question).
    on_message: Callable[[Bot, dict[str, Any]], Awaitable[None]] | None = None
    _consumed: set[int] = field(default_factory=set)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None
    _reactions: set[asyncio.Future[None]] = field(default_factory=set)

    def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def send(self, action: str, **fields: Any) -> None:
        """Send ``{"action": action, **fields}`` as a JSON text frame."""
        self.sent[action] = time.perf_counter()
        self.sends += 1
        await self.ws.send_str(json.dumps({"action": action, **fields}))

    def messages(self, action: str) -> list[dict[str, Any]]:
        """The messages received so far with this ``action``."""
        return [a.message for a in self.inbox if a.message.get("action") == action]

    def first(self, action: str) -> Arrival | None:
        return next((a for a in self.inbox if a.message.get("action") == action), None)

    def gateway_errors(self) -> list[dict[str, Any]]:
        """API Gateway's own frames: ``{"message": "Internal server error", ...}``."""
        return [a.message for a in self.inbox
                if "message" in a.message and "action" not in a.message]

    def errors(self) -> list[str]:
        """Every error this player was told of, the server's and API Gateway's."""
        return ([f"error: {m.get('data')}" for m in self.messages("error")]
                + [f"gateway: {m['message']}" for m in self.gateway_errors()])

    async def wait_for(self, action: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """The first message with this ``action`` that no earlier call returned."""
        deadline = time.perf_counter() + timeout
        while True:
            for index, arrival in enumerate(self.inbox):
                if index not in self._consumed and arrival.message.get("action") == action:
                    self._consumed.add(index)
                    return arrival.message
            left = deadline - time.perf_counter()
            if left <= 0 or self.closed_by_server:
                raise CrowdTimeout(f"{self.user_id} waited {timeout:g} s for {action!r}; "
                                   f"received {[a.message for a in self.inbox]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        if not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type is aiohttp.WSMsgType.TEXT:
                try:
                    message = json.loads(frame.data)
                except ValueError:
                    message = None
                message = message if isinstance(message, dict) else {"raw": frame.data}
                self.inbox.append(Arrival(time.perf_counter(), message))
                self._arrived.set()
                if self.on_message is not None:
                    reaction = asyncio.ensure_future(self.on_message(self, message))
                    self._reactions.add(reaction)
                    reaction.add_done_callback(self._reactions.discard)
        self.closed_by_server = True
        self._arrived.set()


class Crowd:
    """Connects bots to one WebSocket URL and closes them all at the end."""

    _prefixes = itertools.count()

    def __init__(self, url: str, *, prefix: str | None = None,
                 connect_timeout: float = 60.0) -> None:
        self.url = url
        self.prefix = prefix or f"crowd{next(self._prefixes)}"
        self.connect_timeout = connect_timeout
        self.bots: list[Bot] = []
        self._session: aiohttp.ClientSession | None = None
        self._names = itertools.count()

    async def __aenter__(self) -> Crowd:
        # No connection limit: every bot keeps its socket open for the whole test.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def connect(self, n: int, *, at_once: int = 50) -> list[Bot]:
        """``n`` new bots, ``at_once`` handshakes in flight at a time.

        API Gateway accepts 500 new connections a second per account; a burst of
        handshakes beyond the machine's means would only measure the backlog.
        """
        gate = asyncio.Semaphore(at_once)

        async def one() -> Bot:
            async with gate:
                return await self.bot()

        return list(await asyncio.gather(*(one() for _ in range(n))))

    async def bot(self, user_id: str | None = None) -> Bot:
        """One new bot, connected as ``user_id`` (default: the next name of the crowd)."""
        if self._session is None:
            raise RuntimeError("use the crowd in 'async with Crowd(url) as crowd:'")
        user_id = user_id or f"{self.prefix}-{next(self._names):04d}"
        ws = await self._session.ws_connect(
            _with_user_id(self.url, user_id),
            timeout=aiohttp.ClientWSTimeout(ws_close=10.0),
            max_msg_size=0, autoping=True)
        bot = Bot(user_id, ws)
        bot.start()
        self.bots.append(bot)
        return bot

    async def everyone(self, bots: Iterable[Bot], action: str, **fields: Any) -> None:
        """Every bot sends the same message, all at once."""
        await asyncio.gather(*(bot.send(action, **fields) for bot in bots))

    async def until(self, predicate: Callable[[], bool], *, timeout: float,
                    what: Callable[[], str] | str = "the crowd to settle") -> None:
        """Wait until ``predicate()`` holds; CrowdTimeout (naming ``what``) otherwise."""
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                described = what() if callable(what) else what
                raise CrowdTimeout(f"waited {timeout:g} s for {described}")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await asyncio.gather(*(bot.close() for bot in self.bots), return_exceptions=True)
        self.bots.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None


def answered_join(bot: Bot) -> bool:
    """The join is over for this bot: it heard of its opponent, or was told of an error."""
    return bool(bot.errors()) or (bool(bot.messages("joinroom"))
                                  and bool(bot.messages("peer_player_id")))


def pairing_problems(bots: Sequence[Bot]) -> list[str]:
    """What is wrong with the pairing of ``bots`` (an even crowd that all joined at once).

    Every player must get exactly one ``joinroom`` and one ``peer_player_id``, no error,
    and be the opponent of its opponent, in the same room; every room holds two.
    """
    problems: list[str] = []
    by_id = {bot.user_id: bot for bot in bots}
    rooms: Counter[str] = Counter()
    for bot in bots:
        joins, peers = bot.messages("joinroom"), bot.messages("peer_player_id")
        if bot.errors():
            problems.append(f"{bot.user_id} was told {bot.errors()}")
        if len(joins) != 1 or len(peers) != 1:
            problems.append(f"{bot.user_id} got {len(joins)} joinroom and {len(peers)} "
                            "peer_player_id" + (" (silence)" if not bot.inbox else ""))
            continue
        rooms[joins[0]["data"]] += 1
        peer = by_id.get(peers[0]["data"])
        if peer is None:
            problems.append(f"{bot.user_id} was paired with a stranger {peers[0]['data']}")
        elif [m["data"] for m in peer.messages("peer_player_id")] != [bot.user_id]:
            problems.append(f"{bot.user_id} was paired with {peer.user_id}, who was not "
                            "paired with it")
        elif [m["data"] for m in peer.messages("joinroom")] != [joins[0]["data"]]:
            problems.append(f"{bot.user_id} and {peer.user_id} were sent different rooms")
    problems += [f"room {name} holds {count} players" for name, count in rooms.items()
                 if count != 2]
    return problems


def settlement_problems(pairs: Iterable[tuple[Bot, Bot, int, int]]) -> list[str]:
    """What is wrong with the battles of ``pairs`` ``(a, b, a's score, b's score)``.

    Each player must get exactly one ``battle_settlement``, the one the synced scores
    call for: the higher score wins, equal scores draw.
    """
    problems: list[str] = []
    for a, b, score_a, score_b in pairs:
        expected = (("WIN", "LOSE") if score_a > score_b else ("LOSE", "WIN")
                    if score_a < score_b else ("DRAW", "DRAW"))
        for bot, outcome in ((a, expected[0]), (b, expected[1])):
            got = [m["data"] for m in bot.messages("battle_settlement")]
            if got != [outcome]:
                problems.append(f"{bot.user_id} was told {got}, not [{outcome!r}] "
                                f"({score_a} to {score_b})")
    return problems


async def gather_bounded(coroutines: Iterable[Awaitable[Any]], *, at_once: int) -> list[Any]:
    """``asyncio.gather`` with at most ``at_once`` of the coroutines running at a time."""
    gate = asyncio.Semaphore(at_once)

    async def one(coroutine: Awaitable[Any]) -> Any:
        async with gate:
            return await coroutine

    return list(await asyncio.gather(*(one(c) for c in coroutines)))


def _with_user_id(url: str, user_id: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("user_id", user_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))
