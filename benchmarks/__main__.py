"""Run every benchmark, print the tables and append them to benchmarks/RESULTS.md."""

from __future__ import annotations

import sys

from workshop import cloud

from . import bench_cloud, bench_dynamodb, bench_games, bench_lambda, bench_websocket
from .report import Figure, append_results, print_table


def main() -> int:
    sections: dict[str, list[Figure]] = {}

    def record(title: str, figures: list[Figure]) -> None:
        sections[title] = figures
        print_table(title, figures)

    record("Local cloud start-up", bench_cloud.startup())
    record("Deploy", bench_cloud.deploy())
    with cloud.private_cloud():
        record("Lambda", bench_lambda.invokes())
        record("WebSocket round trip", bench_websocket.round_trips())
        record("DynamoDB", bench_dynamodb.get_item())
    with cloud.private_cloud(time_scale=0.01):
        record("Games at time scale 0.01", bench_games.games())
    append_results(sections)
    print(f"\nappended to {sys.modules['benchmarks.report'].RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
