"""Discovery of the other chain shapes, applied by psctl on the sandbox and found from every
starting point: an HTTP API (integration -> VPC link v2, listener ARN -> NLB), an NLB in front of
an ALB (field report 001: up from the ALB to the NLB, down through the `alb` target group), ECS on
EC2 (container instances and their EC2 instances)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from controller.aws.session import AwsContext, AwsSettings
from controller.doctor.discover import Discovery
from controller.doctor.facts import Facts
from controller.reconcile.runner import Reconciler
from controller.sandbox.examples import authorizer_function, ec2_cluster
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _spec(name: str, **changes: Any) -> PrivateService:
    doc: dict[str, Any] = copy.deepcopy(yaml.safe_load((EXAMPLES / name).read_text()))
    for key, value in changes.items():
        doc["spec"][key] = value
    loaded = parse_object(doc, name)
    assert loaded.spec is not None, [str(p) for p in loaded.problems]
    return loaded.spec


def _context(aws: Any) -> AwsContext:
    return AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))


def _applied(aws: Any, ps: PrivateService) -> dict[str, dict[str, Any]]:
    ctx = _context(aws)
    result = Reconciler(ps, ctx, max_requeue=0.2).apply(120)
    assert result.converged, result.reason
    return Reconciler(ps, ctx).plan().outputs


def _kinds(facts: Facts) -> list[str]:
    return list(dict.fromkeys(h.hop for h in facts.hops))


def test_an_http_api_chain_from_its_api_and_from_its_spec(aws: Any) -> None:
    """--http-api and -f: API, stage, VPC link v2, NLB (from the integration's listener ARN)
    down to the tasks; the link's own security group is read with the VPC's groups."""
    ps = _spec("orders-rest-nlb.yaml", api={"type": "HTTP", "stageName": "prod"})
    out = _applied(aws, ps)
    api_id = out["http-api"]["id"]
    for facts in (Discovery(_context(aws)).http_api(api_id), Discovery(_context(aws)).spec(ps)):
        assert _kinds(facts) == [
            "api",
            "stage",
            "vpc-link",
            "nlb",
            "nlb-listener",
            "nlb-target-group",
            "service",
            "tasks",
            "network",
        ]
        (link,) = facts.vpc_links_v2.values()
        assert set(link["SecurityGroupIds"]) <= set(facts.security_groups)
        (integration,) = facts.integrations[api_id]
        assert integration["IntegrationUri"] in {
            listener["ListenerArn"] for ls in facts.listeners.values() for listener in ls
        }
        assert facts.routes[api_id]
        assert facts.unknown == []
    owned = Discovery(_context(aws)).spec(ps)
    assert owned.owned
    assert owned.owned_resources["http-api"] == api_id
    assert owned.owned_resources["nlb"] == out["nlb"]["arn"]
    assert owned.owned_resources["listener"] == out["listener"]["arn"]


def test_an_alb_behind_an_nlb_is_found_from_either_end(aws: Any) -> None:
    """The catalog chain (field report 001): from the ALB up to the NLB whose `alb` target group
    registers it, and from the service up to the API; every hop of both load balancers, rules
    read."""
    ps = _spec("catalog-nlb-alb.yaml")
    out = _applied(aws, ps)
    expected = [
        "vpc-link",
        "nlb",
        "nlb-listener",
        "nlb-target-group",
        "alb",
        "alb-listener",
        "alb-target-group",
        "service",
        "tasks",
        "network",
    ]
    service = out["ecs-service"]["arn"].split(":service/")[1]
    for facts, upstream in (
        (Discovery(_context(aws)).load_balancer(out["alb"]["arn"]), []),
        (Discovery(_context(aws)).ecs_service(service), ["api", "stage"]),
    ):
        assert _kinds(facts) == [*upstream, *expected]
        assert facts.rules
        types = sorted(tg["TargetType"] for tg in facts.target_groups.values())
        assert types == ["alb", "ip"]
    spec_facts = Discovery(_context(aws)).spec(ps)
    assert _kinds(spec_facts) == ["api", "stage", *expected]


def test_ecs_on_ec2_reads_the_container_instances(aws: Any) -> None:
    """The billing chain (field report 004): the cluster's container instances and their EC2
    instances (groups, subnet), and the custom domain mapped to the API."""
    ec2_cluster(aws)
    ps = _spec("billing-ec2-fixed-ports.yaml")
    _applied(aws, ps)
    facts = Discovery(_context(aws)).spec(ps)
    assert _kinds(facts)[0] == "domain"
    (instances,) = facts.container_instances.values()
    assert len(instances) == 2
    assert {i["ec2InstanceId"] for i in instances} == set(facts.instances)
    assert all(i["SecurityGroups"] for i in facts.instances.values())
    (mappings,) = facts.base_path_mappings.values()
    assert mappings


def test_a_private_api_with_an_authorizer_reads_the_function_and_the_endpoint(aws: Any) -> None:
    """The ledger chain (field report 002): the authorizer hop with its Lambda configuration and
    resource policy, and the execute-api endpoint as the `vpc-endpoint` hop."""
    authorizer_function(aws)
    ps = _spec("ledger-private-api.yaml")
    _applied(aws, ps)
    facts = Discovery(_context(aws)).spec(ps)
    assert _kinds(facts)[:5] == ["api", "stage", "authorizer", "vpc-endpoint", "vpc-link"]
    (arn,) = facts.functions
    assert facts.functions[arn] is not None
    assert facts.functions[arn]["Runtime"]
    policy = facts.function_policies[arn]
    assert policy is not None
    assert policy["Statement"]
    (endpoint,) = [h.resource for h in facts.hops if h.hop == "vpc-endpoint"]
    assert any(e["VpcEndpointId"] == endpoint for e in facts.vpc_endpoints)


def test_an_internet_facing_nlb_reads_its_elastic_ips(aws: Any) -> None:
    """The storefront chain (field report 003): one Elastic IP per subnet of the NLB, read with
    DescribeAddresses because the NLB names their allocations."""
    ps = _spec("storefront-public-nlb.yaml")
    out = _applied(aws, ps)
    facts = Discovery(_context(aws)).load_balancer(out["nlb"]["arn"])
    named = {
        a["AllocationId"]
        for az in facts.load_balancers[out["nlb"]["arn"]]["AvailabilityZones"]
        for a in az.get("LoadBalancerAddresses", [])
    }
    assert len(named) == 3
    assert {a["AllocationId"] for a in facts.addresses} == named
