"""Time from `up` to ready, and deploying the full template cold and warm."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from workshop import cloud

from .report import Figure

ROOT = Path(__file__).resolve().parent.parent
FULL_TEMPLATE_CANDIDATES = (ROOT / "template.yaml",
                            ROOT / "tests" / "fixtures" / "templates" / "full.yaml")


def full_template() -> Path:
    return next(path for path in FULL_TEMPLATE_CANDIDATES if path.exists())


def startup(runs: int = 3) -> list[Figure]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with cloud.private_cloud():
            samples.append(time.perf_counter() - started)
    return [Figure("up -> ready (median of 3)", statistics.median(samples), "s", "<= 1.5")]


def deploy() -> list[Figure]:
    template = full_template()
    with cloud.private_cloud():
        started = time.perf_counter()
        cloud.deploy(template)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(5):
            started = time.perf_counter()
            cloud.deploy(template)
            warm.append(time.perf_counter() - started)
    name = template.relative_to(ROOT)
    return [Figure(f"deploy {name}, cold", cold, "s"),
            Figure(f"deploy {name}, warm (median of 5)", statistics.median(warm), "s", "<= 1")]
