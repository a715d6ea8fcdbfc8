"""CloudFormation's view of the local cloud's stacks: statuses, events and change sets.

The deployer knows resources; CloudFormation's API also promises a life cycle around them
(``REVIEW_IN_PROGRESS`` until a first change set runs, ``CREATE_IN_PROGRESS`` →
``CREATE_COMPLETE``, a failed create rolled back to ``ROLLBACK_COMPLETE`` after which only
a delete is allowed, deleted stacks listed as ``DELETE_COMPLETE`` for a while…), events
newest first, and change sets. This module keeps that record as plain values, without
HTTP and without the deployer, so each rule is unit-testable; ``cloudformation_api``
serves it and drives the deployer.

Messages are CloudFormation's own, since tools match on them: the SAM CLI looks for
"Stack with id X does not exist" and for :data:`NO_CHANGES`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import WorkshopError
from . import partitions

__all__ = [
    "NO_CHANGES",
    "ChangeSet",
    "CloudFormationError",
    "Stack",
    "StackEvent",
    "StackStore",
    "TERMINAL_STATUSES",
    "one_line",
]

NO_CHANGES = ("The submitted information didn't contain changes. Submit different "
              "information to create a change set.")
STACK_TYPE = "AWS::CloudFormation::Stack"

# Where a stack may go from each status (CloudFormation's stack status life cycle).
_NEXT: dict[str | None, frozenset[str]] = {
    None: frozenset({"REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS"}),
    "REVIEW_IN_PROGRESS": frozenset({"CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS"}),
    "CREATE_IN_PROGRESS": frozenset({"CREATE_COMPLETE", "CREATE_FAILED",
                                     "ROLLBACK_IN_PROGRESS"}),
    "ROLLBACK_IN_PROGRESS": frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}),
    "UPDATE_IN_PROGRESS": frozenset({"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE",
                                     "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS"}),
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": frozenset({"UPDATE_COMPLETE"}),
    "UPDATE_ROLLBACK_IN_PROGRESS": frozenset({
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED"}),
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": frozenset({"UPDATE_ROLLBACK_COMPLETE"}),
    "DELETE_IN_PROGRESS": frozenset({"DELETE_COMPLETE", "DELETE_FAILED"}),
}
# Statuses from which a stack may be updated (or deleted).
_UPDATABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
                        "CREATE_FAILED", "UPDATE_FAILED"})
_DELETABLE = _UPDATABLE | {"REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
                           "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"}
for _status in _DELETABLE:
    _NEXT[_status] = _NEXT.get(_status, frozenset()) | {"DELETE_IN_PROGRESS"}
for _status in _UPDATABLE:
    _NEXT[_status] = _NEXT[_status] | {"UPDATE_IN_PROGRESS"}
TERMINAL_STATUSES = frozenset(_DELETABLE | {"DELETE_COMPLETE"})


class CloudFormationError(WorkshopError):
    """A refusal in CloudFormation's words: ``code`` is the error code boto3 shows."""

    def __init__(self, message: str, *, code: str = "ValidationError", status: int = 400
                 ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def one_line(error: BaseException) -> str:
    """An error's text on one line, as a status reason shows it."""
    return " ".join(str(error).split())


@dataclass(frozen=True)
class StackEvent:
    """One line of DescribeStackEvents."""

    event_id: str
    stack_id: str
    stack_name: str
    logical_id: str
    physical_id: str
    resource_type: str
    timestamp: float
    status: str
    reason: str = ""


@dataclass
class ChangeSet:
    """A proposed change to a stack: what CreateChangeSet made, DescribeChangeSet shows."""

    change_set_id: str
    name: str
    stack_id: str
    stack_name: str
    kind: str  # CREATE | UPDATE
    created: float
    template_body: str
    description: str = ""
    parameters: list[dict[str, str]] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    status: str = "CREATE_PENDING"
    status_reason: str = ""
    execution_status: str = "UNAVAILABLE"
    changes: list[dict[str, Any]] = field(default_factory=list)
    plan: Any = None  # the deployer's plan, executed by ExecuteChangeSet


@dataclass
class Stack:
    """One stack as CloudFormation describes it (its resources are the deployer's)."""

    stack_id: str
    name: str
    created: float
    status: str = ""
    status_reason: str = ""
    updated: float | None = None
    deleted: float | None = None
    description: str = ""
    parameters: list[dict[str, str]] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    template_body: str = ""
    disable_rollback: bool = False
    # A nested stack's parent and root stack ids (empty for a stack of its own).
    parent_id: str = ""
    root_id: str = ""
    events: list[StackEvent] = field(default_factory=list)
    change_sets: dict[str, ChangeSet] = field(default_factory=dict)
    # Executed change sets: no longer listed, still described by ARN.
    executed_change_sets: list[ChangeSet] = field(default_factory=list)
    # logical id -> (status, reason, time) of each resource's latest event
    resource_status: dict[str, tuple[str, str, float]] = field(default_factory=dict)

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"


class StackStore:
    """Every stack this cloud has had, live or deleted; thread-safe (the deploy thread
    reports events while requests read)."""

    def __init__(self, *, region: str, account_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.region = region
        self.account_id = account_id
        self._clock = clock
        self._stacks: list[Stack] = []  # in creation order; deleted ones stay
        self._lock = threading.RLock()

    # -- finding -------------------------------------------------------------------------

    def live(self, name_or_id: str) -> Stack | None:
        """The stack not yet deleted with this name (or id); a deleted one by id."""
        with self._lock:
            for stack in reversed(self._stacks):
                if stack.stack_id == name_or_id:
                    return stack
                if stack.name == name_or_id and stack.status != "DELETE_COMPLETE":
                    return stack
        return None

    def get(self, name_or_id: str) -> Stack:
        """As :meth:`live`, or CloudFormation's ValidationError."""
        stack = self.live(name_or_id)
        if stack is None:
            raise CloudFormationError(f"Stack with id {name_or_id} does not exist")
        return stack

    def stacks(self, *, include_deleted: bool = False) -> list[Stack]:
        with self._lock:
            return [s for s in self._stacks if include_deleted or s.status != "DELETE_COMPLETE"]

    # -- life cycle ----------------------------------------------------------------------

    def create(self, name: str, *, status: str, reason: str = "User Initiated",
               **details: Any) -> Stack:
        """A new stack (a name taken by a live stack is AlreadyExistsException)."""
        with self._lock:
            if self.live(name) is not None:
                raise CloudFormationError(f"Stack [{name}] already exists",
                                          code="AlreadyExistsException")
            stack_id = partitions.arn("cloudformation", f"stack/{name}/{uuid.uuid4()}",
                                      region=self.region, account=self.account_id)
            stack = Stack(stack_id, name, self._clock(), **details)
            self._stacks.append(stack)
            self.set_status(stack, status, reason)
            return stack

    def set_status(self, stack: Stack, status: str, reason: str = "") -> None:
        """Move ``stack`` to ``status`` (as CloudFormation allows) and say so in an event."""
        with self._lock:
            if status not in _NEXT.get(stack.status or None, frozenset()):
                raise CloudFormationError(
                    f"Stack:{stack.stack_id} is in {stack.status} state and can not go to "
                    f"{status}")
            now = self._clock()
            # Executing a stack's first change set counts as an update of it, as on AWS.
            if status == "UPDATE_IN_PROGRESS" or stack.status == "REVIEW_IN_PROGRESS":
                stack.updated = now
            stack.status, stack.status_reason = status, reason
            if status == "DELETE_COMPLETE":
                stack.deleted = now
                stack.change_sets.clear()
            self._event(stack, stack.name, STACK_TYPE, stack.stack_id, status, reason, now)

    def resource_event(self, stack: Stack, *, logical_id: str, resource_type: str,
                       physical_id: str, status: str, reason: str = "") -> None:
        """A resource's status changed (the deployer's events, or ours made from a plan)."""
        with self._lock:
            now = self._clock()
            self._event(stack, logical_id, resource_type, physical_id, status, reason, now)
            if status == "DELETE_COMPLETE":
                stack.resource_status.pop(logical_id, None)
            else:
                stack.resource_status[logical_id] = (status, reason, now)

    def _event(self, stack: Stack, logical_id: str, resource_type: str, physical_id: str,
               status: str, reason: str, now: float) -> None:
        stack.events.append(StackEvent(str(uuid.uuid4()), stack.stack_id, stack.name,
                                       logical_id, physical_id, resource_type, now, status,
                                       reason))

    # -- rules ---------------------------------------------------------------------------

    def check_updatable(self, stack: Stack) -> None:
        """CloudFormation's refusal to update a stack in its current status."""
        if stack.status not in _UPDATABLE:
            raise CloudFormationError(f"Stack:{stack.stack_id} is in {stack.status} state and "
                                      "can not be updated.")

    def check_deletable(self, stack: Stack) -> None:
        if stack.in_progress and stack.status != "DELETE_IN_PROGRESS":
            raise CloudFormationError(f"Stack:{stack.stack_id} is in {stack.status} state and "
                                      "can not be deleted.")

    # -- change sets ---------------------------------------------------------------------

    def add_change_set(self, stack: Stack, *, name: str, kind: str, template_body: str,
                       **details: Any) -> ChangeSet:
        with self._lock:
            if name in stack.change_sets:
                raise CloudFormationError(
                    f"ChangeSet {name} already exists for stack {stack.name}",  # AWS's words
                    code="AlreadyExistsException")
            change_set_id = partitions.arn("cloudformation", f"changeSet/{name}/{uuid.uuid4()}",
                                           region=self.region, account=self.account_id)
            change_set = ChangeSet(change_set_id, name, stack.stack_id, stack.name, kind,
                                   self._clock(), template_body, **details)
            stack.change_sets[name] = change_set
            return change_set

    def change_set(self, name_or_id: str, stack_name: str | None = None
                   ) -> tuple[Stack, ChangeSet]:
        """A change set by ARN, or by name within ``stack_name``; ChangeSetNotFound else."""
        with self._lock:
            candidates: Iterable[Stack] = self._stacks
            if not name_or_id.startswith("arn:"):
                if not stack_name:
                    raise CloudFormationError("StackName must be specified if ChangeSetName "
                                              "is not specified as an ARN.")
                stack = self.live(stack_name)
                candidates = [stack] if stack is not None else []
            for stack in candidates:
                for change_set in stack.change_sets.values():
                    if name_or_id in (change_set.name, change_set.change_set_id):
                        return stack, change_set
                for change_set in stack.executed_change_sets:
                    if name_or_id == change_set.change_set_id:
                        return stack, change_set
        raise CloudFormationError(f"ChangeSet [{name_or_id}] does not exist",
                                  code="ChangeSetNotFound", status=404)

    def drop_change_set(self, stack: Stack, change_set: ChangeSet) -> None:
        with self._lock:
            stack.change_sets.pop(change_set.name, None)

    def executed(self, stack: Stack, change_set: ChangeSet) -> None:
        """Once a change set runs, the stack's change sets are gone ("CloudFormation retains
        all change sets until you update the stack"); the one run is still described by
        its ARN (its ExecutionStatus)."""
        with self._lock:
            stack.change_sets = {}
            stack.executed_change_sets.append(change_set)

    def clear(self) -> None:
        with self._lock:
            self._stacks.clear()
