"""Figures, their targets, the printed table and the RESULTS.md record."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Figure", "percentile", "machine", "print_table", "append_results"]

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""          # e.g. "<= 1.5" or ">= 500"

    @property
    def verdict(self) -> str:
        if not self.target:
            return ""
        op, bound = self.target.split()
        ok = self.value <= float(bound) if op == "<=" else self.value >= float(bound)
        return "ok" if ok else "MISSED"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}, "
            f"{platform.system()} {platform.release()}")


def _rows(figures: list[Figure]) -> list[tuple[str, str, str, str]]:
    return [(f.name, f"{f.value:.3g} {f.unit}", f.target and f"{f.target} {f.unit}", f.verdict)
            for f in figures]


def print_table(title: str, figures: list[Figure]) -> None:
    rows = [("figure", "measured", "target", "")] + _rows(figures)
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(f"\n{title}")
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def append_results(sections: dict[str, list[Figure]]) -> None:
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [f"\n## {stamp} — {machine()}\n"]
    for title, figures in sections.items():
        lines += [f"\n### {title}\n", "| figure | measured | target | |", "|---|---|---|---|"]
        lines += [f"| {' | '.join(row)} |" for row in _rows(figures)]
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by `make bench`; newest last.\n")
    with RESULTS.open("a") as out:
        out.write("\n".join(lines) + "\n")
