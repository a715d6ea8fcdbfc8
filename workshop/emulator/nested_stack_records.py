"""Child stacks (AWS::CloudFormation::Stack) in CloudFormation's record of stacks.

The deployer deploys a nested stack inside its parent's execution and tells this
observer (``Deployer.nested_observer``) as it goes, so the child is a stack of its own in
``DescribeStacks`` / ``ListStacks`` (with ``ParentId`` and ``RootId``), has its own events
and statuses (``CREATE_IN_PROGRESS`` → ``CREATE_COMPLETE``, a failure rolled back, …) and
its own resources, exactly as a stack the API created: the same status rules and event
sink as :class:`.cloudformation_runs.StackRuns` (not copied: used).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .cloudformation_runs import StackRuns
from .cloudformation_stacks import CloudFormationError, Stack, StackStore, one_line
from .cloudformation_templates import stack_parameters, template_body
from .deployer import DeployError, NestedRun, ResourceEvent

__all__ = ["NestedStackRecords"]

_GONE = frozenset({"DELETE_COMPLETE"})


@dataclass
class _ChildRun:
    """A child stack being created or updated."""

    runs: StackRuns
    stack: Stack
    creating: bool
    previous: tuple[str, list[dict[str, str]]]

    def __post_init__(self) -> None:
        self._sink = self.runs._sink(self.stack)

    @property
    def stack_id(self) -> str:
        return self.stack.stack_id

    def on_event(self, event: ResourceEvent) -> None:
        self._sink(event)

    def succeeded(self) -> None:
        self.runs._succeeded(self.stack, creating=self.creating)

    def failed(self, error: DeployError) -> None:
        self.runs._failed(self.stack, error, creating=self.creating, previous=self.previous)


@dataclass
class _ChildDeletion:
    """A child stack being deleted with (or by the rollback of) its parent; ``stack`` is
    None when CloudFormation's record has none (deleted directly before)."""

    runs: StackRuns
    stack: Stack | None
    stack_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.stack_id = self.stack.stack_id if self.stack is not None else ""
        if self.stack is not None and self.stack.status != "DELETE_IN_PROGRESS":
            self.runs.store.set_status(self.stack, "DELETE_IN_PROGRESS")

    def on_event(self, event: ResourceEvent) -> None:
        if self.stack is not None:
            self.runs._sink(self.stack)(event)

    def succeeded(self) -> None:
        if self.stack is not None:
            self.runs.store.set_status(self.stack, "DELETE_COMPLETE")

    def failed(self, error: DeployError) -> None:
        if self.stack is not None:
            self.runs.store.set_status(self.stack, "DELETE_FAILED", one_line(error))


class NestedStackRecords:
    """Records the deployer's child stacks in CloudFormation's ``store``."""

    def __init__(self, *, store: StackStore, runs: StackRuns) -> None:
        self.store = store
        self.runs = runs

    def starting(self, *, parent: str, child: str, creating: bool, template: str,
                 parameters: Mapping[str, str]) -> NestedRun:
        stack = self.store.live(child)
        if stack is not None and (creating or not self._updatable(stack)):
            self._retire(stack)  # a child whose creation failed before: a new one now
            stack = None
        if stack is None:
            owner = self.store.live(parent)
            stack = self.store.create(
                child, status="CREATE_IN_PROGRESS",
                parent_id=owner.stack_id if owner else "",
                root_id=(owner.root_id or owner.stack_id) if owner else "")
            creating = True
        else:
            self.store.set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        previous = (stack.template_body, list(stack.parameters))
        body = template_body(template)
        stack.template_body = template
        stack.parameters = stack_parameters(body, parameters)
        stack.description = str(body.get("Description") or "")
        return _ChildRun(self.runs, stack, creating, previous)

    def deleting(self, *, child: str) -> NestedRun:
        stack = self.store.live(child)
        if stack is not None and stack.status in _GONE:
            stack = None
        return _ChildDeletion(self.runs, stack)

    def _updatable(self, stack: Stack) -> bool:
        try:
            self.store.check_updatable(stack)
        except CloudFormationError:
            return False
        return True

    def _retire(self, stack: Stack) -> None:
        try:
            self.store.set_status(stack, "DELETE_IN_PROGRESS")
            self.store.set_status(stack, "DELETE_COMPLETE")
        except CloudFormationError:
            pass  # mid-operation: it stays listed as it is

