"""Grade one answer to a three-question quiz: the Lambda Task of the Step Functions primer.

The state machine (``solutions/statemachines/primer.asl.json``) calls this function with
its input, ``{"player", "questionid", "answer", "waitseconds"}``, and puts what it
returns under ``$.grade``. A Lambda Task fails when the handler raises: the exception's
class name becomes the error name that the state's ``Retry`` and ``Catch`` match.
"""

from __future__ import annotations

from typing import Any

# question id -> (the right answer, the points it earns)
QUIZ = {
    "wait": ("Wait", 1),      # Which state type pauses an execution?
    "retry": ("Retry", 1),    # Which field of a Task runs it again after an error?
    "choice": ("Choice", 2),  # Which state type picks the next state from the data?
}


class UnknownQuestion(Exception):
    """No such question: retrying cannot help, so the state machine does not retry it."""


class GraderBusy(Exception):
    """A transient failure, the kind worth retrying. Here it happens on request only
    (``"busy": true`` in the input), so that the primer can show Retry at work."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("busy"):
        raise GraderBusy("the grader is busy, try again later")
    question = event.get("questionid")
    if question not in QUIZ:
        raise UnknownQuestion(f"there is no question {question!r}")
    right, points = QUIZ[question]
    correct = event.get("answer") == right
    print(f"{event.get('player')} answered {question}: {'right' if correct else 'wrong'}")
    return {"correct": correct, "points": points if correct else 0}
