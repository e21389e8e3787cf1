"""Helpers of the doctor's functional tests for a chain kept across tests (`kept` in
tests/conftest.py): apply a spec, wait for healthy targets, and repair the seeded network.
Neighbours: conftest.py here (the fixtures), the test modules.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from controller.aws.session import AwsContext, AwsSettings
from controller.reconcile.runner import Reconciler
from controller.spec.loader import parse_object

ORDERS = Path(__file__).resolve().parents[3] / "examples" / "orders-rest-nlb.yaml"
ORDERS_KEY = "doctor: examples/orders-rest-nlb.yaml applied, 2 healthy targets"


def apply_doc(access: Any, doc: dict[str, Any], timeout: float = 90) -> None:
    """Apply the spec `doc` until converged on the sandbox (short requeues)."""
    loaded = parse_object(doc, "<test>")
    assert loaded.spec is not None, [str(p) for p in loaded.problems]
    ctx = AwsContext(AwsSettings(region=access.region, endpoint_url=access.endpoint_url))
    result = Reconciler(loaded.spec, ctx, max_requeue=0.2).apply(timeout)
    assert result.converged, result.reason


def wait_healthy(access: Any, cluster: str, service: str, timeout: float = 90) -> None:
    """Poll until the service's target group has `desiredCount` healthy targets and nothing
    else (the sandbox's ECS agent registers tasks every 0.5 s; the limit is generous)."""
    ecs, elb = access.client("ecs"), access.client("elbv2")
    deadline = time.monotonic() + timeout
    while True:
        (svc,) = ecs.describe_services(cluster=cluster, services=[service])["services"]
        health = elb.describe_target_health(
            TargetGroupArn=svc["loadBalancers"][0]["targetGroupArn"]
        )
        states = [d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]]
        if states == ["healthy"] * svc["desiredCount"]:
            return
        assert time.monotonic() < deadline, (svc["desiredCount"], health)
        time.sleep(0.2)


def repair_network(access: Any) -> None:
    """Put back what tests break in the seeded network: the private route table's default
    route to the NAT gateway, and the default network ACL on every subnet (others deleted)."""
    net, ec2 = access.network, access.client("ec2")
    (table,) = ec2.describe_route_tables(RouteTableIds=[net.private_route_table_id])["RouteTables"]
    if not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in table["Routes"]):
        ec2.create_route(
            RouteTableId=net.private_route_table_id,
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=net.nat_gateway_id,
        )
    acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [net.vpc_id]}])
    (default,) = [a["NetworkAclId"] for a in acls["NetworkAcls"] if a["IsDefault"]]
    for acl in acls["NetworkAcls"]:
        if acl["IsDefault"]:
            continue
        for assoc in acl.get("Associations", []):
            ec2.replace_network_acl_association(
                AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=default
            )
        ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])


def build_orders(access: Any) -> None:
    apply_doc(access, yaml.safe_load(ORDERS.read_text()))
    wait_healthy(access, "shop", "ps-shop-orders")
