"""A progress bar for anything slow, drawn with ipywidgets in a notebook, silent elsewhere."""

from __future__ import annotations

import threading
from types import TracebackType

__all__ = ["Progress"]


class Progress:
    """Count steps towards a total and show it as a bar with a one-line caption.

    Use it as a context manager; ``advance()`` is thread-safe, so worker threads can
    report as they finish. Outside a notebook (in a script or a test) it draws nothing.
    """

    def __init__(self, total: int, *, description: str, show: bool = True) -> None:
        self.total = total
        self.done = 0
        self.description = description
        self._lock = threading.Lock()
        self._bar = self._label = None
        if show and _in_notebook():
            import ipywidgets as widgets
            from IPython.display import display

            self._bar = widgets.IntProgress(value=0, min=0, max=max(total, 1),
                                            description=description,
                                            style={"description_width": "initial"})
            self._label = widgets.Label(f"0 / {total}")
            display(widgets.HBox([self._bar, self._label]))

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more as done."""
        with self._lock:
            self.done += steps
            done = self.done
        if self._bar is not None:
            self._bar.value = done
            self._label.value = f"{done} / {self.total}"

    def finish(self, caption: str) -> None:
        """Fill the bar and replace the count with ``caption``."""
        if self._bar is not None:
            self._bar.value = self._bar.max
            self._bar.bar_style = "success"
            self._label.value = caption

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None and self._bar is not None:
            self._bar.bar_style = "danger"


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"
