"""The rules the load tests judge a crowd by catch what they are meant to catch."""

from __future__ import annotations

from typing import Any

from workshop.crowd import Arrival, Bot, answered_join, pairing_problems, settlement_problems


def bot(user_id: str, *messages: dict[str, Any]) -> Bot:
    made = Bot(user_id, ws=None)  # type: ignore[arg-type]  # never sends in these tests
    made.inbox = [Arrival(float(n), message) for n, message in enumerate(messages)]
    return made


def joined(user_id: str, room: str, peer: str, *more: dict[str, Any]) -> Bot:
    return bot(user_id, {"action": "joinroom", "data": room},
               {"action": "peer_player_id", "data": peer}, *more)


def test_a_clean_pairing_has_no_problems() -> None:
    crowd = [joined("a", "room-0", "b"), joined("b", "room-0", "a"),
             joined("c", "room-1", "d"), joined("d", "room-1", "c")]
    assert pairing_problems(crowd) == []
    assert all(answered_join(b) for b in crowd)


def test_silence_is_a_problem_and_no_answer() -> None:
    crowd = [joined("a", "room-0", "b"), joined("b", "room-0", "a"), bot("c")]
    assert not answered_join(crowd[2])
    assert pairing_problems(crowd) == ["c got 0 joinroom and 0 peer_player_id (silence)"]


def test_an_error_answers_the_join_but_is_a_problem() -> None:
    told = bot("c", {"message": "Endpoint request timed out", "connectionId": "x",
                     "requestId": "y"})
    assert answered_join(told)
    assert "c was told ['gateway: Endpoint request timed out']" in pairing_problems([told])


def test_a_second_opponent_a_lopsided_pair_and_a_crowded_room_are_problems() -> None:
    twice = joined("a", "room-0", "b", {"action": "peer_player_id", "data": "c"})
    assert "a got 1 joinroom and 2 peer_player_id" in pairing_problems(
        [twice, joined("b", "room-0", "a")])
    lopsided = [joined("a", "room-0", "b"), joined("b", "room-0", "c"),
                joined("c", "room-0", "b")]
    problems = pairing_problems(lopsided)
    assert "a was paired with b, who was not paired with it" in problems
    assert "room room-0 holds 3 players" in problems


def test_settlements_must_come_once_and_follow_the_scores() -> None:
    win, lose = ({"action": "battle_settlement", "data": d} for d in ("WIN", "LOSE"))
    assert settlement_problems([(bot("a", win), bot("b", lose), 5, 3)]) == []
    assert settlement_problems([(bot("a", win, win), bot("b", lose), 5, 3)]) == [
        "a was told ['WIN', 'WIN'], not ['WIN'] (5 to 3)"]
    assert settlement_problems([(bot("a", win), bot("b", lose), 4, 4)]) == [
        "a was told ['WIN'], not ['DRAW'] (4 to 4)", "b was told ['LOSE'], not ['DRAW'] (4 to 4)"]
