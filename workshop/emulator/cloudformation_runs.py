"""CloudFormation's stack operations run on the deployer, as CloudFormation runs them.

One operation at a time holds the cloud's deploy lock (CloudFormation updates a stack at a
time; the deployer is one), on a thread, while requests keep being answered. Each resource
event the deployer reports goes into the stack's record (:mod:`.cloudformation_stacks`),
and the stack's status follows CloudFormation's life cycle: ``CREATE_IN_PROGRESS`` →
``CREATE_COMPLETE``; a failure → ``ROLLBACK_IN_PROGRESS`` as soon as the failing resource
says so, then ``ROLLBACK_COMPLETE`` (or ``…_FAILED``) once the deployer's rollback is done;
``UPDATE_IN_PROGRESS`` → ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`` → ``UPDATE_COMPLETE``;
``DELETE_IN_PROGRESS`` → ``DELETE_COMPLETE``. ``workshop deploy`` and ``workshop delete``
run here too, so their stacks read the same through the CloudFormation API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from .cloudformation_stacks import (
    ChangeSet,
    CloudFormationError,
    Stack,
    StackStore,
    one_line,
)
from .cloudformation_templates import parameter_values, stack_parameters, template_body
from .deployer import Deployer, DeployError, DeployReport, ResourceEvent

__all__ = ["StackRuns"]

log = logging.getLogger("workshop.cloudformation")
# How long a call that starts an operation waits for it (see StackRuns.settled).
SETTLE_SECONDS = 10.0

Previous = tuple[str, list[dict[str, str]]]  # a stack's template text and parameters


class StackRuns:
    """Runs stack operations on the deployer; ``changed`` is called after each one
    (resources and roles changed: IAM decides afresh)."""

    def __init__(self, *, deployer: Deployer, store: StackStore, lock: asyncio.Lock,
                 changed: Callable[[], None]) -> None:
        self.deployer = deployer
        self.store = store
        self._lock = lock
        self._changed = changed
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, stack: Stack, change_set: ChangeSet, *, disable_rollback: bool
              ) -> asyncio.Task[None]:
        """ExecuteChangeSet: the stack takes the change set's template, parameters and
        tags now (DescribeStacks shows them while it runs), the deployer runs its plan in
        the background. (The deployer always rolls a failure back: DisableRollback is
        recorded, not honoured.)"""
        creating = stack.status == "REVIEW_IN_PROGRESS"
        previous = (stack.template_body, list(stack.parameters))
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        self.store.set_status(stack, "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS",
                              "User Initiated")
        stack.template_body, stack.parameters = change_set.template_body, change_set.parameters
        stack.capabilities, stack.tags = change_set.capabilities, change_set.tags
        stack.description = str(template_body(change_set.template_body).get("Description") or "")
        stack.disable_rollback = disable_rollback
        self.store.executed(stack, change_set)
        return self.spawn(self._run(stack, change_set, creating=creating, previous=previous))

    async def _run(self, stack: Stack, change_set: ChangeSet, *, creating: bool,
                   previous: Previous) -> None:
        async with self._lock:
            try:
                await asyncio.to_thread(self._execute, stack, change_set.plan)
            except DeployError as error:
                change_set.execution_status = "EXECUTE_FAILED"
                await asyncio.to_thread(self._failed, stack, error, creating=creating,
                                        previous=previous)
            else:
                change_set.execution_status = "EXECUTE_COMPLETE"
                self._succeeded(stack, creating=creating)
            finally:
                self._changed()

    def start_delete(self, stack: Stack) -> asyncio.Task[None]:
        """DeleteStack: DELETE_IN_PROGRESS now, the resources deleted in the background."""
        self.store.check_deletable(stack)
        self.store.set_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
        return self.spawn(self.delete(stack))

    async def delete(self, stack: Stack) -> DeployReport | None:
        """Delete the stack's resources (it is DELETE_IN_PROGRESS): DELETE_COMPLETE, or
        DELETE_FAILED with the reason (deleting again carries on)."""
        async with self._lock:
            try:
                report = await asyncio.to_thread(self._delete_resources, stack)
            except DeployError as error:
                self.store.set_status(stack, "DELETE_FAILED", one_line(error))
                raise
            finally:
                self._changed()
            self.store.set_status(stack, "DELETE_COMPLETE")
            return report

    def _delete_resources(self, stack: Stack) -> DeployReport | None:
        if stack.name not in self.deployer.stacks():
            return None  # nothing was made (REVIEW_IN_PROGRESS, or rolled back)
        return self.deployer.delete(stack.name, on_event=self._sink(stack))

    def _execute(self, stack: Stack, plan: Any) -> DeployReport:
        report = self.deployer.execute(plan, on_event=self._sink(stack))
        body = template_body(stack.template_body)
        stack.parameters = stack_parameters(body, parameter_values(stack.parameters))
        return report

    def _sink(self, stack: Stack) -> Callable[[ResourceEvent], None]:
        """Records the deployer's resource events; the first failure starts the rollback
        the deployer then does (so the stack's status says so while it runs)."""
        rollback = {"CREATE_IN_PROGRESS": "ROLLBACK_IN_PROGRESS",
                    "UPDATE_IN_PROGRESS": "UPDATE_ROLLBACK_IN_PROGRESS"}

        def record(event: ResourceEvent) -> None:
            self.store.resource_event(stack, logical_id=event.logical_id,
                                      resource_type=event.resource_type,
                                      physical_id=str(event.physical_id or ""),
                                      status=event.status, reason=event.reason)
            if event.status in ("CREATE_FAILED", "UPDATE_FAILED") and stack.status in rollback:
                verb = "create" if stack.status == "CREATE_IN_PROGRESS" else "update"
                self.store.set_status(stack, rollback[stack.status], (
                    f"The following resource(s) failed to {verb}: [{event.logical_id}]. "
                    "Rollback requested by user."))

        return record

    def _succeeded(self, stack: Stack, *, creating: bool) -> None:
        if creating:
            self.store.set_status(stack, "CREATE_COMPLETE")
            return
        self.store.set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        self.store.set_status(stack, "UPDATE_COMPLETE")

    def _failed(self, stack: Stack, error: DeployError, *, creating: bool,
                previous: Previous) -> None:
        """The deployer rolled back (or failed to): the stack's final status. An error
        without ``rolled_back`` came before anything changed."""
        rolled_back = bool(getattr(error, "rolled_back", True))
        if stack.status in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"):
            self.store.set_status(stack, "ROLLBACK_IN_PROGRESS" if creating
                                  else "UPDATE_ROLLBACK_IN_PROGRESS", one_line(error))
        if creating:
            self.store.set_status(stack, "ROLLBACK_COMPLETE" if rolled_back
                                  else "ROLLBACK_FAILED")
            return
        if not rolled_back:
            self.store.set_status(stack, "UPDATE_ROLLBACK_FAILED")
            return
        stack.template_body, stack.parameters = previous
        self.store.set_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        self.store.set_status(stack, "UPDATE_ROLLBACK_COMPLETE")

    # -- the workshop's own deploys ------------------------------------------------------

    async def deploy_template(self, template: Path, *, stack_name: str,
                              parameters: Mapping[str, str]) -> DeployReport:
        """``workshop deploy``: plan and execute at once (a plan that fails changes
        nothing), recorded as CloudFormation would record an update with rollback off."""
        async with self._lock:
            try:
                plan = await asyncio.to_thread(self.deployer.plan, template,
                                               stack_name=stack_name, parameters=parameters)
                stack, previous = self._workshop_stack(stack_name, template, parameters)
                creating = stack.status == "CREATE_IN_PROGRESS"
                try:
                    report = await asyncio.to_thread(self._execute, stack, plan)
                except DeployError as error:
                    await asyncio.to_thread(self._failed, stack, error, creating=creating,
                                            previous=previous)
                    raise
                self._succeeded(stack, creating=creating)
                return report
            finally:
                self._changed()

    def _workshop_stack(self, name: str, template: Path, parameters: Mapping[str, str]
                        ) -> tuple[Stack, Previous]:
        stack = self.store.live(name)
        if stack is not None and stack.status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS",
                                                  "ROLLBACK_FAILED"):
            # What CloudFormation would ask for first: the failed stack deleted.
            self.store.set_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
            self.store.set_status(stack, "DELETE_COMPLETE")
            stack = None
        text = template.read_text(encoding="utf-8")
        values = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()]
        if stack is None:
            stack = self.store.create(name, status="CREATE_IN_PROGRESS")
        else:
            self.store.check_updatable(stack)
            self.store.set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        previous = (stack.template_body, list(stack.parameters))
        stack.template_body, stack.parameters = text, values
        stack.description = str(template_body(text).get("Description") or "")
        return stack, previous

    async def delete_now(self, stack_name: str) -> DeployReport | None:
        """``workshop delete``: DeleteStack, waited for."""
        stack = self.store.live(stack_name)
        if stack is None:
            raise CloudFormationError(f"Stack with id {stack_name} does not exist")
        self.store.check_deletable(stack)
        if stack.status != "DELETE_IN_PROGRESS":
            self.store.set_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
        return await self.delete(stack)

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await work
            except Exception:  # recorded in the stack's status; the log says more
                log.exception("a CloudFormation operation failed in the background")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def settled(task: asyncio.Task[None]) -> None:
        """Wait a little for a background operation before answering the call that
        started it. CloudFormation answers at once and the caller polls; the SAM CLI's
        waiters poll once at once and then only every 15 to 30 seconds, so a stack that
        the local cloud builds in two seconds would cost every ``sam deploy`` and
        ``sam delete`` half a minute. An operation that takes longer is still polled."""
        await asyncio.wait({task}, timeout=SETTLE_SECONDS)
