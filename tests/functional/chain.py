"""Helpers for functional tests: load example specs, run the reconciler, read AWS back, keep an
applied chain across a module's tests (`keep`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from controller.aws import tags as ownership
from controller.aws.session import AwsContext, AwsSettings
from controller.reconcile.runner import Reconciler, Result
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService

EXAMPLES = Path(__file__).parents[2] / "examples"
OWNER = "shop/orders"


def orders(**changes: Any) -> dict[str, Any]:
    """examples/orders-rest-nlb.yaml as a dict, with dotted-path overrides."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "orders-rest-nlb.yaml").read_text())
    for path, value in changes.items():
        node = doc
        *head, last = path.split("__")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
    return doc


def spec(doc: dict[str, Any]) -> PrivateService:
    """A validated PrivateService from a dict."""
    loaded = parse_object(doc, "<test>")
    assert loaded.spec is not None, [str(p) for p in loaded.problems]
    return loaded.spec


def context(endpoint_url: str, region: str) -> AwsContext:
    """A counting AWS context on the sandbox."""
    return AwsContext(AwsSettings(region=region, endpoint_url=endpoint_url))


def apply(ps: PrivateService, aws: AwsContext, timeout: float = 60) -> Result:
    """Apply until converged, polling fast."""
    return Reconciler(ps, aws, max_requeue=0.2).apply(timeout)


def delete(ps: PrivateService, aws: AwsContext, timeout: float = 60) -> Result:
    """Delete until done, polling fast."""
    return Reconciler(ps, aws, max_requeue=0.2).delete(timeout)


def keep(
    kept: Any,
    key: str,
    make: Callable[[], PrivateService],
    prepare: Callable[[Any], object] | None = None,
) -> Iterator[Any]:
    """For a module's `kept_chain` fixture: the sandbox holding `make()` applied (after
    `prepare(access)`, e.g. a cluster of its own), kept by the worker's sandbox across tests
    (`kept` in tests/conftest.py). After a test that made a mutating call, a plan of `make()`
    decides: nothing to do (the test put the chain back, as drift tests do) keeps it for the
    next test; anything else (a delete, another spec applied) has the next test rebuild it, as
    does a test using the `spent` fixture (no plan asked)."""

    def build(access: Any) -> None:
        if prepare is not None:
            prepare(access)
        result = apply(make(), context(access.endpoint_url, access.region))
        assert result.converged, result.reason

    access = kept.hold(key, build)
    yield access
    if kept.spent:
        return
    if kept.changed():
        ctx = context(access.endpoint_url, access.region)
        if not Reconciler(make(), ctx, max_requeue=0.2).plan().converged:
            return
    kept.release(key)


def mutating_since(aws: AwsContext, before: Counter[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Mutating calls made since `before` (a snapshot of `aws.counter.mutating()`)."""
    return aws.counter.mutating() - before


def owned_everywhere(access: Any, owner: str = OWNER) -> dict[str, list[str]]:
    """Every resource in the sandbox carrying `owner`'s tag, by service (read directly)."""
    found: dict[str, list[str]] = {}
    ec2 = access.client("ec2")
    sgs = ec2.describe_security_groups(
        Filters=[{"Name": f"tag:{ownership.OWNER}", "Values": [owner]}]
    )["SecurityGroups"]
    found["ec2"] = [g["GroupId"] for g in sgs]
    elb = access.client("elbv2")
    arns = [lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]]
    arns += [tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]]
    found["elbv2"] = [
        d["ResourceArn"]
        for i in range(0, len(arns), 20)
        for d in elb.describe_tags(ResourceArns=arns[i : i + 20])["TagDescriptions"]
        if ownership.from_list(d["Tags"]).get(ownership.OWNER) == owner
    ]
    ecs = access.client("ecs")
    found["ecs"] = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        for arn in ecs.list_services(cluster=cluster)["serviceArns"]:
            svc = ecs.describe_services(cluster=cluster, services=[arn], include=["TAGS"])[
                "services"
            ][0]
            if (
                svc["status"] == "ACTIVE"
                and ownership.from_list(svc.get("tags")).get(ownership.OWNER) == owner
            ):
                found["ecs"].append(arn)
    apigw = access.client("apigateway")
    found["apigateway"] = [
        f"{kind}:{item['id']}"
        for kind, items in (
            ("restapi", apigw.get_rest_apis()["items"]),
            ("vpclink", apigw.get_vpc_links()["items"]),
            ("usageplan", apigw.get_usage_plans()["items"]),
            ("apikey", apigw.get_api_keys()["items"]),
        )
        for item in items
        if item.get("tags", {}).get(ownership.OWNER) == owner
    ]
    logs = access.client("logs")
    found["logs"] = [
        g["logGroupName"]
        for g in logs.describe_log_groups()["logGroups"]
        if logs.list_tags_for_resource(resourceArn=g["arn"].removesuffix(":*"))
        .get("tags", {})
        .get(ownership.OWNER)
        == owner
    ]
    iam = access.client("iam")
    found["iam"] = [
        r["RoleName"]
        for r in iam.list_roles()["Roles"]
        if ownership.from_list(iam.get_role(RoleName=r["RoleName"])["Role"].get("Tags")).get(
            ownership.OWNER
        )
        == owner
    ]
    return {k: v for k, v in found.items() if v}
