"""The stack's shape for a listener port change without a broken path (issue 14): the NLB's
listener adds a new port beside the old one, the REST integration waits for the listener, the
old listener goes (`old-listeners`) only after the API's stage, and the groups that carry the
listener port keep it while our old listener still listens on it."""

from __future__ import annotations

import pytest

from controller.model.build import build_stack
from controller.model.network import Network
from controller.model.stack import Ref
from controller.spec.loader import load_text
from controller.spec.models import PrivateService

NET = Network(vpc_id="vpc-1", cidr="10.0.0.0/16", subnet_ids=("subnet-b", "subnet-a"))
BASE = """
apiVersion: privateservice.io/v1alpha1
kind: PrivateService
metadata: {name: orders, namespace: shop}
spec:
  network: {vpcId: vpc-0abc, subnetIds: [subnet-0a]}
  container: {image: nginx, port: 8000}
  service: {cluster: shop}
  loadBalancer: {listener: {port: 8080}}
"""
REST = "  api: {type: REST, stageName: prod}\n"
HTTP = "  api: {type: HTTP, stageName: prod}\n"


def _spec(text: str) -> PrivateService:
    (doc,) = load_text(text)
    assert doc.spec is not None, [str(p) for p in doc.problems]
    return doc.spec


@pytest.mark.parametrize(
    ("api", "stage"),
    [(REST, "stage"), (HTTP, "http-stage"), ("", None)],
    ids=["rest", "http", "none"],
)
def test_old_listeners_come_after_the_listener_and_the_api_stage(
    api: str, stage: str | None
) -> None:
    """`old-listeners` keeps the spec's port, wants no other, and waits for the listener and,
    with an API, its stage (the deployment on the new port); without an API, the listener only."""
    stack = build_stack(_spec(BASE + api), NET)
    old = stack.resources["old-listeners"]
    assert old.kind == "elbv2.old_listeners"
    assert old.props["port"] == 8080
    assert old.props["oldPorts"] == []
    assert old.props["drainSeconds"] == 30  # the target group's deregistration delay
    assert old.props["loadBalancerArn"] == Ref("nlb", "arn")
    assert old.deps == {"nlb", "listener"} | ({stage} if stage else set())
    levels = [set(level_keys) for level_keys in ([r.key for r in lv] for lv in stack.levels())]
    index = {key: i for i, keys in enumerate(levels) for key in keys}
    assert index["old-listeners"] > index["listener"]
    if stage:
        assert index["old-listeners"] > index[stage]


def test_the_nlb_listener_adds_a_new_port_beside_and_the_rest_proxy_waits_for_it() -> None:
    """The NLB listener's port change is create-before-delete; the REST proxy (whose URI holds
    the port) depends on the listener, so the integration moves only once the new one exists."""
    stack = build_stack(_spec(BASE + REST), NET)
    assert stack.resources["listener"].props["newPortBeside"] is True
    assert "listener" in stack.resources["proxy"].deps


def test_groups_carrying_the_listener_port_keep_it_while_our_listener_listens() -> None:
    """The NLB's group (ingress from the VPC) and, for an HTTP API, the VPC link's group (egress
    to the listener port) name the NLB whose listeners keep their old port's rule."""
    rest = build_stack(_spec(BASE + REST), NET)
    assert rest.resources["nlb-sg"].props["keepPortsListenedBy"] == "ps-shop-orders-nlb"
    http = build_stack(_spec(BASE + HTTP), NET)
    assert http.resources["vpc-link-sg"].props["keepPortsListenedBy"] == "ps-shop-orders-nlb"
