"""The network finding codes end to end on the sandbox: apply an example chain with psctl, break
one thing behind its back with plain boto3 (as a colleague at the console would), run
`psctl doctor -f ... -o json`, and see exactly that code among the network family, with the spec
change as the fix (the chains are ours).

Examples: orders (seed 000: REST -> VPC Link -> NLB -> Fargate), catalog (seed 001: NLB -> ALB ->
Fargate), billing (seed 004: NLB -> ECS on EC2, fixed host port)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller import cli
from controller.aws.session import AwsContext, AwsSettings
from controller.aws.tags import COMPONENT, OWNER
from controller.reconcile.runner import Reconciler
from controller.sandbox import examples
from controller.spec.loader import parse_object

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
ORDERS = EXAMPLES / "orders-rest-nlb.yaml"
CATALOG = EXAMPLES / "catalog-nlb-alb.yaml"
BILLING = EXAMPLES / "billing-ec2-fixed-ports.yaml"
NETWORK_CODES = {
    "health-check-blocked",
    "traffic-blocked",
    "privatelink-enforced",
    "nlb-sg-blocks-listener",
    "alb-blocks-nlb",
    "lb-egress-blocked",
    "host-port-blocked",
    "public-ip-on-tasks",
    "no-route-to-ecr",
    "nacl-blocks",
}


def _apply(aws: Any, path: Path) -> None:
    """Apply the example at `path` until converged (short requeues: the sandbox is quick)."""
    loaded = parse_object(yaml.safe_load(path.read_text()), str(path))
    assert loaded.spec is not None, [str(p) for p in loaded.problems]
    ctx = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    result = Reconciler(loaded.spec, ctx, max_requeue=0.2).apply(90)
    assert result.converged, result.reason


def _doctor(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]]]:
    """Exit status and every finding of `psctl doctor -f path -o json`."""
    capsys.readouterr()
    status = cli.main(["doctor", "-f", str(path), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    return status, [f for chain in doc["chains"] for f in chain["findings"]]


def _network(findings: list[dict[str, Any]]) -> list[str]:
    return sorted(f["code"] for f in findings if f["code"] in NETWORK_CODES)


def _group(aws: Any, owner: str, component: str) -> str:
    found = aws.client("ec2").describe_security_groups(
        Filters=[
            {"Name": f"tag:{OWNER}", "Values": [owner]},
            {"Name": f"tag:{COMPONENT}", "Values": [component]},
        ]
    )["SecurityGroups"]
    assert len(found) == 1, found
    return str(found[0]["GroupId"])


def _revoke_all(aws: Any, group_id: str, *, egress: bool = False, some: bool = True) -> None:
    """Revoke every ingress (or egress) rule of a group, by rule id (`some`: it has one)."""
    ec2 = aws.client("ec2")
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    ids = [
        r["SecurityGroupRuleId"]
        for r in rules["SecurityGroupRules"]
        if bool(r.get("IsEgress")) == egress
    ]
    assert ids or not some
    if not ids:
        return
    revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
    revoke(GroupId=group_id, SecurityGroupRuleIds=ids)


def _allow(aws: Any, group_id: str, port: int, *, cidr: str = "", group: str = "") -> None:
    source: dict[str, Any] = (
        {"IpRanges": [{"CidrIp": cidr}]} if cidr else {"UserIdGroupPairs": [{"GroupId": group}]}
    )
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **source}],
    )


def _nlb(aws: Any, name: str) -> dict[str, Any]:
    lbs = aws.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    return dict(lbs[0])


def _orders_service(aws: Any) -> dict[str, Any]:
    """The orders chain's ECS service (cluster `shop`), found by its owner tag."""
    ecs = aws.client("ecs")
    arns = ecs.list_services(cluster="shop")["serviceArns"]
    services = ecs.describe_services(cluster="shop", services=arns, include=["TAGS"])["services"]
    ours = [s for s in services if {"key": OWNER, "value": "shop/orders"} in s.get("tags", [])]
    assert len(ours) == 1, services
    return dict(ours[0])


# --------------------------------------------------------------------------- the breaks
def _close_task_group(aws: Any) -> None:
    _revoke_all(aws, _group(aws, "shop/orders", "task-sg"))


def _health_check_on_other_port(aws: Any) -> None:
    task_sg, nlb_sg = _group(aws, "shop/orders", "task-sg"), _group(aws, "shop/orders", "nlb-sg")
    elb = aws.client("elbv2")
    tg = elb.describe_target_groups(
        LoadBalancerArn=_nlb(aws, "ps-shop-orders-nlb")["LoadBalancerArn"]
    )
    elb.modify_target_group(
        TargetGroupArn=tg["TargetGroups"][0]["TargetGroupArn"], HealthCheckPort="8001"
    )
    _revoke_all(aws, task_sg)
    _allow(aws, task_sg, 8001, group=nlb_sg)


def _enforce_privatelink(aws: Any) -> None:
    nlb_sg = _group(aws, "shop/orders", "nlb-sg")
    aws.client("elbv2").set_security_groups(
        LoadBalancerArn=_nlb(aws, "ps-shop-orders-nlb")["LoadBalancerArn"],
        SecurityGroups=[nlb_sg],
        EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic="on",
    )
    _revoke_all(aws, nlb_sg)


def _narrow_nlb_group(aws: Any) -> None:
    nlb_sg = _group(aws, "shop/orders", "nlb-sg")
    _revoke_all(aws, nlb_sg)
    _allow(aws, nlb_sg, 80, cidr="10.0.1.0/24")


def _nlb_without_egress(aws: Any) -> None:
    _revoke_all(aws, _group(aws, "shop/orders", "nlb-sg"), egress=True)


def _public_ip(aws: Any) -> None:
    service = _orders_service(aws)
    cfg = service["networkConfiguration"]["awsvpcConfiguration"]
    aws.client("ecs").update_service(
        cluster="shop",
        service=service["serviceName"],
        networkConfiguration={"awsvpcConfiguration": {**cfg, "assignPublicIp": "ENABLED"}},
    )


def _no_nat_route(aws: Any) -> None:
    ec2 = aws.client("ec2")
    subnet = aws.network.private_subnet_ids[0]
    table = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["RouteTables"][0]
    assert any(r.get("NatGatewayId") for r in table["Routes"]), table["Routes"]
    ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")


def _empty_acl_on_private_subnets(aws: Any) -> None:
    ec2 = aws.client("ec2")
    acl = ec2.create_network_acl(VpcId=aws.network.vpc_id)["NetworkAcl"]["NetworkAclId"]
    private = set(aws.network.private_subnet_ids)
    for current in ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [aws.network.vpc_id]}]
    )["NetworkAcls"]:
        for assoc in current.get("Associations", []):
            if assoc.get("SubnetId") in private:
                ec2.replace_network_acl_association(
                    AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl
                )


CASES: list[Any] = [
    pytest.param(_close_task_group, "health-check-blocked", id="health-check-blocked"),
    pytest.param(_health_check_on_other_port, "traffic-blocked", id="traffic-blocked"),
    pytest.param(_enforce_privatelink, "privatelink-enforced", id="privatelink-enforced"),
    pytest.param(_narrow_nlb_group, "nlb-sg-blocks-listener", id="nlb-sg-blocks-listener"),
    pytest.param(_nlb_without_egress, "lb-egress-blocked", id="lb-egress-blocked"),
    pytest.param(_public_ip, "public-ip-on-tasks", id="public-ip-on-tasks"),
    pytest.param(_no_nat_route, "no-route-to-ecr", id="no-route-to-ecr"),
    pytest.param(_empty_acl_on_private_subnets, "nacl-blocks", id="nacl-blocks"),
]


def test_orders_chain_is_clean(orders_chain: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Before anything is broken, the applied orders chain has no network finding."""
    status, findings = _doctor(ORDERS, capsys)
    assert _network(findings) == []
    assert status == 0, findings


@pytest.mark.parametrize(("breaks", "code"), CASES)
def test_orders_chain_broken_shows_the_code(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], breaks: Callable[[Any], None], code: str
) -> None:
    """One break behind psctl's back on the orders chain (applied, kept by the worker's sandbox
    and put back after the test): exactly its code among the network family, with a fix for the
    owned chain that names a spec field or says none governs it."""
    breaks(orders_chain)
    status, findings = _doctor(ORDERS, capsys)
    assert _network(findings) == [code], findings
    found = next(f for f in findings if f["code"] == code)
    assert "spec." in found["fix"] or "no spec field" in found["fix"]
    assert status == (
        0
        if found["severity"] == "warning" and not any(f["severity"] == "error" for f in findings)
        else 1
    )


def test_alb_group_closed_to_the_nlb(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Seed 001: the ALB's group stops admitting its listener port from the NLB in front."""
    _apply(aws, CATALOG)
    alb_sg = _group(aws, "shop/catalog", "alb-sg")
    _revoke_all(aws, alb_sg)
    status, findings = _doctor(CATALOG, capsys)
    assert _network(findings) == ["alb-blocks-nlb"], findings
    assert next(f for f in findings if f["code"] == "alb-blocks-nlb")["resource"] == alb_sg
    assert status == 1


def test_instances_closed_to_the_host_port(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Seed 004: the container instances' group loses the rules admitting the host port."""
    examples.prepare(aws)
    _apply(aws, BILLING)
    ec2 = aws.client("ec2")
    instances = ec2.describe_instances()["Reservations"]
    groups = sorted(
        {g["GroupId"] for r in instances for i in r["Instances"] for g in i["SecurityGroups"]}
    )
    for group_id in groups:
        _revoke_all(aws, group_id, some=False)
    status, findings = _doctor(BILLING, capsys)
    assert _network(findings) == ["host-port-blocked"], findings
    assert status == 1


def _terraform_chain(aws: Any) -> tuple[str, str]:
    """NLB without security groups -> ip target group -> Fargate service whose task group admits
    nothing, built with plain boto3 (as Terraform would): (NLB name, task group id)."""
    net = aws.network
    ec2, elb, ecs = aws.client("ec2"), aws.client("elbv2"), aws.client("ecs")
    subnets = list(net.private_subnet_ids)
    task_sg = ec2.create_security_group(GroupName="tf-tasks", Description="t", VpcId=net.vpc_id)
    lb = elb.create_load_balancer(Name="tf-nlb", Subnets=subnets, Scheme="internal", Type="network")
    tg = elb.create_target_group(
        Name="tf-tg", Protocol="TCP", Port=8080, VpcId=net.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="TCP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    ecs.create_cluster(clusterName="tf")
    td = ecs.register_task_definition(
        family="tf",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "portMappings": [{"containerPort": 8080}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="tf",
        serviceName="tf",
        taskDefinition=td,
        desiredCount=1,
        launchType="FARGATE",
        loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 8080}],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [task_sg["GroupId"]],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    return "tf-nlb", str(task_sg["GroupId"])


def test_chain_built_without_psctl_gets_the_cli_fix(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """An NLB without security groups in front of a task group admitting nothing, found from
    `--load-balancer`: the health checks come from the NLB's subnets, and the fix is the AWS CLI
    command opening the container port to those subnets on that group."""
    nlb, task_sg = _terraform_chain(aws)
    capsys.readouterr()
    status = cli.main(["doctor", "--load-balancer", nlb, "-o", "json"])
    findings = [f for c in json.loads(capsys.readouterr().out)["chains"] for f in c["findings"]]
    assert _network(findings) == ["health-check-blocked"], findings
    found = next(f for f in findings if f["code"] == "health-check-blocked")
    assert found["resource"] == task_sg
    cidrs = {
        s["CidrBlock"]
        for s in aws.client("ec2").describe_subnets(SubnetIds=list(aws.network.private_subnet_ids))[
            "Subnets"
        ]
    }
    prefix = (
        f"aws ec2 authorize-security-group-ingress --group-id {task_sg} --region {aws.region} "
        "--ip-permissions 'IpProtocol=tcp,FromPort=8080,ToPort=8080,IpRanges=["
    )
    assert found["fix"].startswith(prefix), found["fix"]
    ranges = found["fix"][len(prefix) :].removesuffix("]'").split(",")
    assert {r.removeprefix("{CidrIp=").removesuffix("}") for r in ranges} == cidrs
    assert status == 1
