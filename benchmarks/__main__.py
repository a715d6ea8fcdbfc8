"""Run the benchmarks, print the tables and append them to benchmarks/RESULTS.md.

``python -m benchmarks`` runs everything, the ten-minute soak included;
``--soak-seconds 60`` shortens the soak (0 skips it), ``--only load soak`` runs some
sections, and ``--no-append`` leaves RESULTS.md alone (for trying things out).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from workshop import cloud

from . import bench_cloud, bench_dynamodb, bench_games, bench_lambda, bench_load, bench_websocket
from .report import Figure, append_results, print_table

SECTIONS = ("startup", "deploy", "lambda", "websocket", "dynamodb", "games", "load", "soak")
SOAK_SECONDS = 600.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                        help=f"run only these sections: {', '.join(SECTIONS)}")
    parser.add_argument("--soak-seconds", type=float, default=SOAK_SECONDS,
                        help="how long the soak runs (default %(default)g; 0 skips it)")
    parser.add_argument("--no-append", action="store_true",
                        help="print the figures without appending them to RESULTS.md")
    args = parser.parse_args(argv)
    if args.soak_seconds < 0:
        parser.error("--soak-seconds must be 0 or more")
    chosen = set(args.only or SECTIONS)
    if args.soak_seconds == 0:
        chosen.discard("soak")
    sections: dict[str, list[Figure]] = {}

    def record(name: str, title: str, measure: Callable[[], list[Figure]]) -> None:
        if name in chosen:
            sections[title] = measure()
            print_table(title, sections[title])

    record("startup", "Local cloud start-up", bench_cloud.startup)
    record("deploy", "Deploy", bench_cloud.deploy)
    if chosen & {"lambda", "websocket", "dynamodb"}:
        with cloud.private_cloud():
            record("lambda", "Lambda", bench_lambda.invokes)
            record("websocket", "WebSocket round trip", bench_websocket.round_trips)
            record("dynamodb", "DynamoDB", bench_dynamodb.get_item)
    if chosen & {"games", "load"}:
        with cloud.private_cloud(time_scale=0.01):
            record("games", "Games at time scale 0.01", bench_games.games)
            record("load", "Reliability: a classroom at once", bench_load.classroom)
    if "soak" in chosen:
        with cloud.private_cloud(time_scale=0.01):
            record("soak", "Reliability: soak",
                   lambda: bench_load.soak(args.soak_seconds))
    if sections and not args.no_append:
        append_results(sections)
        print(f"\nappended to {sys.modules['benchmarks.report'].RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
