"""Play the ECS agent for the sandbox: run "tasks" for services and register them as targets.

moto's ECS starts no tasks, keeps `runningCount` at 0 and registers nothing in target groups. This
daemon thread, in the same process as moto's server, reads moto's backends directly every
`period` seconds and, for every ECS service whose network configuration is awsvpc (Fargate) or
whose task definition uses the bridge or host network mode (ECS on EC2):
- keeps `desiredCount` tasks while the service is ACTIVE, none once it is deleted or scaled to 0;
  a new task definition rolls the tasks over (new tasks first, then the old ones stop);
- awsvpc: gives each task a private IP from the service's subnets (spread over the subnets,
  lowest free address after AWS's reserved ones, stable for the task's life) and an ENI there;
- bridge/host: places each task on an ACTIVE container instance of the cluster whose EC2
  instance is running and whose host ports are free (a fixed host port admits one task per
  instance, as on AWS: fewer free instances than desiredCount leave tasks unplaced, and the
  service's runningCount says so); a task on an instance that left the cluster stops;
- starts a task only where its images can be pulled (`reachability.pull_failure`: a NAT or
  internet route, or the region's ECR endpoints); elsewhere the task stops at once with AWS's
  `CannotPullContainerError` as its stoppedReason, the service's events say it "is unable to
  consistently start tasks successfully", and that place is tried again after RETRY_SECONDS;
- mirrors each task as a moto Task (`task_mirror`), so ListTasks/DescribeTasks show it;
- sets the service's runningCount/pendingCount and its primary deployment's counts and rollout;
- registers every task in each target group of `loadBalancers`: awsvpc by its IP on the
  containerPort, bridge by its EC2 instance id on the host port its task definition maps that
  containerPort to ("the container instance ID and port"), and deregisters tasks that stopped
  (DescribeTargetHealth then judges them as AWS would: `fidelity.elbv2_target_health`).
State that moto loses on a reset (`POST /moto-api/reset`) is noticed by object identity and
dropped; `paused()` lets `Sandbox.reset` hold the agent still while it resets.
Neighbours: `server` (starts, pauses and stops it), `fidelity.ecs` (CreateService/ListTasks),
`reachability`, `task_mirror`.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from moto.ec2.models import ec2_backends
from moto.ecs import models as ecs_models
from moto.elbv2.models import elbv2_backends

from controller.sandbox import reachability, task_mirror

log = structlog.get_logger(__name__)

AWS_RESERVED_HOSTS = 3  # .1, .2 and .3 of every subnet (the network and broadcast never count)
RETRY_SECONDS = 5.0  # a place (subnet, instance) where a launch failed is tried again after this
MAX_STOPPED = 10  # failed tasks kept per service for DescribeTasks (AWS: at least an hour)
IMPAIRED = "service {} is unable to consistently start tasks successfully."

Registration = tuple[str, str, int]  # (target group ARN, task IP or instance id, port)


@dataclass
class _Task:
    ip: str  # awsvpc: the task's own address; bridge: "" (it shares its instance's)
    subnet_id: str
    task_definition: str
    task_arn: str | None = None
    eni_id: str | None = None
    instance_id: str | None = None  # bridge: the container instance's EC2 instance
    container_instance_arn: str | None = None
    host_ports: dict[int, int] = field(default_factory=dict)  # bridge: containerPort -> hostPort

    @property
    def target_id(self) -> str:
        """What ECS registers in a target group for this task."""
        return self.instance_id or self.ip

    def target_port(self, container_port: int) -> int:
        """The port ECS registers: the mapped host port in bridge mode."""
        return self.host_ports.get(container_port, container_port)


@dataclass
class _ServiceState:
    service: Any  # the moto Service this state belongs to (identity, not name)
    account_id: str
    region: str
    tasks: list[_Task] = field(default_factory=list)
    registered: set[Registration] = field(default_factory=set)
    failed: dict[str, float] = field(default_factory=dict)  # subnet/instance -> last failure
    stopped: list[str] = field(default_factory=list)  # ARNs of tasks that failed to start


class EcsAgent:
    """A stoppable daemon thread that reconciles moto's ECS services every `period` seconds."""

    def __init__(self, period: float = 0.5) -> None:
        self.period = period
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._states: dict[tuple[str, str, str, str], _ServiceState] = {}
        self._last_error = ""

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="psctl-ecs-agent", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the agent still (no pass runs) for the duration of the block."""
        with self._lock:
            yield

    def forget(self) -> None:
        """Drop all state without touching moto (after moto's own state was reset)."""
        with self._lock:
            self._states.clear()

    def tick(self) -> None:
        """Run one reconciliation pass now (thread-safe; the thread calls this every period)."""
        with self._lock:
            seen: set[tuple[str, str, str, str]] = set()
            for account_id, region, backend in _ecs_backends():
                for service in list(backend.services.values()):
                    if not _awsvpc_subnets(service) and _bridge_ports(service, backend) is None:
                        continue
                    key = (account_id, region, service.cluster_arn, service.name)
                    state = self._states.get(key)
                    if state is not None and state.service is not service:
                        self._retire(state)
                        state = None
                    if state is None:
                        state = _ServiceState(service, account_id, region)
                        self._states[key] = state
                    seen.add(key)
                    self._reconcile(state, backend)
            for key in set(self._states) - seen:
                self._retire(self._states.pop(key))

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.tick()
            except Exception as error:  # a pass may race a reset; the next one heals
                if str(error) != self._last_error:
                    log.warning("ecs agent pass failed", error=repr(error), exc_info=True)
                self._last_error = str(error)

    def _reconcile(self, state: _ServiceState, ecs: Any) -> None:
        service = state.service
        desired = int(service.desired_count or 0) if service.status == "ACTIVE" else 0
        current = [t for t in state.tasks if t.task_definition == service.task_definition]
        stale = [t for t in state.tasks if t.task_definition != service.task_definition]
        while len(current) > desired:
            self._stop_task(state, ecs, current.pop())
        if not _awsvpc_subnets(service):
            placed = _instances(ecs, service.cluster_name)
            for task in [t for t in current if t.container_instance_arn not in placed]:
                current.remove(task)  # its instance left the cluster: the task is gone
                self._stop_task(state, ecs, task)
        while len(current) < desired:
            started = self._start_task(state, ecs)
            if started is None:
                break  # no instance can take another task (ECS: "unable to place a task")
            current.append(started)
        for task in stale:
            self._stop_task(state, ecs, task)
        state.tasks = current
        _report_counts(service, len(current), desired)
        self._sync_targets(state)

    def _start_task(self, state: _ServiceState, ecs: Any) -> _Task | None:
        service = state.service
        subnets = _awsvpc_subnets(service)
        if not subnets:
            return self._place_on_instance(state, ecs)
        load = {s: sum(t.subnet_id == s for t in state.tasks) for s in subnets}
        config = service.network_configuration["awsvpcConfiguration"]
        for subnet_id in sorted(subnets, key=lambda s: load[s]):
            if not self._may_try(state, subnet_id):
                continue
            ip = self._free_ip(state, subnet_id)
            failure = self._pull_failure(
                state,
                ecs,
                subnet_id=subnet_id,
                public_ip=config.get("assignPublicIp") == "ENABLED",
                groups=list(config.get("securityGroups") or []),
                ip=ip,
            )
            if failure:
                self._failed(state, ecs, subnet_id, failure, subnet_id=subnet_id)
                continue
            task = _Task(ip=ip, subnet_id=subnet_id, task_definition=service.task_definition)
            try:
                mirrored = task_mirror.running_awsvpc(
                    ecs, service, state.account_id, state.region, subnet_id, ip
                )
                if mirrored is not None:
                    task.task_arn, task.eni_id = mirrored
            except Exception as error:  # the mirror is cosmetic; the target is not
                log.debug(
                    "ecs agent could not mirror a task", service=service.name, error=repr(error)
                )
            state.tasks.append(task)
            state.failed.pop(subnet_id, None)
            return task
        return None

    def _may_try(self, state: _ServiceState, place: str) -> bool:
        """Whether a launch in `place` may be tried now (ECS backs off after a failure)."""
        return time.monotonic() - state.failed.get(place, -RETRY_SECONDS) >= RETRY_SECONDS

    def _pull_failure(self, state: _ServiceState, ecs: Any, **where: Any) -> str | None:
        """Why the task's images cannot be pulled from where it would run, or None."""
        definition = ecs.describe_task_definition(state.service.task_definition)
        images = [str(c.get("image") or "") for c in definition.container_definitions]
        ec2 = ec2_backends[state.account_id][state.region]
        return reachability.pull_failure(ec2, state.region, images=images, **where)

    def _failed(
        self, state: _ServiceState, ecs: Any, place: str, reason: str, **where: Any
    ) -> None:
        """A task that stopped before it ran: shown as STOPPED, the service event said once."""
        state.failed[place] = time.monotonic()
        service = state.service
        arn = task_mirror.stopped(ecs, service, state.account_id, state.region, reason, **where)
        if arn is not None:
            state.stopped.append(arn)
        for old in state.stopped[:-MAX_STOPPED]:
            task_mirror.forget(ecs, old)
        del state.stopped[:-MAX_STOPPED]
        task_mirror.service_event(service, IMPAIRED.format(service.name))
        log.info("ecs agent: task failed to start", service=service.name, reason=reason)

    def _place_on_instance(self, state: _ServiceState, ecs: Any) -> _Task | None:
        """A bridge task on the first container instance whose host ports are free."""
        service = state.service
        ports = _bridge_ports(service, ecs) or {}
        wanted = {p for p in ports.values() if p}
        ec2 = ec2_backends[state.account_id][state.region]
        busy: dict[str, set[int]] = {}
        for other in self._states.values():
            if (other.account_id, other.region) != (state.account_id, state.region):
                continue
            for task in other.tasks:
                if task.instance_id:
                    busy.setdefault(task.instance_id, set()).update(task.host_ports.values())
        for arn, instance in sorted(_instances(ecs, service.cluster_name).items()):
            ec2_instance = ec2.get_instance_by_id(instance.ec2_instance_id)
            if ec2_instance is None or ec2_instance.state != "running":
                continue
            if busy.get(instance.ec2_instance_id, set()) & wanted:
                continue
            if not self._may_try(state, instance.ec2_instance_id):
                continue
            failure = self._pull_failure(
                state,
                ecs,
                subnet_id=str(getattr(ec2_instance, "subnet_id", "")),
                public_ip=bool(ec2_instance.public_ip),
                groups=[g.id for g in ec2_instance.security_groups],
                ip=str(ec2_instance.private_ip or ""),
            )
            if failure:
                self._failed(
                    state, ecs, instance.ec2_instance_id, failure, container_instance_arn=arn
                )
                continue
            task = _Task(
                ip="",
                subnet_id=str(getattr(ec2_instance, "subnet_id", "")),
                task_definition=service.task_definition,
                instance_id=instance.ec2_instance_id,
                container_instance_arn=arn,
                host_ports=ports,
            )
            try:
                task.task_arn = task_mirror.running_bridge(ecs, service, arn)
            except Exception as error:  # the mirror is cosmetic; the target is not
                log.debug(
                    "ecs agent could not mirror a task", service=service.name, error=repr(error)
                )
            state.tasks.append(task)
            state.failed.pop(instance.ec2_instance_id, None)
            return task
        return None

    def _stop_task(self, state: _ServiceState, ecs: Any, task: _Task) -> None:
        if task in state.tasks:
            state.tasks.remove(task)
        task_mirror.forget(ecs, task.task_arn)
        if task.eni_id is not None:
            ec2_backends[state.account_id][state.region].enis.pop(task.eni_id, None)

    def _free_ip(self, state: _ServiceState, subnet_id: str) -> str:
        ec2 = ec2_backends[state.account_id][state.region]
        used = {t.ip for s in self._states.values() for t in s.tasks if t.ip}
        used |= {str(eni.private_ip_address) for eni in list(ec2.enis.values())}
        network = ipaddress.ip_network(ec2.get_subnet(subnet_id).cidr_block)
        for host in itertools.islice(network.hosts(), AWS_RESERVED_HOSTS, None):
            if str(host) not in used:
                return str(host)
        raise RuntimeError(f"subnet {subnet_id} has no free address")

    def _sync_targets(self, state: _ServiceState) -> None:
        target_groups = elbv2_backends[state.account_id][state.region].target_groups
        wanted: set[Registration] = {
            (lb["targetGroupArn"], task.target_id, task.target_port(int(lb["containerPort"])))
            for task in state.tasks
            for lb in state.service.load_balancers or []
            if lb.get("targetGroupArn") and lb.get("containerPort")
        }
        for arn, target, _port in state.registered - wanted:
            target_group = target_groups.get(arn)
            if target_group is not None and target in target_group.targets:
                target_group.deregister([{"Id": target}])
        state.registered = set()
        for arn, target, port in wanted:
            target_group = target_groups.get(arn)
            if target_group is None:
                continue  # not created yet, or deleted: retried next pass
            if target_group.targets.get(target, {}).get("Port") != port:
                try:
                    target_group.register([{"Id": target, "Port": port}])
                except Exception as error:  # e.g. an instance that stopped: next pass
                    log.debug("ecs agent could not register", target=target, error=repr(error))
                    continue
            state.registered.add((arn, target, port))

    def _retire(self, state: _ServiceState) -> None:
        ecs = ecs_models.ecs_backends[state.account_id][state.region]
        for task in list(state.tasks):
            self._stop_task(state, ecs, task)
        for arn in state.stopped:
            task_mirror.forget(ecs, arn)
        self._sync_targets(state)


def _ecs_backends() -> Iterator[tuple[str, str, Any]]:
    """The ECS backends that exist (never creates one): (account, region, backend)."""
    for account_id, regions in list(dict.items(ecs_models.ecs_backends)):
        for region, backend in list(dict.items(regions)):
            yield account_id, region, backend


def _awsvpc_subnets(service: Any) -> list[str]:
    config = (service.network_configuration or {}).get("awsvpcConfiguration") or {}
    return list(config.get("subnets") or [])


def _bridge_ports(service: Any, ecs: Any) -> dict[int, int] | None:
    """containerPort -> hostPort of a bridge/host service's task definition, else None."""
    if _awsvpc_subnets(service):
        return None
    try:
        task_definition = ecs.describe_task_definition(service.task_definition)
    except Exception:  # deregistered meanwhile, or a reset raced us
        return None
    if (task_definition.network_mode or "bridge") == "awsvpc":
        return None
    ports: dict[int, int] = {}
    for container in task_definition.container_definitions:
        for mapping in container.get("portMappings") or []:
            container_port = int(mapping.get("containerPort") or 0)
            ports[container_port] = int(mapping.get("hostPort") or container_port)
    return ports


def _instances(ecs: Any, cluster_name: str) -> dict[str, Any]:
    """ACTIVE container instances of a cluster, by ARN."""
    return {
        instance.container_instance_arn: instance
        for instance in list(ecs.container_instances.get(cluster_name, {}).values())
        if instance.status == "ACTIVE"
    }


def _report_counts(service: Any, running: int, desired: int) -> None:
    service.running_count = running
    service.pending_count = 0
    for deployment in service.deployments[:1]:
        deployment["runningCount"] = running
        deployment["pendingCount"] = 0
        deployment["desiredCount"] = desired
        done = running == desired
        deployment["rolloutState"] = "COMPLETED" if done else "IN_PROGRESS"
        verb = "completed" if done else "in progress"
        deployment["rolloutStateReason"] = f"ECS deployment {deployment['id']} {verb}."
