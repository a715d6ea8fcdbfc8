"""Functions and state machines act as their IAM roles: every call they make is checked.

A request signed with a role session (``request["workshop.identity"]``, set once the
signature is verified) is allowed only if the role's policies allow every action the call
needs (:mod:`.iam_requests`), evaluated by :mod:`.iam_policy`; the learner's own
credentials (the installation's) have full access, as an account's root user does. A
refusal is the service's own error, worded as AWS words it, and goes to the cloud's log.

The policies are read from moto's IAM, in this process: a role's inline policies, its
attached managed policies (customer ones, and AWS-managed ones, which
:mod:`.aws_managed_policies` makes attachable), and its permissions boundary, if any.
Decisions are kept per (role, action, resource) until the next deploy, delete, reset or
IAM change; a decision that depended on a condition is never kept.

``--iam off`` (``Settings.iam``) turns every check off, for apps not ready for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from aiohttp import web

from .aws_refusals import Protocol as Wire
from .aws_refusals import aws_error
from .front_door import IDENTITY as IDENTITY_KEY
from .iam_policy import Decision, Effect, evaluate
from .iam_requests import Access, Call, describe_call
from .settings import Settings

__all__ = ["IDENTITY_KEY", "IamEnforcer", "MotoRolePolicies", "Refusal", "RolePolicies",
           "principals_of", "refusal_response", "task_token_state_machine"]

log = logging.getLogger("workshop.iam")

# IAM API operations that only read: anything else may change what a role is allowed.
_IAM_READS = ("Get", "List", "Simulate", "Generate")
_IDENTITY_POLICY, _BOUNDARY = "identity-based policy", "permissions boundary"


class RolePolicies(Protocol):
    """Where a role's policy documents come from."""

    def documents(self, role_arn: str) -> list[Any]: ...

    def boundary(self, role_arn: str) -> Any | None: ...


class MotoRolePolicies:
    """A role's policies as moto's IAM holds them (the deployer created them there)."""

    def __init__(self, settings: Settings) -> None:
        self._account = settings.account_id
        # moto keeps one IAM per partition: the China regions' roles are in "aws-cn".
        self._partition = settings.partition

    def _role(self, role_arn: str) -> Any | None:
        from moto.iam.models import iam_backends

        backend = iam_backends[self._account][self._partition]
        name = role_arn.rsplit("/", 1)[-1]
        for _attempt in range(3):  # the deploy thread may be changing the roles
            try:
                return next((r for r in list(backend.roles.values())
                             if r.name == name and r.arn == role_arn), None)
            except RuntimeError:
                continue
        return None

    def documents(self, role_arn: str) -> list[Any]:
        role = self._role(role_arn)
        if role is None:
            return []
        return [*list(role.policies.values()),
                *(_default_document(p) for p in list(role.managed_policies.values()))]

    def boundary(self, role_arn: str) -> Any | None:
        role = self._role(role_arn)
        arn = getattr(role, "permissions_boundary_arn", None) if role else None
        if not arn:
            return None
        from moto.iam.models import iam_backends

        policy = iam_backends[self._account][self._partition].managed_policies.get(arn)
        # A boundary that does not exist allows nothing.
        return _default_document(policy) if policy else {"Statement": []}


def _default_document(policy: Any) -> Any:
    return next((v.document for v in policy.versions if v.is_default), "{}")


@dataclass(frozen=True)
class Refusal:
    """Why a call was refused, and the words AWS would use."""

    principal: str  # arn:<partition>:sts::<account>:assumed-role/<Role>/<session>
    call: Call
    access: Access | None  # None when the call itself is unknown
    effect: Effect
    notes: tuple[str, ...] = ()
    # Which kind of policy refused: "identity-based policy" or "permissions boundary".
    policy_type: str = _IDENTITY_POLICY

    def message(self) -> str:
        """AWS's message: "User: … is not authorized to perform: … on resource: … because
        no identity-based policy allows the … action" (or "with an explicit deny in an
        identity-based policy"). API Gateway leaves the reason out of implicit denials."""
        if self.access is None:
            return (f"User: {self.principal} is not authorized to perform this call "
                    f"({self.call.service} {self.call.operation}): the local cloud does not "
                    f"know which IAM action it is, so it refuses it to a role rather than "
                    f"let it through unchecked (`python -m workshop up --iam off` runs "
                    f"without IAM checks)")
        action = _spelled(self.call.service, self.access.action)
        head = (f"User: {self.principal} is not authorized to perform: {action} "
                f"on resource: {self.access.resource}")
        if self.effect is Effect.EXPLICIT_DENY:
            article = "an" if self.policy_type[0] in "aeiou" else "a"
            return f"{head} with an explicit deny in {article} {self.policy_type}"
        if self.call.service == "execute-api":
            return head
        return f"{head} because no {self.policy_type} allows the {action} action"


def _spelled(service: str, action: str) -> str:
    """The action as the service writes it in its refusals: SNS capitalises its prefix
    ("SNS:Publish"), SQS writes the whole action in lower case ("sqs:sendmessage")."""
    prefix, _, name = action.partition(":")
    if service == "sns":
        return f"SNS:{name}"
    if service == "sqs":
        return action.lower()
    return f"{prefix}:{name}"


class IamEnforcer:
    """Checks calls made with role sessions against the role's policies."""

    def __init__(self, settings: Settings, *, policies: RolePolicies | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.enabled = settings.iam
        self._policies = policies if policies is not None else MotoRolePolicies(settings)
        self._clock = clock
        self._decisions: dict[tuple[Any, ...], tuple[Decision, str]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every decision (roles or policies may have changed)."""
        with self._lock:
            self._decisions.clear()

    # -- deciding --------------------------------------------------------------------------

    def refusal(self, identity: Any, call: Call, *, source_ip: str = "127.0.0.1",
                resource_policy: Callable[[Access], bool] | None = None) -> Refusal | None:
        """Why ``identity`` may not make ``call``, or None if it may.

        ``resource_policy`` says whether the resource's own policy allows the caller
        (Lambda's function policy): in one account, either kind of policy may allow,
        but an explicit Deny in the identity's policies still wins.
        """
        role_arn = getattr(identity, "role_arn", None)
        if not self.enabled or role_arn is None:
            return None  # the learner's own credentials: the account's root
        principal = identity.arn
        if not call.known:
            return self._refused(Refusal(principal, call, None, Effect.IMPLICIT_DENY))
        for access in call.accesses:
            decision, policy_type = self._decide(role_arn, access,
                                                 lambda: self._context(identity, source_ip))
            if decision.allowed:
                continue
            if (decision.effect is Effect.IMPLICIT_DENY and policy_type == _IDENTITY_POLICY
                    and resource_policy is not None and resource_policy(access)):
                continue
            return self._refused(Refusal(principal, call, access, decision.effect,
                                         decision.notes, policy_type))
        return None

    def _decide(self, role_arn: str, access: Access,
                context: Callable[[], Mapping[str, Any]]) -> tuple[Decision, str]:
        """The decision on one access, and which kind of policy made it."""
        key = (role_arn, access.action, access.resource, tuple(sorted(access.context.items())))
        kept = self._decisions.get(key)
        if kept is not None:
            return kept
        full_context = {**context(), **access.context}
        decision = evaluate(self._policies.documents(role_arn), action=access.action,
                            resource=access.resource, context=full_context)
        policy_type = _IDENTITY_POLICY
        boundary = self._policies.boundary(role_arn)
        if decision.allowed and boundary is not None:
            # A permissions boundary caps what the identity's policies may allow.
            limit = evaluate([boundary], action=access.action, resource=access.resource,
                             context=full_context)
            effect = decision.effect if limit.allowed else limit.effect
            policy_type = _IDENTITY_POLICY if limit.allowed else _BOUNDARY
            decision = Decision(effect, decision.context_free and limit.context_free,
                                decision.notes + limit.notes)
        if decision.context_free:
            with self._lock:
                self._decisions[key] = (decision, policy_type)
        return decision, policy_type

    def _context(self, identity: Any, source_ip: str) -> dict[str, Any]:
        now = self._clock()
        return {
            "aws:PrincipalArn": identity.role_arn,
            "aws:PrincipalAccount": self.settings.account_id,
            "aws:PrincipalType": "AssumedRole",
            "aws:RequestedRegion": self.settings.region,
            "aws:SourceIp": source_ip,
            # The local cloud stands in for AWS's HTTPS endpoints: a policy that denies
            # plain HTTP must behave here as it does there.
            "aws:SecureTransport": "true",
            "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "aws:EpochTime": str(int(now)),
        }

    def _refused(self, refusal: Refusal) -> Refusal:
        log.warning("IAM refused %s: %s%s", refusal.call.action, refusal.message(),
                    "".join(f" [{note}]" for note in refusal.notes))
        return refusal

    # -- moto-bound requests -------------------------------------------------------------------

    async def check_moto_request(self, request: web.Request,
                                 resolve_token: Callable[[str], str | None] | None = None
                                 ) -> web.Response | None:
        """The refusal to answer ``request`` (bound for moto's services) with, or None.

        A change to IAM itself clears the decisions, whoever makes it.
        """
        identity = request.get(IDENTITY_KEY)
        checked = self.enabled and getattr(identity, "role_arn", None) is not None
        signed_for_iam = "/iam/aws4_request" in request.headers.get("Authorization", "")
        if not (checked or signed_for_iam):
            return None
        body = await request.read()
        if signed_for_iam and not _reads_only(body):
            self.clear()
        if not checked:
            return None
        raw_path, _, query = request.raw_path.partition("?")
        call = describe_call(request.method, raw_path, query, request.headers, body,
                             region=self.settings.region, account=self.settings.account_id,
                             resolve_token=resolve_token)
        refusal = self.refusal(identity, call, source_ip=request.remote or "127.0.0.1")
        return refusal_response(refusal) if refusal else None


def _reads_only(body: bytes) -> bool:
    """Whether an IAM query-protocol request only reads (Get*, List*…)."""
    action = dict(parse_qsl(body.decode("utf-8", "replace"))).get("Action", "")
    return action.startswith(_IAM_READS)


# -- refusals in each service's protocol --------------------------------------------------------

# (protocol, error code, HTTP status) of each service's refusal: DynamoDB, Step Functions
# and CloudWatch Logs answer AccessDeniedException (400), Lambda and API Gateway
# AccessDeniedException (403), SNS AuthorizationError (403), SQS AccessDenied (403, also in
# its JSON protocol), S3 AccessDenied (403).
_REFUSALS = {
    "execute-api": (Wire.EXECUTE_API, "AccessDeniedException", 403),
    "lambda": (Wire.REST_JSON, "AccessDeniedException", 403),
    "sns": (Wire.QUERY, "AuthorizationError", 403),
    "s3": (Wire.S3, "AccessDenied", 403),
}
_BY_PROTOCOL = {"json": (Wire.JSON, "AccessDeniedException", 400),
                "query": (Wire.QUERY, "AccessDenied", 403),
                "rest-json": (Wire.REST_JSON, "AccessDeniedException", 403),
                "rest-xml": (Wire.S3, "AccessDenied", 403)}


def refusal_response(refusal: Refusal) -> web.Response:
    """The error the refused call's service answers with, in its own protocol."""
    call = refusal.call
    protocol, code, status = _REFUSALS.get(call.service) or _BY_PROTOCOL[call.protocol]
    if call.service == "sqs":
        protocol, code, status = ((Wire.SQS_JSON if call.protocol == "json"
                                   else Wire.QUERY), "AccessDenied", 403)
    reply = aws_error(protocol, code=code, message=refusal.message(), status=status)
    return web.Response(status=reply.status, body=reply.body, headers=reply.headers)


def task_token_state_machine(task_token: str, *, account: str, region: str) -> str | None:
    """The ARN of the state machine whose running execution issued ``task_token``
    (``SendTask*`` is authorised on it), or None if no running execution holds it."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[account][region]
    for machine in list(backend.state_machines):
        for execution in list(getattr(machine, "executions", [])):
            worker = getattr(execution, "exec_worker", None)
            pool = getattr(getattr(worker, "env", None), "callback_pool_manager", None)
            if pool is not None and pool.get(task_token) is not None:
                return str(machine.arn)
    return None


def principals_of(identity: Any, account: str) -> Iterable[str]:
    """The principals a resource policy may name to admit ``identity``."""
    partition = identity.arn.split(":", 2)[1]  # the identity's own (aws, aws-cn…)
    return (identity.role_arn, identity.arn, account, f"arn:{partition}:iam::{account}:root",
            "*")
