"""The progress bar counts from any thread and draws only inside a notebook."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from workshop.notebook.progress import Progress


def test_progress_counts_from_worker_threads_without_drawing() -> None:
    with Progress(100, description="testing") as bar:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: bar.advance(), range(100)))
        bar.finish("done")
    assert bar.done == 100
    assert bar._bar is None          # not in a notebook: nothing drawn
