"""The root of the workshop's own errors, so the CLI and notebooks can catch one thing.

Each module keeps its small error classes (``CloudError``, ``LabError``,
``ExerciseError`` …); each hangs off :class:`WorkshopError`, whose message is one line a
learner can act on.
"""

from __future__ import annotations

__all__ = ["WorkshopError"]


class WorkshopError(Exception):
    """Something the learner or instructor can fix; the message says what and how."""
