"""A classroom's load, played by bots against a deployed game: what it did, what went wrong.

Each scenario plays one part of the workshop the way a room full of people would, all
at once, and checks the promises that matter under load: nobody lost, duplicated or
left in silence, every battle and game settled exactly once, every announced lottery
winner recorded and nobody winning twice. The players speak only the wire protocol
(:mod:`workshop.crowd`) and the tables are read with plain boto3, so a scenario runs
against the local cloud or against the stack on AWS alike.

The bounded load tests (``tests/load``) assert that a scenario found no problems; the
benchmarks (``python -m benchmarks``) print what it measured.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from .crowd import Bot, Crowd, CrowdTimeout, answered_join, pairing_problems, settlement_problems
from .notebook import lottery, state_machines, trivia_bots

__all__ = ["Report", "battles", "lottery_draws", "matchmaking", "synthetic_pool",
           "trivia_games"]

# How long a scenario waits for answers before it calls the missing ones silent. API
# Gateway answers every message within its 29 s integration timeout, one way or another.
ANSWER_TIMEOUT = 90.0


@dataclass
class Report:
    """What a scenario did: counts and timings (``figures``), and every problem found."""

    name: str
    figures: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        shown = ", ".join(f"{k} {v:.3g}" for k, v in self.figures.items())
        found = "; ".join(self.problems[:10]) or "no problems"
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        return f"{self.name}: {shown}: {found}{more}"


# -- matchmaking and battles ------------------------------------------------------------------


async def matchmaking(url: str, *, players: int, rooms_table: str | None = None,
                      prefix: str | None = None, fight: bool = False,
                      seed: int | None = None, clear_rooms: bool = False) -> Report:
    """``players`` (an even number) connect, all send ``joinroom`` at once, and must be
    paired exactly once; with ``fight``, every pair then battles and both die at once,
    and every battle must settle exactly once. ``rooms_table`` also checks the table;
    ``clear_rooms`` then deletes the crowd's rooms, as a long-running game would clear
    finished battles away (a soak measures the cloud's memory, not the game's data).
    """
    if players % 2:
        raise ValueError(f"an even crowd pairs up completely; {players} players do not")
    report = Report(f"{players} players join" + (", fight and settle" if fight else ""))
    async with Crowd(url, prefix=prefix or f"load-{uuid.uuid4().hex[:6]}") as crowd:
        started = time.perf_counter()
        bots = await crowd.connect(players)
        report.figures["connections per second"] = players / (time.perf_counter() - started)
        began = time.perf_counter()
        await crowd.everyone(bots, "joinroom")
        try:
            await crowd.until(lambda: all(answered_join(bot) for bot in bots),
                              timeout=ANSWER_TIMEOUT,
                              what=lambda: _silent(bots, answered_join, "joinroom"))
        except CrowdTimeout as timeout:
            report.problems.append(str(timeout))
        report.problems += pairing_problems(bots)
        joined = [_join_latency(bot) for bot in bots]
        known = sorted(seconds for seconds in joined if seconds is not None)
        if known:
            report.figures["join latency p50 (s)"] = _percentile(known, 50)
            report.figures["join latency p99 (s)"] = _percentile(known, 99)
        reading = time.perf_counter()
        if rooms_table and not report.problems:
            report.problems += _rooms_agree(rooms_table, bots)
        reading = time.perf_counter() - reading  # not the players' time: left out below
        if fight and not report.problems:
            report.problems += await _fight(crowd, bots, random.Random(seed))
        # From the first joinroom sent to the last message heard.
        last = max((bot.inbox[-1].at for bot in bots if bot.inbox), default=began)
        messages = sum(len(bot.inbox) + bot.sends for bot in bots)
        report.figures["messages per second"] = messages / max(last - began - reading, 1e-9)
        if fight and rooms_table and not report.problems:
            report.problems += _settled_in_table(rooms_table, bots)
        if rooms_table and clear_rooms:
            _delete_rooms(rooms_table, bots)
        report.figures["errors"] = sum(len(bot.errors()) for bot in bots)
        report.figures["players"] = players
    return report


async def battles(url: str, *, players: int, rooms_table: str | None = None,
                  seed: int | None = None, clear_rooms: bool = False) -> Report:
    """:func:`matchmaking` with ``fight``: join, pair, fight, settle exactly once."""
    return await matchmaking(url, players=players, rooms_table=rooms_table, fight=True,
                             seed=seed, clear_rooms=clear_rooms)


async def _fight(crowd: Crowd, bots: Sequence[Bot], rng: random.Random) -> list[str]:
    """Every pair syncs scores, attacks, then both die at once; check the settlements."""
    by_id = {bot.user_id: bot for bot in bots}
    pairs: list[tuple[Bot, Bot, int, int]] = []
    for bot in bots:
        peer = by_id[bot.messages("peer_player_id")[0]["data"]]
        if bot.user_id < peer.user_id:
            pairs.append((bot, peer, rng.randint(0, 9), rng.randint(0, 9)))
    scores = {a: s for a, _, s, _ in pairs} | {b: s for _, b, _, s in pairs}
    await _all(bot.send("syncscore", score=scores[bot]) for bot in bots)
    # Messages of two senders are not ordered: each score must have reached the opponent
    # (and the room) before the deaths, or the settlement would not count it.
    await crowd.until(lambda: all(bot.messages("player_syncscore") for bot in bots),
                      timeout=ANSWER_TIMEOUT,
                      what=lambda: _silent(bots, lambda b: bool(b.messages("player_syncscore")),
                                           "player_syncscore"))
    await _all(a.send("attack") for a, _, _, _ in pairs)
    await crowd.until(lambda: all(b.messages("attacked") for _, b, _, _ in pairs),
                      timeout=ANSWER_TIMEOUT, what="every attack to arrive")
    await crowd.everyone(bots, "die")
    await crowd.until(lambda: all(bot.messages("battle_settlement") or bot.errors()
                                  for bot in bots),
                      timeout=ANSWER_TIMEOUT,
                      what=lambda: _silent(bots, lambda b: bool(b.messages("battle_settlement")),
                                           "battle_settlement"))
    await _quiet(0.5)  # a second settlement would arrive meanwhile
    problems = settlement_problems(pairs)
    problems += [f"{bot.user_id} was told {bot.errors()}" for bot in bots if bot.errors()]
    return problems


def _rooms_agree(table_name: str, bots: Sequence[Bot]) -> list[str]:
    """The rooms table seats every player where it was told, each ticket once."""
    seats = _items(table_name, [{"pk": f"player#{bot.user_id}"} for bot in bots])
    rooms = _items(table_name, [{"pk": f"room#{name}"} for name in
                                {bot.messages("joinroom")[0]["data"] for bot in bots}])
    problems = []
    tickets: Counter[int] = Counter()
    for bot in bots:
        seat = seats.get(f"player#{bot.user_id}")
        told = bot.messages("joinroom")[0]["data"]
        if seat is None or seat.get("room_name") != told:
            problems.append(f"the table seats {bot.user_id} in "
                            f"{(seat or {}).get('room_name')}, not {told}")
            continue
        tickets[int(seat["ticket"])] += 1
        room = rooms.get(f"room#{told}") or {}
        if bot.user_id not in room.get("players_in_room", []):
            problems.append(f"room {told} does not list {bot.user_id}")
    problems += [f"ticket {t} was handed out {n} times" for t, n in tickets.items() if n > 1]
    return problems


def _delete_rooms(table_name: str, bots: Sequence[Bot]) -> None:
    names = {m["data"] for bot in bots for m in bot.messages("joinroom")}
    with boto3.resource("dynamodb").Table(table_name).batch_writer() as batch:
        for name in names:
            batch.delete_item(Key={"pk": f"room#{name}"})


def _settled_in_table(table_name: str, bots: Sequence[Bot]) -> list[str]:
    """Every battle's room says settled, with the outcome the players were told."""
    names = {bot.messages("joinroom")[0]["data"] for bot in bots}
    rooms = _items(table_name, [{"pk": f"room#{name}"} for name in names])
    problems = []
    for bot in bots:
        room = rooms.get(f"room#{bot.messages('joinroom')[0]['data']}") or {}
        told = bot.messages("battle_settlement")[0]["data"]
        if room.get("phase") != "settled" or (room.get("outcome") or {}).get(bot.user_id) != told:
            problems.append(f"the table says {room.get('phase')} "
                            f"{(room.get('outcome') or {}).get(bot.user_id)} for {bot.user_id}, "
                            f"who was told {told}")
    return problems


# -- trivia -----------------------------------------------------------------------------


async def trivia_games(url: str, *, games: int, players: int, questions: int,
                       waitseconds: int, games_table: str | None = None,
                       seed: int | None = None) -> Report:
    """``games`` games of ``players`` bots, started at once; each must end with one
    ``gameover`` per player and final scores that match the answers and the table."""
    report = Report(f"{games} trivia games of {players} players")
    key = trivia_bots.AnswerKey.load()
    rng = random.Random(seed)
    async with Crowd(url, prefix=f"trivia-{uuid.uuid4().hex[:6]}") as crowd:
        tables = await crowd.connect(games * players)
        sitting = [tables[g * players:(g + 1) * players] for g in range(games)]
        answered: dict[Bot, dict[str, str]] = {bot: {} for bot in tables}
        accuracy = {bot: rng.choice((0.0, 0.5, 1.0)) for bot in tables}
        game_of: dict[Bot, str] = {}

        async def on_question(bot: Bot, message: dict[str, Any]) -> None:
            question = message.get("question") or {}
            if message.get("action") != "question" or bot not in game_of:
                return
            option = key.choose(question, accuracy=accuracy[bot], rng=rng)
            answered[bot][question["id"]] = option
            await bot.send(**trivia_bots.answer(game_of[bot], question["id"], option))

        for bot in tables:
            bot.on_message = on_question
        began = time.perf_counter()
        ids = await _all(_open_game(crowd, table) for table in sitting)
        for table, game_id in zip(sitting, ids, strict=True):
            game_of.update(dict.fromkeys(table, game_id))
        await _all(table[0].send(**trivia_bots.startgame(
            game_id, waitseconds=waitseconds, questioncount=questions))
            for table, game_id in zip(sitting, ids, strict=True))
        try:
            await crowd.until(lambda: all(bot.messages("gameover") or bot.closed_by_server
                                          for bot in tables),
                              timeout=ANSWER_TIMEOUT + questions * waitseconds,
                              what=lambda: _silent(tables, lambda b: bool(b.messages("gameover")),
                                                   "gameover"))
        except CrowdTimeout as timeout:
            report.problems.append(str(timeout))
        await _quiet(0.5)  # a second gameover would arrive meanwhile
        report.figures["seconds per game"] = time.perf_counter() - began
        for table, game_id in zip(sitting, ids, strict=True):
            report.problems += _game_problems(table, game_id, answered, key, games_table)
        report.figures["games"] = games
        report.figures["errors"] = sum(len(bot.errors()) for bot in tables)
    return report


async def _open_game(crowd: Crowd, table: Sequence[Bot]) -> str:
    host, *guests = table
    await host.send(**trivia_bots.newgame(name=host.user_id))
    game_id = (await host.wait_for("gamecreated", timeout=ANSWER_TIMEOUT))["gameId"]
    await host.wait_for("playerlist", timeout=ANSWER_TIMEOUT)
    for guest in guests:  # one at a time: each newcomer is announced to everyone
        await guest.send(**trivia_bots.joingame(game_id, name=guest.user_id))
        await guest.wait_for("playerlist", timeout=ANSWER_TIMEOUT)
    return game_id


def _game_problems(table: Sequence[Bot], game_id: str, answered: Mapping[Bot, Mapping[str, str]],
                   key: trivia_bots.AnswerKey, games_table: str | None) -> list[str]:
    problems = [f"{bot.user_id} got {len(bot.messages('gameover'))} gameover in game {game_id}"
                for bot in table if len(bot.messages("gameover")) != 1]
    problems += [f"{bot.user_id} was told {bot.errors()}" for bot in table if bot.errors()]
    expected = {bot.user_id: sum(key.earned(q, option) for q, option in answered[bot].items())
                for bot in table}
    for bot in table:
        lists = bot.messages("playerlist")
        final = trivia_bots.scores(lists[-1]) if lists else {}
        if final != expected:
            problems.append(f"{bot.user_id} was last told scores {final}, "
                            f"its answers earned {expected}")
    if games_table and not problems:
        rows = boto3.resource("dynamodb").Table(games_table).query(
            KeyConditionExpression=Key("gameId").eq(game_id), ConsistentRead=True)["Items"]
        stored = {row["playerName"]: int(row["score"]) for row in rows if "playerName" in row}
        if stored != expected:
            problems.append(f"game {game_id}: the table holds scores {stored}, "
                            f"the answers earned {expected}")
    return problems


# -- the lottery ------------------------------------------------------------------------


def lottery_draws(outputs: Mapping[str, str], *, draws: int, winners: int,
                  pool: Sequence[Mapping[str, str]] | None = None) -> Report:
    """``draws`` draws of ``winners`` started at once against one pool: nobody may win
    twice, and every announced winner must be recorded, by the draw that announced it.

    ``pool`` replaces the employees (default: the workshop's pool); the winners table
    and the announcement queue are emptied first.
    """
    report = Report(f"{draws} lottery draws of {winners} at once")
    employees_table, winners_table = outputs["EmployeesTableName"], outputs["WinnersTableName"]
    _load_pool(employees_table, winners_table, pool)
    inbox = lottery.Inbox(outputs["LotteryInboxQueueUrl"])
    inbox.fetch()
    machine = outputs["LotteryStateMachineArn"]
    started = time.perf_counter()

    def one(number: int) -> dict[str, Any]:
        arn = state_machines.start(machine, {"input": winners},
                                   name=f"load-{number}-{uuid.uuid4().hex[:8]}")
        return state_machines.wait(arn, timeout=ANSWER_TIMEOUT * 2)

    with ThreadPoolExecutor(max_workers=draws) as executor:
        finished = list(executor.map(one, range(draws)))
    report.figures["seconds"] = time.perf_counter() - started
    succeeded = [e for e in finished if e["status"] == "SUCCEEDED"]
    report.figures["draws succeeded"] = len(succeeded)
    # A draw may lose every race for its winners, or find the pool empty: it fails by name.
    allowed = {"RedrawLimitReached", "NotEnoughEligibleEmployees"}
    report.problems += [f"{e['name']} ended {e['status']} {e.get('error')}: "
                        f"{lottery.cause_text(e.get('cause'))}"
                        for e in finished if e not in succeeded and e.get("error") not in allowed]
    drawn: Counter[str] = Counter()
    expected: dict[str, str] = {}
    for execution in succeeded:
        for winner in json.loads(execution["output"])["recorded"]["winners"]:
            drawn[winner["employee_id"]] += 1
            expected[winner["employee_id"]] = execution["name"]
    report.problems += [f"{who} won {n} times" for who, n in drawn.items() if n > 1]
    recorded = {item["employee_id"]: item["draw_id"] for item in
                lottery.tables.items(winners_table) if lottery.is_recorded(item)}
    if recorded != expected:
        report.problems.append(f"the winners table holds {len(recorded)} winners, the draws "
                               f"recorded {len(expected)}; differing: "
                               f"{sorted(set(recorded.items()) ^ set(expected.items()))[:5]}")
    inbox.fetch(expect=len(succeeded), timeout=30.0)
    inbox.fetch(timeout=0.5)  # anything a failed draw might have sent
    names = {e["name"] for e in finished}
    notes = [note for note in inbox.notifications if note["draw_id"] in names]
    per_draw = Counter(note["draw_id"] for note in notes)
    report.problems += [f"{e['name']} was announced {per_draw[e['name']]} times"
                        for e in succeeded if per_draw[e["name"]] != 1]
    report.problems += [f"{draw_id} failed but was announced" for draw_id in per_draw
                        if draw_id not in {e["name"] for e in succeeded}]
    serials = {e["lottery_serial"]: e["employee_id"] for e in (pool or lottery.employees())}
    for note in notes:
        for serial in _serials(note["message"]):
            who = serials.get(serial)
            if expected.get(who) != note["draw_id"]:
                report.problems.append(f"{note['draw_id']} announced {who}, who is recorded "
                                       f"for {recorded.get(who)}")
    report.figures["winners"] = len(expected)
    return report


def synthetic_pool(size: int) -> list[dict[str, str]]:
    """``size`` made-up employees, shaped like the workshop's (for a bigger pool)."""
    return [{"employee_id": f"L{n:05d}", "name": f"Load Tester {n}",
             "department": "Load", "lottery_serial": f"LS-{n:05d}"} for n in range(size)]


def _load_pool(employees_table: str, winners_table: str,
               pool: Sequence[Mapping[str, str]] | None) -> None:
    if pool is None:
        lottery.reset_pool(employees_table, winners_table)
        return
    table = boto3.resource("dynamodb").Table(employees_table)
    wanted = {employee["employee_id"] for employee in pool}
    with table.batch_writer() as batch:
        for item in lottery.tables.items(employees_table):
            if item["employee_id"] not in wanted:
                batch.delete_item(Key={"employee_id": item["employee_id"]})
        for employee in pool:
            batch.put_item(Item=dict(employee))
    lottery.tables.empty_table(winners_table)


def _serials(message: str) -> list[str]:
    return [line.rsplit("serial ", 1)[1].strip() for line in message.splitlines()
            if "serial " in line]


# -- helpers ----------------------------------------------------------------------------


async def _all(coroutines: Iterable[Any]) -> list[Any]:
    return list(await asyncio.gather(*coroutines))


async def _quiet(seconds: float) -> None:
    await asyncio.sleep(seconds)


def _silent(bots: Sequence[Bot], done: Any, what: str) -> str:
    missing = [bot for bot in bots if not done(bot)]
    sample = ", ".join(f"{bot.user_id} (heard {[a.message for a in bot.inbox][-3:]})"
                       for bot in missing[:3])
    return f"{what} for {len(missing)} of {len(bots)} players: {sample}"


def _join_latency(bot: Bot) -> float | None:
    joined, peered = bot.first("joinroom"), bot.first("peer_player_id")
    if joined is None or peered is None or "joinroom" not in bot.sent:
        return None
    return max(joined.at, peered.at) - bot.sent["joinroom"]


def _percentile(ordered: Sequence[float], q: float) -> float:
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def _items(table_name: str, keys: Sequence[dict[str, str]]) -> dict[str, dict]:
    """The items of ``keys`` (by ``pk``), read consistently, 100 keys per request."""
    client = boto3.resource("dynamodb")
    found: dict[str, dict] = {}
    for start in range(0, len(keys), 100):
        pending: dict[str, Any] = {table_name: {"Keys": list(keys[start:start + 100]),
                                                "ConsistentRead": True}}
        while pending:
            answer = client.batch_get_item(RequestItems=pending)
            for item in answer["Responses"].get(table_name, []):
                found[item["pk"]] = item
            pending = answer.get("UnprocessedKeys") or {}
    return found
