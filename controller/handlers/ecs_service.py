"""The ECS service: awsvpc in the given subnets, no public IP, circuit breaker, grace period, NLB.

On EC2 (bridge tasks, seed 004) there is no network configuration and no platform version: the
props simply leave them out. Service Connect is read from the PRIMARY deployment, where
DescribeServices reports it (the service itself carries no serviceConnectConfiguration); a spec
without it wants `{"enabled": false}`, so removing it from the spec turns it off.
Launch type, name and cluster cannot change in place: replacement. Everything else is one
UpdateService carrying only what differs. A service whose tasks are not all running yet is
`pending` (the engine requeues; nothing waits). Neighbours: `controller.handlers.base`,
`controller.handlers.ecs_task_definition`, `controller.handlers.ecs_cluster`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    changed,
    error_code,
    props_as,
    tolerating,
)
from controller.model import kinds
from controller.model.props import Known, Service

if TYPE_CHECKING:
    from types_boto3_ecs import ECSClient
    from types_boto3_ecs.type_defs import ServiceTypeDef


def service_connect_props(config: dict[str, Any] | None) -> dict[str, Any]:
    """A deployment's serviceConnectConfiguration in the desired props' shape."""
    if not config or not config.get("enabled"):
        return {"enabled": False}
    return {
        "enabled": True,
        "namespace": config.get("namespace"),
        "services": [
            {
                "portName": svc.get("portName"),
                "discoveryName": svc.get("discoveryName"),
                "clientAliases": [
                    {"port": alias.get("port"), "dnsName": alias.get("dnsName")}
                    for alias in svc.get("clientAliases", [])
                ],
            }
            for svc in config.get("services", [])
        ],
    }


def primary_deployment(s: Mapping[str, Any]) -> dict[str, Any]:
    """The PRIMARY deployment of a DescribeServices entry (the newest one), or {}."""
    deployments: list[dict[str, Any]] = s.get("deployments") or []
    primary = [d for d in deployments if d.get("status") == "PRIMARY"]
    return (primary or deployments or [{}])[0]


def service_props(s: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeServices entry in the desired props' shape."""
    vpc = s.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    lbs = s.get("loadBalancers") or [{}]
    dc = s.get("deploymentConfiguration", {})
    cb = dc.get("deploymentCircuitBreaker", {})
    sc = primary_deployment(s).get("serviceConnectConfiguration")
    return {
        "cluster": s["clusterArn"].rsplit("/", 1)[-1],
        "name": s["serviceName"],
        "taskDefinition": s.get("taskDefinition"),
        "desiredCount": s.get("desiredCount"),
        "launchType": s.get("launchType"),
        "platformVersion": s.get("platformVersion"),
        "subnets": sorted(vpc.get("subnets", [])),
        "securityGroups": sorted(vpc.get("securityGroups", [])),
        "assignPublicIp": vpc.get("assignPublicIp", "DISABLED"),
        "loadBalancer": {
            "targetGroupArn": lbs[0].get("targetGroupArn"),
            "containerName": lbs[0].get("containerName"),
            "containerPort": lbs[0].get("containerPort"),
        },
        "healthCheckGracePeriodSeconds": s.get("healthCheckGracePeriodSeconds"),
        "enableExecuteCommand": s.get("enableExecuteCommand", False),
        "deployment": {
            "minimumHealthyPercent": dc.get("minimumHealthyPercent"),
            "maximumPercent": dc.get("maximumPercent"),
            "circuitBreaker": {
                "enable": cb.get("enable", False),
                "rollback": cb.get("rollback", False),
            },
        },
        "serviceConnect": service_connect_props(sc),
    }


def _service_connect_args(sc: Any) -> dict[str, Any]:
    """The serviceConnectConfiguration argument for `sc` (desired props shape)."""
    if not sc.get("enabled"):
        return {"enabled": False}
    return {
        "enabled": True,
        "namespace": sc["namespace"],
        "services": [
            {
                "portName": svc["portName"],
                "discoveryName": svc["discoveryName"],
                "clientAliases": [dict(alias) for alias in svc["clientAliases"]],
            }
            for svc in sc["services"]
        ],
    }


class ServiceHandler(Handler):
    """ECS service on Fargate (or EC2)."""

    kind = kinds.ECS_SERVICE
    client: ECSClient
    service = "ecs"
    replace_on = ("name", "cluster", "launchType")
    identity = ("cluster", "name")

    def props_of(self, want: Desired) -> Service[Known]:
        """The desired props as `Service` (`controller.model.props`)."""
        return props_as(want, Service[Known])

    def _described(self, cluster: str, name: str) -> list[ServiceTypeDef]:
        """The service among its cluster's services, read with the ones beside it.

        ListServices (100 a page) and DescribeServices of the chunk of 10 sorted ARNs that
        holds ours (the most it takes: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html)
        are the same requests for every spec in the cluster, so the read snapshot serves them
        all with one call each. A service not listed yet is described by name.
        """
        pages = self.client.get_paginator("list_services").paginate(
            cluster=cluster, PaginationConfig={"PageSize": 100}
        )
        arns = sorted(arn for page in pages for arn in page["serviceArns"])
        ours = next((i for i, arn in enumerate(arns) if arn.rsplit("/", 1)[-1] == name), None)
        chunk = [name] if ours is None else arns[ours // 10 * 10 : ours // 10 * 10 + 10]
        out = self.client.describe_services(cluster=cluster, services=chunk, include=["TAGS"])
        return [s for s in out["services"] if s["serviceName"] == name]

    def observe(self, want: Desired) -> Observed | None:
        """The service by name in its cluster; INACTIVE counts as absent."""
        try:
            found = self._described(self.props_of(want)["cluster"], self.props_of(want)["name"])
        except ClientError as exc:
            if error_code(exc) == "ClusterNotFoundException":
                return None
            raise
        services = [s for s in found if s["status"] != "INACTIVE"]
        if not services:
            return None
        s = services[0]
        pending = None
        if s["status"] == "DRAINING":
            pending = "service is draining"
        elif s.get("runningCount", 0) < s.get("desiredCount", 0):
            pending = f"{s.get('runningCount', 0)}/{s['desiredCount']} tasks running"
        elif len(s.get("deployments", [])) > 1:
            pending = "deployment in progress"
        return Observed(
            key=want.key,
            id=s["serviceArn"],
            props=service_props(s),
            tags=ownership.from_list(s.get("tags")),
            outputs={
                "id": s["serviceArn"],
                "arn": s["serviceArn"],
                "name": s["serviceName"],
                "runningCount": s.get("runningCount", 0),
            },
            pending=pending,
        )

    @staticmethod
    def _common(p: dict[str, Any] | Any) -> dict[str, Any]:
        dep = p["deployment"]
        args: dict[str, Any] = {
            "taskDefinition": p["taskDefinition"],
            "desiredCount": p["desiredCount"],
            "loadBalancers": [dict(p["loadBalancer"])],
            "healthCheckGracePeriodSeconds": p["healthCheckGracePeriodSeconds"],
            "enableExecuteCommand": p["enableExecuteCommand"],
            "deploymentConfiguration": {
                "minimumHealthyPercent": dep["minimumHealthyPercent"],
                "maximumPercent": dep["maximumPercent"],
                "deploymentCircuitBreaker": dict(dep["circuitBreaker"]),
            },
        }
        if "subnets" in p:  # awsvpc; bridge tasks (EC2) take no network configuration
            args["networkConfiguration"] = {
                "awsvpcConfiguration": {
                    "subnets": list(p["subnets"]),
                    "securityGroups": list(p["securityGroups"]),
                    "assignPublicIp": p["assignPublicIp"],
                }
            }
        if p.get("platformVersion") is not None:  # Fargate only
            args["platformVersion"] = p["platformVersion"]
        sc = p.get("serviceConnect") or {"enabled": False}
        args["serviceConnectConfiguration"] = _service_connect_args(sc)
        return args

    def create(self, want: Desired) -> Observed:
        """Create the service (the client token makes a retried create a no-op)."""
        p = self.props_of(want)
        args = self._common(p)
        if not args["serviceConnectConfiguration"]["enabled"]:
            del args["serviceConnectConfiguration"]  # nothing to turn off on a new service
        token = hashlib.sha256(f"{want.owner}/{p['cluster']}/{p['name']}".encode()).hexdigest()[:32]
        self.log_call("creating", want, name=p["name"], cluster=p["cluster"])
        try:
            s = self.client.create_service(
                cluster=p["cluster"],
                serviceName=p["name"],
                launchType=p["launchType"],
                tags=ownership.to_list(want.tags, lower=True),
                propagateTags="SERVICE",
                clientToken=token,
                **args,
            )["service"]
        except ClientError as exc:
            if error_code(exc) == "InvalidParameterException" and "draining" in str(exc).lower():
                raise TemporaryError("previous service of that name is still draining", 15) from exc
            raise
        self.log_call("created", want, id=s["serviceArn"])
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateService with only the aspects that differ."""
        p = self.props_of(want)
        full = self._common(p)
        aspects = {
            "taskDefinition": ("taskDefinition",),
            "desiredCount": ("desiredCount",),
            "networkConfiguration": ("subnets", "securityGroups", "assignPublicIp"),
            "loadBalancers": ("loadBalancer",),
            "healthCheckGracePeriodSeconds": ("healthCheckGracePeriodSeconds",),
            "enableExecuteCommand": ("enableExecuteCommand",),
            "deploymentConfiguration": ("deployment",),
            "platformVersion": ("platformVersion",),
            "serviceConnectConfiguration": ("serviceConnect",),
        }
        args = {
            arg: full[arg]
            for arg, paths in aspects.items()
            if arg in full and changed(deltas, *paths)
        }
        if args:
            self.log_call("updating", want, id=have.id, aspects=sorted(args))
            self.client.update_service(cluster=p["cluster"], service=p["name"], **args)
        return self.reobserve(want)

    def delete(self, have: Observed) -> None:
        """Delete (force: no need to scale to zero first); NotFound is success."""
        self.log_call("deleting", have, id=have.id)
        with tolerating(
            "ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException"
        ):
            self.client.delete_service(
                cluster=have.props["cluster"], service=have.props["name"], force=True
            )
