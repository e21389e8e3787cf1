"""The network checks on hand-written boto3 shapes: for each code, a chain where it is found
(exactly that code among the network family), the healthy chain (nothing), the same break with
the read that would show it denied (`unknown`: nothing), and with the facts absent (nothing).
The base chain is `network_shapes.healthy()` (seed 000's shape, done right)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from network_shapes import (
    ALB_ARN,
    NLB_ARN,
    PRIVATE,
    PUBLIC,
    SERVICE_ARN,
    TASKDEF_ARN,
    TG_ARN,
    acl_entry,
    add_endpoints,
    group,
    healthy,
    tcp,
    without_nat,
)

from controller.doctor.checks import network, run_checks
from controller.doctor.facts import Facts
from controller.doctor.model import Unknown

Break = Callable[[Facts], None]


def codes(facts: Facts) -> list[str]:
    """The codes the network family finds."""
    return sorted(f.code for f in run_checks(facts, network.CHECKS))


def _task_ingress(*rules: dict[str, object]) -> Break:
    def apply(facts: Facts) -> None:
        facts.security_groups["sg-task"]["IpPermissions"] = list(rules)

    return apply


def _nlb_ingress(*rules: dict[str, object]) -> Break:
    def apply(facts: Facts) -> None:
        facts.security_groups["sg-nlb"]["IpPermissions"] = list(rules)

    return apply


def _nlb_without_groups(facts: Facts) -> None:
    facts.load_balancers[NLB_ARN]["SecurityGroups"] = []


def _preserve(facts: Facts) -> None:
    facts.tg_attributes[TG_ARN]["preserve_client_ip.enabled"] = "true"


def _no_vpc_link(facts: Facts) -> None:
    facts.vpc_links.clear()


def _both(*steps: Break) -> Break:
    def apply(facts: Facts) -> None:
        for step in steps:
            step(facts)

    return apply


def _enforce(facts: Facts) -> None:
    del facts.load_balancers[NLB_ARN]["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"]


def _hc_port(port: str) -> Break:
    def apply(facts: Facts) -> None:
        facts.target_groups[TG_ARN]["HealthCheckPort"] = port

    return apply


def _nlb_no_egress(facts: Facts) -> None:
    facts.security_groups["sg-nlb"]["IpPermissionsEgress"] = []


def _public_ip(facts: Facts) -> None:
    cfg = facts.services[SERVICE_ARN]["networkConfiguration"]["awsvpcConfiguration"]
    cfg["assignPublicIp"] = "ENABLED"


def _public_subnet(facts: Facts) -> None:
    cfg = facts.services[SERVICE_ARN]["networkConfiguration"]["awsvpcConfiguration"]
    cfg["subnets"] = [PUBLIC]


def _alb_tier(facts: Facts) -> None:
    """NLB -> alb target group -> ALB (sg-alb admits 80 from nothing) -> ip target group."""
    alb_tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders-alb/9"
    facts.target_groups[alb_tg] = {
        "TargetGroupArn": alb_tg,
        "TargetType": "alb",
        "Protocol": "TCP",
        "Port": 80,
        "HealthCheckPort": "traffic-port",
        "LoadBalancerArns": [NLB_ARN],
    }
    facts.target_health[alb_tg] = [{"Target": {"Id": ALB_ARN, "Port": 80}}]
    facts.load_balancers[ALB_ARN] = {
        "LoadBalancerArn": ALB_ARN,
        "LoadBalancerName": "orders-alb",
        "Type": "application",
        "Scheme": "internal",
        "VpcId": "vpc-1",
        "SecurityGroups": ["sg-alb"],
        "AvailabilityZones": [{"SubnetId": s} for s in PRIVATE],
    }
    facts.security_groups["sg-alb"] = group("sg-alb", [tcp(80, cidr="192.168.0.0/16")])
    facts.target_groups[TG_ARN]["LoadBalancerArns"] = [ALB_ARN]
    facts.security_groups["sg-task"]["IpPermissions"] = [tcp(8000, group="sg-alb")]


def _ec2_fixed_port(facts: Facts) -> None:
    """Seed 004: an instance target group on host port 10000; the instances' group admits none."""
    tg = facts.target_groups[TG_ARN]
    tg.update({"TargetType": "instance", "Port": 10000})
    facts.target_health[TG_ARN] = [{"Target": {"Id": "i-1", "Port": 10000}}]
    facts.instances["i-1"] = {
        "InstanceId": "i-1",
        "SubnetId": "subnet-a",
        "PrivateIpAddress": "10.0.1.50",
        "SecurityGroups": [{"GroupId": "sg-inst"}],
    }
    facts.security_groups["sg-inst"] = group("sg-inst", [tcp(22, cidr="10.0.0.0/16")])
    service = facts.services[SERVICE_ARN]
    service["launchType"] = "EC2"
    del service["networkConfiguration"]


def _endpoints_only(*suffixes: str, dns: bool = True) -> Break:
    def apply(facts: Facts) -> None:
        without_nat(facts)
        add_endpoints(facts, *suffixes, dns=dns)

    return apply


def _vpce_closed(facts: Facts) -> None:
    facts.security_groups["sg-vpce"]["IpPermissions"] = [tcp(443, cidr="10.9.0.0/16")]


def _secrets_and_exec(facts: Facts) -> None:
    container = facts.task_definitions[TASKDEF_ARN]["containerDefinitions"][0]
    container["secrets"] = [
        {"name": "DB", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:db"}
    ]
    facts.services[SERVICE_ARN]["enableExecuteCommand"] = True


def _public_image(facts: Facts) -> None:
    container = facts.task_definitions[TASKDEF_ARN]["containerDefinitions"][0]
    container["image"] = "public.ecr.aws/nginx/nginx:1.27"


def _other_region_ecr(facts: Facts) -> None:
    without_nat(facts)
    add_endpoints(facts, "ecr.api", "ecr.dkr", "logs")
    container = facts.task_definitions[TASKDEF_ARN]["containerDefinitions"][0]
    container["image"] = "123456789012.dkr.ecr.us-west-2.amazonaws.com/orders:1"


def _main_table_only(facts: Facts) -> None:
    facts.route_tables[1]["Associations"] = []


def _transit_default(facts: Facts) -> None:
    without_nat(facts)
    facts.route_tables[1]["Routes"].append(
        {"DestinationCidrBlock": "0.0.0.0/0", "TransitGatewayId": "tgw-1", "State": "active"}
    )


def _acl(*entries: dict[str, object]) -> Break:
    """The private subnets get their own ACL with `entries` (plus the * rules)."""

    def apply(facts: Facts) -> None:
        default = facts.network_acls[0]
        default["Associations"] = [{"SubnetId": PUBLIC}]
        facts.network_acls.append(
            {
                "NetworkAclId": "acl-private",
                "VpcId": "vpc-1",
                "Associations": [{"SubnetId": s} for s in PRIVATE],
                "Entries": [
                    *entries,
                    acl_entry(32767, "deny", egress=False),
                    acl_entry(32767, "deny", egress=True),
                ],
            }
        )

    return apply


_VPC = "10.0.0.0/16"
_FULL_ACL = (
    acl_entry(100, "allow", egress=False, cidr=_VPC, ports=(80, 80)),
    acl_entry(110, "allow", egress=False, cidr=_VPC, ports=(8000, 8000)),
    acl_entry(120, "allow", egress=False, cidr=_VPC, ports=(1024, 65535)),
    acl_entry(100, "allow", egress=True, cidr=_VPC, ports=(8000, 8000)),
    acl_entry(110, "allow", egress=True, cidr=_VPC, ports=(1024, 65535)),
    acl_entry(120, "allow", egress=True, ports=(443, 443)),
)

FOUND = [
    pytest.param(
        _task_ingress(tcp(22, cidr=_VPC)), ["health-check-blocked"], id="task-group-admits-nothing"
    ),
    pytest.param(
        _both(_nlb_without_groups, _task_ingress(tcp(8000, group="sg-nlb"))),
        ["health-check-blocked"],
        id="nlb-without-groups-so-a-reference-to-its-old-group-admits-nothing",
    ),
    pytest.param(
        _both(_hc_port("8081"), _task_ingress(tcp(8081, group="sg-nlb"))),
        ["traffic-blocked"],
        id="health-check-port-open-traffic-port-closed",
    ),
    pytest.param(
        _both(
            _nlb_without_groups,
            _preserve,
            _no_vpc_link,
            _task_ingress(tcp(8000, cidr="10.0.1.0/24"), tcp(8000, cidr="10.0.2.0/24")),
        ),
        ["traffic-blocked"],
        id="seed-001-nlb-subnets-only-but-client-addresses-preserved",
    ),
    pytest.param(
        _both(_enforce, _nlb_ingress(tcp(80, cidr="192.168.0.0/16"))),
        ["privatelink-enforced"],
        id="enforcement-on-by-default-and-group-closed-to-the-vpc",
    ),
    pytest.param(
        _nlb_ingress(tcp(80, cidr="10.0.1.0/24")),
        ["nlb-sg-blocks-listener"],
        id="seed-000-trap-2-nlb-group-narrower-than-the-vpc",
    ),
    pytest.param(_alb_tier, ["alb-blocks-nlb"], id="alb-group-closed-to-the-nlb"),
    pytest.param(_nlb_no_egress, ["lb-egress-blocked"], id="nlb-group-without-egress"),
    pytest.param(_ec2_fixed_port, ["host-port-blocked"], id="seed-004-instances-without-host-port"),
    pytest.param(
        _both(
            _ec2_fixed_port,
            lambda f: f.security_groups["sg-inst"]["IpPermissions"].append(
                tcp(10000, group="sg-nlb")
            ),
            _nlb_no_egress,
        ),
        ["lb-egress-blocked"],
        id="nlb-group-without-egress-to-container-instances",
    ),
    pytest.param(_public_ip, ["public-ip-on-tasks"], id="assign-public-ip-enabled"),
    pytest.param(
        _public_subnet,
        ["no-route-to-ecr", "public-ip-on-tasks"],
        id="public-subnet-without-public-ip-cannot-pull-either",
    ),
    pytest.param(without_nat, ["no-route-to-ecr"], id="no-nat-no-endpoints"),
    pytest.param(_endpoints_only("ecr.api", "ecr.dkr"), ["no-route-to-ecr"], id="no-logs-endpoint"),
    pytest.param(
        _endpoints_only("ecr.api", "ecr.dkr", "logs", dns=False),
        ["no-route-to-ecr"],
        id="endpoints-without-private-dns",
    ),
    pytest.param(
        _both(_endpoints_only("ecr.api", "ecr.dkr", "logs"), _vpce_closed),
        ["no-route-to-ecr"],
        id="endpoint-group-closed-to-the-tasks",
    ),
    pytest.param(
        _both(_endpoints_only("ecr.api", "ecr.dkr", "logs"), _secrets_and_exec),
        ["no-route-to-ecr"],
        id="secrets-and-exec-without-their-endpoints",
    ),
    pytest.param(
        _both(_endpoints_only("ecr.api", "ecr.dkr", "logs"), _public_image),
        ["no-route-to-ecr"],
        id="public-registry-image-without-nat",
    ),
    pytest.param(_main_table_only, ["no-route-to-ecr"], id="falls-back-to-main-table-without-nat"),
    pytest.param(
        _other_region_ecr, ["no-route-to-ecr"], id="another-regions-ecr-is-not-served-by-endpoints"
    ),
    pytest.param(
        _both(lambda f: add_endpoints(f, "ecr.dkr"), _vpce_closed),
        ["no-route-to-ecr"],
        id="nat-route-but-private-dns-endpoint-closed",
    ),
    pytest.param(
        _acl(*(e for e in _FULL_ACL if not (e["Egress"] and e["PortRange"]["From"] == 1024))),
        ["nacl-blocks"],
        id="acl-without-outbound-ephemeral",
    ),
    pytest.param(
        _acl(
            acl_entry(50, "deny", egress=False, cidr="10.0.2.0/24", ports=(8000, 8000)), *_FULL_ACL
        ),
        ["nacl-blocks"],
        id="acl-deny-before-allow",
    ),
]

HEALTHY = [
    pytest.param(lambda f: None, id="healthy-chain"),
    pytest.param(
        _task_ingress(tcp(8000, cidr=_VPC)), id="vpc-cidr-rule-covers-the-nlb-nodes-subnets"
    ),
    pytest.param(
        _both(
            _nlb_without_groups,
            _task_ingress(tcp(8000, cidr="10.0.1.0/24"), tcp(8000, cidr="10.0.2.0/24")),
        ),
        id="nlb-without-groups-subnet-cidrs-admitted-no-preservation",
    ),
    pytest.param(
        _both(_preserve, _task_ingress(tcp(8000, group="sg-nlb"))),
        id="preservation-on-but-nlb-group-referenced",
    ),
    pytest.param(
        _both(
            _preserve, _task_ingress(tcp(8000, cidr="10.0.1.0/24"), tcp(8000, cidr="10.0.2.0/24"))
        ),
        id="preservation-on-behind-vpc-link-sees-the-nlb",
    ),
    pytest.param(_enforce, id="enforcement-on-group-admits-the-vpc"),
    pytest.param(_endpoints_only("ecr.api", "ecr.dkr", "logs"), id="endpoints-instead-of-nat"),
    pytest.param(_transit_default, id="transit-gateway-egress-is-not-judged"),
    pytest.param(_acl(*_FULL_ACL), id="custom-acl-admitting-every-flow"),
    pytest.param(
        _task_ingress(
            {
                "IpProtocol": "tcp",
                "FromPort": 8000,
                "ToPort": 8000,
                "PrefixListIds": [{"PrefixListId": "pl-1"}],
            }
        ),
        id="prefix-list-rule-is-unknown-not-blocked",
    ),
]


@pytest.mark.parametrize(("breaks", "expected"), FOUND)
def test_finds_exactly_the_code(breaks: Break, expected: list[str]) -> None:
    """A chain broken in one way shows exactly that code among the network checks."""
    facts = healthy()
    breaks(facts)
    assert codes(facts) == expected


@pytest.mark.parametrize("change", HEALTHY)
def test_healthy_chain_has_no_finding(change: Break) -> None:
    """A chain whose network admits every flow (by whichever rule AWS accepts) is clean."""
    facts = healthy()
    change(facts)
    assert codes(facts) == []


_DENIED_CALL = {
    "privatelink-enforced": "elasticloadbalancing:DescribeListeners",
    "no-route-to-ecr": "ec2:DescribeVpcEndpoints",
    "public-ip-on-tasks": "ec2:DescribeRouteTables",
    "nacl-blocks": "ec2:DescribeNetworkAcls",
    "host-port-blocked": "ec2:DescribeInstances",
}


@pytest.mark.parametrize(("breaks", "expected"), FOUND)
def test_unknown_read_reports_nothing(breaks: Break, expected: list[str]) -> None:
    """When the read a check needs was denied, the check stays silent (the hop is unknown)."""
    facts = healthy()
    breaks(facts)
    for code in expected:
        call = _DENIED_CALL.get(code, "ec2:DescribeSecurityGroups")
        facts.unknown.append(Unknown("network", "", call, call))
    assert codes(facts) == []


@pytest.mark.parametrize(
    ("breaks", "expected"), [p for p in FOUND if p.id != "assign-public-ip-enabled"]
)
def test_absent_facts_report_nothing(breaks: Break, expected: list[str]) -> None:
    """Without the groups, subnets, tables and ACLs, no check guesses (`assignPublicIp` is read
    from the service alone, so that case is not among these)."""
    facts = healthy()
    breaks(facts)
    facts.security_groups.clear()
    facts.subnets.clear()
    facts.route_tables.clear()
    facts.network_acls.clear()
    facts.instances.clear()
    assert codes(facts) == []


def test_preservation_unknown_keeps_traffic_check_silent() -> None:
    """Whether the NLB preserves client addresses decides where requests come from: when the
    target group's attributes could not be read, traffic-blocked says nothing."""
    facts = healthy()
    _both(
        _nlb_without_groups,
        _preserve,
        _no_vpc_link,
        _task_ingress(tcp(8000, cidr="10.0.1.0/24"), tcp(8000, cidr="10.0.2.0/24")),
    )(facts)
    assert codes(facts) == ["traffic-blocked"]
    facts.unknown.append(
        Unknown(
            "nlb-target-group",
            TG_ARN,
            "elbv2:DescribeTargetGroupAttributes",
            "elasticloadbalancing:DescribeTargetGroupAttributes",
        )
    )
    assert codes(facts) == []


def test_why_names_the_symptom_the_caller_sees() -> None:
    """Behind API Gateway a blocked health check shows as a 500; without an API, as hanging
    connections."""
    facts = healthy()
    _task_ingress()(facts)
    [plain] = run_checks(facts, network.CHECKS)
    assert "hang" in plain.why
    facts.rest_apis["a1"] = {"id": "a1"}
    [behind_api] = run_checks(facts, network.CHECKS)
    assert "API Gateway answers 500" in behind_api.why
