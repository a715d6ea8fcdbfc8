"""The trivia question bank, data/trivia/questions.json: enough, well formed, fair."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "solutions" / "shared" / "python"))

import trivia_rules as rules  # noqa: E402

BANK_FILE = ROOT / "data" / "trivia" / "questions.json"
RAW = json.loads(BANK_FILE.read_text(encoding="utf-8"))
KEYS = {"id", "question", "options", "answer", "bonus"}


def test_the_bank_has_at_least_40_questions() -> None:
    assert isinstance(RAW, list)
    assert len(RAW) >= 40


@pytest.mark.parametrize("raw", RAW, ids=lambda raw: str(raw.get("id")))
def test_each_question_is_well_formed(raw: dict) -> None:
    assert set(raw) <= KEYS and KEYS - {"bonus"} <= set(raw)
    assert isinstance(raw["id"], str) and raw["id"]
    assert isinstance(raw["question"], str) and raw["question"].strip()
    assert raw["question"] == raw["question"].strip()
    options = raw["options"]
    assert isinstance(options, list) and len(options) == 4
    assert all(isinstance(o, str) and o.strip() == o and o for o in options)
    assert len({o.casefold() for o in options}) == 4, "options must be distinct"
    assert raw["answer"] in options
    if "bonus" in raw:
        assert type(raw["bonus"]) is int and raw["bonus"] >= 0


def test_ids_are_unique_and_follow_the_q_pattern() -> None:
    ids = [raw["id"] for raw in RAW]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 3 and i[0] == "q" and i[1:].isdigit() for i in ids)


def test_no_question_is_asked_twice() -> None:
    texts = [raw["question"].casefold() for raw in RAW]
    assert len(texts) == len(set(texts))


def test_the_answers_are_not_always_in_the_same_place() -> None:
    # A bank whose answer is always option A teaches nothing.
    places = {raw["options"].index(raw["answer"]) for raw in RAW}
    assert len(places) >= 3


def test_the_bank_mixes_topics() -> None:
    text = " ".join(raw["question"] for raw in RAW)
    for topic in ("Lambda", "DynamoDB", "Step Functions", "WebSocket", "chess", "Mario"):
        assert topic in text


def test_the_rules_load_the_bank() -> None:
    bank = rules.parse_bank(RAW)
    assert [q.id for q in bank] == [raw["id"] for raw in RAW]
    assert all(q.points >= 1 for q in bank)
    assert any(q.bonus for q in bank)


def test_the_aws_quota_questions_match_the_documented_quotas() -> None:
    answers = {q.question: q.answer for q in rules.parse_bank(RAW)}

    def answer_to(fragment: str) -> str:
        (match,) = [a for question, a in answers.items() if fragment in question]
        return match

    assert answer_to("largest message a client can send") == "128 KB"
    assert answer_to("single API Gateway WebSocket connection") == "2 hours"
    assert answer_to("idle") == "10 minutes"
    assert answer_to("integration take") == "29 seconds"
    assert answer_to("largest item DynamoDB") == "400 KB"
