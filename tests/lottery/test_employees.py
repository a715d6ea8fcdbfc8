"""The employee pool the lottery lab loads: our own fictional people, well formed."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "solutions" / "lottery"))

import lottery_draw as lottery  # noqa: E402

EMPLOYEES = ROOT / "data" / "lottery" / "employees.json"
FIELDS = {"employee_id", "name", "lottery_serial", "department"}


@pytest.fixture(scope="module")
def pool() -> list[dict]:
    return json.loads(EMPLOYEES.read_text(encoding="utf-8"))


def test_the_pool_has_at_least_thirty_employees_with_every_field(pool: list[dict]) -> None:
    assert isinstance(pool, list) and len(pool) >= 30
    for employee in pool:
        assert set(employee) == FIELDS, employee
        assert all(isinstance(value, str) and value.strip() for value in employee.values())


def test_ids_and_serials_are_unique_and_well_formed(pool: list[dict]) -> None:
    ids = [e["employee_id"] for e in pool]
    serials = [e["lottery_serial"] for e in pool]
    assert len(set(ids)) == len(ids)
    assert len(set(serials)) == len(serials)
    assert all(len(i) == 4 and i[0] == "E" and i[1:].isdigit() for i in ids)
    assert all(len(s) == 6 and s.startswith("S-") and s[2:].isdigit() for s in serials)
    assert len({e["name"] for e in pool}) == len(pool)


def test_the_pool_spans_five_to_seven_departments(pool: list[dict]) -> None:
    departments = Counter(e["department"] for e in pool)
    assert 5 <= len(departments) <= 7
    assert min(departments.values()) >= 2


def test_the_rules_accept_the_pool(pool: list[dict]) -> None:
    assert lottery.check_pool(pool) == pool
    assert len(lottery.eligible(pool, [])) == len(pool)


@pytest.mark.parametrize("broken", [
    lambda p: p.append(dict(p[0], lottery_serial="S-9999")),  # repeated id
    lambda p: p.append(dict(p[0], employee_id="E999")),  # repeated serial
    lambda p: p[3].pop("department"),
    lambda p: p[3].update(name=""),
])
def test_check_pool_refuses_a_broken_pool(pool: list[dict], broken) -> None:
    copy = [dict(e) for e in pool]
    broken(copy)
    with pytest.raises(lottery.InvalidEmployeePool):
        lottery.check_pool(copy)
