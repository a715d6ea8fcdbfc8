"""RandomSelectWinners: samples the winners among the employees who have not won.

Reads the whole employee pool and every employee the winners table holds — recorded by a
past draw, or claimed by a draw in progress — then draws ``num_of_winners`` distinct
employees among the others in one sample without replacement: no retry loop, so it
returns at once, and when too few eligible employees remain it raises
NotEnoughEligibleEmployees instead of looping as the original lab did. A claim lives
only for the moment of a draw: it becomes a record, or is given back if the draw fails.
Each call counts one more ``attempt``, which the state machine's Choice uses to bound
redraws.
"""

import os
import random

import boto3
import lottery_draw

dynamodb = boto3.resource("dynamodb")
employees = dynamodb.Table(os.environ["EMPLOYEES_TABLE"])
winners = dynamodb.Table(os.environ["WINNERS_TABLE"])
# The operating system's randomness: nobody can replay a seed to predict a draw.
rng = random.SystemRandom()


def scan_all(table: object, **arguments: object) -> list[dict]:
    """Every item of a table: a Scan returns at most 1 MB per page."""
    items: list[dict] = []
    while True:
        page = table.scan(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def handler(event: dict, context: object) -> dict:
    pool = lottery_draw.check_pool(scan_all(employees, ConsistentRead=True))
    past = [item["employee_id"] for item in
            scan_all(winners, ConsistentRead=True, ProjectionExpression="employee_id")]
    drawn = lottery_draw.draw(pool, past, event["num_of_winners"], rng=rng)
    attempt = int(event.get("attempt", 0)) + 1
    print(f"draw {event['draw_id']} attempt {attempt}: "
          f"{', '.join(w['employee_id'] for w in drawn)} out of {len(pool) - len(past)} eligible")
    return {"draw_id": event["draw_id"], "num_of_winners": event["num_of_winners"],
            "attempt": attempt,
            "winners": [{field: w[field] for field in lottery_draw.EMPLOYEE_FIELDS}
                        for w in drawn]}
