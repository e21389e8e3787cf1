"""`psctl doctor` inside the controller: when to diagnose a spec, running it off the loop, and
putting the findings in the spec's status (a `Diagnosed` condition and a `diagnosis` field) and
in its Events.

When. After each pass of a spec (`Diagnoser.after_pass`, a hook of the worker):
- phase `Degraded` (a drift the spec's mode leaves in place): diagnose;
- phase `Ready`: probe the targets' health with one `DescribeTargetHealth` per target group of
  the spec (`target-group`, and `alb-target-group` behind an ALB), at most every
  `probe_seconds`; a target `unhealthy` or `unavailable`, or none registered and in service
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html),
  makes the spec *sick*: diagnose. A spec whose diagnosis of sick targets found errors and whose
  targets are healthy again is diagnosed once more, so that the condition clears;
- on demand: `GET /doctor?spec=ns/name` (`Diagnoser.request`) diagnoses now.
Throttled: a spec is diagnosed at most once per `doctor_seconds` (5 minutes) except on demand,
never twice at once (one task per spec: a request waits for the running one), and at most
`MAX_AT_ONCE` specs at a time. The probe and the diagnosis run in worker threads
(`asyncio.to_thread`): boto3 never blocks the loop.

Cost per spec per hour: the probe is at most 3600 / `probe_seconds` = 30 `DescribeTargetHealth`
per target group (one for NLB -> tasks, two for NLB -> ALB -> tasks), only for Ready specs and
only after a pass. A diagnosis (the spec's dry pass, mostly answered by the read cache the pass
just filled, then doctor's walk) is about 60 reads for the seed-000 shape, and runs only while a
spec is sick or Degraded: at most 12 an hour, about 720 reads an hour for a spec that stays
broken, none for a healthy one. Every call goes through the context's `Budget`
(`controller.aws.budget`), and API Gateway reads count toward the pacer's share, so routine
resyncs stretch rather than the account's quotas being exceeded.

What. `diagnosis`: doctor's JSON chain (`controller.doctor.report.to_json`: hops with status
and the ECS hops' note, findings with their fix, unknown) plus `at` and `trigger`. `Diagnosed`:
status True when an error finding exists (reason: the first error's code, a cause before
`no-healthy-targets`, its symptom; message: its fix),
False when none (reason `NoErrors`), Unknown when the chain could not be read. The diagnosis of
an older version of the spec is dropped. New findings become Events (Warning for an error,
Normal for a warning; reason `Diagnosed`), and `DiagnosisClear` when the errors go; status and
Events are written by the leader only.
Neighbours: `controller.runtime.controller` (calls `after_pass`, `decorate`, `stop`),
`controller.runtime.server` (`/doctor`), `controller.doctor` (discovery, checks, report),
`controller.aws.doctor_reads` (the probe's read).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog

from controller.aws.doctor_reads import DoctorReads, ReadDeniedError
from controller.aws.errors import AWS_ERRORS
from controller.aws.session import AwsContext
from controller.doctor.checks import run_checks
from controller.doctor.checks.ecs import hop_summaries
from controller.doctor.discover import ChainUnreadableError, Discovery
from controller.doctor.report import Diagnosis, short, to_json
from controller.errors import ControllerError, TemporaryError
from controller.ports.source import Feedback
from controller.reconcile.status import now
from controller.runtime.step import SpecState
from controller.spec.models import PrivateService

log = structlog.get_logger(__name__)

PROBE_SECONDS = 120.0
DOCTOR_SECONDS = 300.0
MAX_AT_ONCE = 2
TARGET_GROUP_KEYS = ("target-group", "alb-target-group")
BAD_STATES = frozenset({"unhealthy", "unavailable"})
SERVING_STATES = frozenset({"healthy", "initial", "draining", "unhealthy.draining"})
CONDITION = "Diagnosed"
SYMPTOMS = frozenset({"no-healthy-targets"})
"""Codes that say *that* requests fail; another error on the chain says why, and the condition
names that one first."""
DOCTOR_ERRORS: tuple[type[Exception], ...] = (ControllerError, *AWS_ERRORS)
Trigger = Literal["degraded", "unhealthy-targets", "recovered", "requested"]


def sick(descriptions: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a target group's `TargetHealthDescriptions` say requests fail: a target
    `unhealthy` or `unavailable`, or no target registered and in service (none, or all
    `unused`). `initial` and `draining` alone are a deploy under way, not a fault."""
    states = [str(d.get("TargetHealth", {}).get("State", "")) for d in descriptions]
    return any(s in BAD_STATES for s in states) or not any(s in SERVING_STATES for s in states)


@dataclass
class Record:
    """What the diagnoser knows of one spec."""

    fingerprint: str | None = None
    """The version of the spec `doc` diagnosed."""
    doc: dict[str, Any] | None = None
    condition: dict[str, Any] | None = None
    ran_at: float | None = None
    """When the last diagnosis started (monotonic)."""
    probed_at: float | None = None
    sick: bool = False
    told: set[tuple[str, str]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None

    @property
    def errors(self) -> bool:
        """The last diagnosis found an error."""
        return bool(self.condition and self.condition["status"] == "True")

    def busy(self) -> bool:
        """A probe or a diagnosis is running."""
        return self.task is not None and not self.task.done()


def decide(
    phase: str | None, rec: Record, at: float, *, probe_seconds: float, doctor_seconds: float
) -> tuple[bool, Trigger | None]:
    """After a pass: (probe the targets now?, diagnose now and why). Pure: the throttling."""
    throttled = rec.ran_at is not None and at - rec.ran_at < doctor_seconds
    if phase == "Degraded":
        return False, (None if throttled else "degraded")
    if phase != "Ready":
        return False, None
    probe = rec.probed_at is None or at - rec.probed_at >= probe_seconds
    return probe, None


def after_probe(sick_now: bool, rec: Record, at: float, doctor_seconds: float) -> Trigger | None:
    """After a probe of a Ready spec: diagnose when its targets are sick, or when they are
    healthy again after a diagnosis of sick targets that found errors (once, to clear it: an
    error that leaves the targets healthy is not diagnosed again until they are sick); at most
    every `doctor_seconds`."""
    if rec.ran_at is not None and at - rec.ran_at < doctor_seconds:
        return None
    if sick_now:
        return "unhealthy-targets"
    after_sick = rec.doc is not None and rec.doc.get("trigger") == "unhealthy-targets"
    return "recovered" if rec.errors and after_sick else None


def condition(doc: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `Diagnosed` condition of a diagnosis document (its transition time kept while its
    status stays)."""
    if "error" in doc:
        status, reason, message = "Unknown", "Unreadable", str(doc["error"])
    else:
        found = [f for f in doc.get("findings", []) if f.get("severity") == "error"]
        errors = [f for f in found if f["code"] not in SYMPTOMS] + [
            f for f in found if f["code"] in SYMPTOMS
        ]
        warnings = len(doc.get("findings", [])) - len(found)
        if errors:
            status, reason, message = "True", str(errors[0]["code"]), str(errors[0]["fix"])
        else:
            status, reason = "False", "NoErrors"
            message = f"psctl doctor finds no error on the chain ({warnings} warning(s))"
    kept = previous is not None and previous.get("status") == status
    return {
        "type": CONDITION,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": previous["lastTransitionTime"] if kept and previous else doc["at"],
    }


def document(d: Diagnosis, trigger: Trigger) -> dict[str, Any]:
    """The `diagnosis` status field: doctor's JSON chain, each hop with its note, `at`,
    `trigger`."""
    chain: dict[str, Any] = to_json([d])["chains"][0]
    for hop, ref in zip(chain["hops"], d.facts.hops, strict=True):
        if ref in d.notes:
            hop["note"] = d.notes[ref]
    return {"at": now(), "trigger": trigger} | chain


def diagnose(ps: PrivateService, aws: AwsContext, trigger: Trigger) -> dict[str, Any]:
    """One diagnosis of the chain `ps` owns (synchronous: a worker thread runs it)."""
    try:
        facts = Discovery(aws).spec(ps)
    except ChainUnreadableError as exc:
        return {"at": now(), "trigger": trigger, "error": str(exc)}
    except DOCTOR_ERRORS as exc:
        return {"at": now(), "trigger": trigger, "error": f"AWS: {exc}"}
    return document(Diagnosis(facts, run_checks(facts), hop_summaries(facts)), trigger)


def probe(aws: AwsContext, arns: list[str]) -> bool:
    """One DescribeTargetHealth per target group: whether any is sick (a refused read: not
    known to be, so no)."""
    reads = DoctorReads(aws)
    for arn in arns:
        try:
            if sick(reads.target_health(arn)):
                return True
        except ReadDeniedError as exc:
            log.warning("target health probe refused", target_group=arn, error=str(exc))
    return False


class Diagnoser:
    """Diagnoses the controller's specs when they look broken, and on request."""

    def __init__(
        self,
        aws: AwsContext,
        states: Mapping[str, SpecState],
        feedback: Callable[[], Feedback | None],
        leader: Callable[[], bool],
        *,
        probe_seconds: float = PROBE_SECONDS,
        doctor_seconds: float = DOCTOR_SECONDS,
    ) -> None:
        self.aws, self.states, self._feedback, self._leader = aws, states, feedback, leader
        self.probe_seconds, self.doctor_seconds = probe_seconds, doctor_seconds
        self.records: dict[str, Record] = {}
        self.runs = 0
        """Diagnoses made (the tests and the log read it)."""
        self._at_once = asyncio.Semaphore(MAX_AT_ONCE)

    # -- hooks of the controller ----------------------------------------------------------
    def decorate(self, owner: str, status: dict[str, Any]) -> dict[str, Any]:
        """`status` with the last diagnosis of the spec's current version (a new dict)."""
        rec = self.records.get(owner)
        state = self.states.get(owner)
        if rec is None or rec.doc is None or rec.condition is None or state is None:
            return status
        if rec.fingerprint != state.fingerprint:
            return status
        others = [c for c in status.get("conditions", []) if c.get("type") != CONDITION]
        return status | {"conditions": [*others, rec.condition], "diagnosis": rec.doc}

    def after_pass(self, owner: str, state: SpecState, *, deleting: bool) -> None:
        """After a pass of `owner` (on the loop): decorate its status, and start a probe or a
        diagnosis when one is due (in the background)."""
        if deleting:
            self.forget(owner)
            return
        rec = self.records.setdefault(owner, Record())
        if rec.fingerprint is not None and rec.fingerprint != state.fingerprint:
            rec.doc, rec.condition, rec.fingerprint, rec.told = None, None, None, set()
        state.status = self.decorate(owner, state.status)
        if rec.busy() or not state.status:
            return
        at = time.monotonic()
        probe_now, trigger = decide(
            state.status.get("phase"),
            rec,
            at,
            probe_seconds=self.probe_seconds,
            doctor_seconds=self.doctor_seconds,
        )
        if probe_now or trigger is not None:
            rec.task = asyncio.create_task(self._examine(owner, probe_now, trigger))

    async def request(self, owner: str) -> tuple[int, dict[str, Any]]:
        """`/doctor?spec=owner`: diagnose now (after any run in progress); (HTTP status, body)."""
        if owner not in self.states:
            return 404, {"error": f"no spec {owner} in this controller"}
        rec = self.records.setdefault(owner, Record())
        while rec.task is not None and not rec.task.done():
            await asyncio.wait({rec.task})  # never twice at once: wait for the running one
        task = rec.task = asyncio.create_task(self._examine(owner, False, "requested"))
        await asyncio.wait({task})
        if rec.doc is None:
            return 409, {"error": f"{owner} changed while it was diagnosed: ask again"}
        body = {"spec": owner, "condition": rec.condition, "diagnosis": rec.doc}
        return (409 if "error" in rec.doc else 200), body

    def forget(self, owner: str) -> None:
        """The spec is being deleted or left the source."""
        rec = self.records.pop(owner, None)
        if rec is not None and rec.task is not None:
            rec.task.cancel()

    async def stop(self) -> None:
        """Cancel what runs (a thread finishes its reads; its result is dropped)."""
        tasks = [r.task for r in self.records.values() if r.task is not None and not r.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the work -------------------------------------------------------------------------
    async def _examine(self, owner: str, probe_now: bool, trigger: Trigger | None) -> None:
        state, rec = self.states.get(owner), self.records.get(owner)
        if state is None or rec is None:
            return
        aws = state.reconciler.aws if state.reconciler is not None else self.aws
        try:
            if probe_now:
                arns = [
                    str(v)
                    for k, v in state.status.get("resources", {}).items()
                    if k in TARGET_GROUP_KEYS and v
                ]
                rec.probed_at = time.monotonic()
                rec.sick = await asyncio.to_thread(probe, aws, arns)
                trigger = after_probe(rec.sick, rec, time.monotonic(), self.doctor_seconds)
            if trigger is None:
                return
            fingerprint = state.fingerprint
            async with self._at_once:
                rec.ran_at = time.monotonic()
                doc = await asyncio.to_thread(diagnose, state.spec, aws, trigger)
            self.runs += 1
        except Exception:  # a bug here must never reach the worker or the HTTP server
            log.exception("diagnosis crashed", owner=owner)
            return
        if self.records.get(owner) is not rec or state.fingerprint != fingerprint:
            return  # deleted, or the spec changed meanwhile: this diagnosis is of the past
        await self._store(owner, state, rec, doc)

    async def _store(self, owner: str, state: SpecState, rec: Record, doc: dict[str, Any]) -> None:
        had_errors = rec.errors
        rec.fingerprint, rec.doc = state.fingerprint, doc
        rec.condition = condition(doc, rec.condition)
        state.status = self.decorate(owner, state.status)
        codes = [f["code"] for f in doc.get("findings", [])]
        log.info(
            "diagnosed",
            owner=owner,
            trigger=doc["trigger"],
            result=rec.condition["reason"],
            findings=codes,
        )
        feedback = self._feedback()
        if feedback is None or not self._leader():
            return
        try:
            if state.status:
                await feedback.report(owner, state.status)
            await self._tell(feedback, owner, rec, doc, had_errors)
        except TemporaryError as exc:
            log.warning("writing the diagnosis failed", owner=owner, error=str(exc))

    async def _tell(
        self, feedback: Feedback, owner: str, rec: Record, doc: dict[str, Any], had: bool
    ) -> None:
        """An Event per finding not told yet; `DiagnosisClear` when the errors went."""
        seen: set[tuple[str, str]] = set()
        for f in doc.get("findings", []):
            key = (str(f["code"]), str(f["resource"]))
            seen.add(key)
            if key in rec.told:
                continue
            await feedback.event(
                owner,
                "Warning" if f["severity"] == "error" else "Normal",
                CONDITION,
                f"{f['code']} on {f['hop']} {short(str(f['resource']))}: {f['message']} "
                f"Fix: {f['fix']}",
            )
        rec.told = seen
        if had and not rec.errors and "error" not in doc:
            await feedback.event(
                owner, "Normal", "DiagnosisClear", "psctl doctor finds no error on the chain"
            )
