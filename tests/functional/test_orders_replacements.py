"""Changes that replace or move resources (issue 14). A container port change is a rolling move
inside the same target group, and the path never breaks on the way: sampled every 0.2 s during
the apply, the listener always forwards to a target group holding registered targets whose port
the task security group admits. Owned load balancers and target groups left behind are swept.
A replacement that would cut clients off is marked in plan and refused by apply without
--allow-replace."""

from __future__ import annotations

import json
import threading
from typing import Any

import yaml
from chain import apply, orders, spec

from controller import cli
from controller.aws.session import AwsContext

TASK_GROUP = "ps-shop-orders-task"


def _ingress_ports(ec2: Any) -> set[int]:
    (group,) = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [TASK_GROUP]}]
    )["SecurityGroups"]
    return {
        port
        for perm in group["IpPermissions"]
        if perm.get("IpProtocol") == "tcp"
        for port in range(perm["FromPort"], perm["ToPort"] + 1)
    }


def _sample(elb: Any, ec2: Any) -> str | None:
    """None when a request could get through, else what is broken."""
    (nlb,) = elb.describe_load_balancers(Names=["ps-shop-orders-nlb"])["LoadBalancers"]
    (listener,) = elb.describe_listeners(LoadBalancerArn=nlb["LoadBalancerArn"])["Listeners"]
    tg = listener["DefaultActions"][0]["TargetGroupArn"]
    targets = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    ports = {t["Target"]["Port"] for t in targets if t["TargetHealth"]["State"] == "healthy"}
    if not ports:
        return f"no healthy target in {tg}"
    admitted = _ingress_ports(ec2)
    if not ports & admitted:
        return f"targets on {sorted(ports)}, task group admits {sorted(admitted)}"
    return None


def test_a_container_port_change_keeps_the_path_open_and_the_target_group(
    applied: AwsContext, aws: Any
) -> None:
    """8000 -> 9000: the task group admits 9000 before the service moves and keeps 8000 while
    targets still serve on it; the target group is the same one (no replacement); no sample
    during the apply finds the path broken; at the end only 9000 is open and served."""
    elb, ec2 = aws.client("elbv2"), aws.client("ec2")
    (before,) = elb.describe_target_groups(Names=["ps-shop-orders-tg"])["TargetGroups"]
    assert _sample(elb, ec2) is None
    broken: list[str] = []
    samples = [0]
    done = threading.Event()

    def sampler() -> None:
        while not done.is_set():
            problem = _sample(elb, ec2)
            samples[0] += 1
            if problem is not None:
                broken.append(problem)
            done.wait(0.2)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        result = apply(spec(orders(spec__container__port=9000)), applied, timeout=120)
    finally:
        done.set()
        thread.join(10)
    assert result.converged, result.reason
    assert samples[0] >= 3
    assert broken == []
    (after,) = elb.describe_target_groups(Names=["ps-shop-orders-tg"])["TargetGroups"]
    assert after["TargetGroupArn"] == before["TargetGroupArn"]
    targets = elb.describe_target_health(TargetGroupArn=after["TargetGroupArn"])
    assert {t["Target"]["Port"] for t in targets["TargetHealthDescriptions"]} == {9000}
    assert _ingress_ports(ec2) == {9000}


def _leftover(elb: Any, aws: Any, name: str, owner: str) -> tuple[str, str]:
    """A load balancer and a target group named `name`-nlb / `name`-tg, tagged as `owner`'s
    NLB and target group (what a spec renamed since, or an older naming, left behind)."""
    tags = [{"Key": "privateservice.io/owner", "Value": owner}]
    lb = elb.create_load_balancer(
        Name=f"{name}-nlb",
        Type="network",
        Scheme="internal",
        Subnets=list(aws.network.private_subnet_ids),
        Tags=[*tags, {"Key": "privateservice.io/component", "Value": "nlb"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(
        Name=f"{name}-tg",
        Protocol="TCP",
        Port=8000,
        VpcId=aws.network.vpc_id,
        TargetType="ip",
        Tags=[*tags, {"Key": "privateservice.io/component", "Value": "target-group"}],
    )["TargetGroups"][0]["TargetGroupArn"]
    return lb, tg


def test_owned_load_balancers_and_target_groups_left_behind_are_swept(
    applied: AwsContext, aws: Any
) -> None:
    """Issue 14, item 4: a load balancer and a target group carrying our owner tag under a name
    the spec no longer uses are found by tag and deleted by the next apply; the same pair
    owned by another spec, and the chain's own, stay."""
    elb = aws.client("elbv2")
    ours = _leftover(elb, aws, "ps-shop-orders-old", "shop/orders")
    theirs = _leftover(elb, aws, "ps-shop-other", "shop/other")
    result = apply(spec(orders()), applied, timeout=60)
    assert result.converged, result.reason
    lbs = {lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]}
    tgs = {tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]}
    assert ours[0] not in lbs
    assert ours[1] not in tgs
    assert theirs[0] in lbs
    assert theirs[1] in tgs
    names = {tg["TargetGroupName"] for tg in elb.describe_target_groups()["TargetGroups"]}
    assert "ps-shop-orders-tg" in names


def _with_alb_tier(tmp_path: Any) -> str:
    doc = orders()
    doc["spec"]["loadBalancer"]["alb"] = {
        "listenerPort": 80,
        "rules": [{"pathPattern": "/*", "priority": 1}],
    }
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_plan_marks_a_downtime_replacement_and_apply_refuses_it_without_the_flag(
    applied: AwsContext, aws: Any, tmp_path: Any, capsys: Any
) -> None:
    """Adding the ALB tier makes the NLB's target group `alb`-type on the ALB's port: a
    replacement of a group the listener forwards to. plan says `replace (downtime: port,
    targetType: ...)` (and "downtime"
    in JSON); apply without --allow-replace exits 1 with one line naming the resource and the
    field, and changes nothing (no ALB, the same target group, the same task group rules)."""
    elb, ec2 = aws.client("elbv2"), aws.client("ec2")
    (before,) = elb.describe_target_groups(Names=["ps-shop-orders-tg"])["TargetGroups"]
    ports = _ingress_ports(ec2)
    path = _with_alb_tier(tmp_path)
    assert cli.main(["plan", "-f", path]) == 0
    out = capsys.readouterr().out
    assert "-/+ replace (downtime: port, targetType: a listener forwards to it" in out, out
    assert cli.main(["plan", "-f", path, "-o", "json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)["items"]
    (tg,) = [c for c in item["changes"] if c["key"] == "target-group"]
    assert (tg["action"], tg["downtime"].split(":")[0]) == ("replace", "port, targetType")
    assert cli.main(["apply", "-f", path, "--timeout", "60"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    refused = [line for line in err if "downtime" in line]
    assert len(refused) == 1, err
    assert "target-group" in refused[0]
    assert "targetType" in refused[0]
    assert "--allow-replace" in refused[0]
    assert "Traceback" not in "\n".join(err)
    (after,) = elb.describe_target_groups(Names=["ps-shop-orders-tg"])["TargetGroups"]
    assert after["TargetGroupArn"] == before["TargetGroupArn"]
    assert after["TargetType"] == "ip"
    lbs = [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]]
    assert "ps-shop-orders-alb" not in lbs
    assert _ingress_ports(ec2) == ports


def test_api_type_rest_to_http_is_downtime_and_refused_without_the_flag(
    applied: AwsContext, aws: Any, tmp_path: Any, capsys: Any
) -> None:
    """api.type REST -> HTTP: the sweep would delete the REST API, whose invoke URL clients
    use. plan marks that delete as downtime; apply without --allow-replace exits 1 naming
    rest-api and leaves the REST API in place with no HTTP API made."""
    gw, gw2 = aws.client("apigateway"), aws.client("apigatewayv2")
    (rest,) = [a["id"] for a in gw.get_rest_apis()["items"] if a["name"] == "shop/orders"]
    doc = orders()
    doc["spec"]["api"] = {"type": "HTTP", "stageName": "prod"}
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert cli.main(["plan", "-f", str(path), "-o", "json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)["items"]
    (gone,) = [c for c in item["changes"] if c["key"] == "rest-api"]
    assert gone["action"] == "delete"
    assert "invoke URL" in gone["downtime"]
    assert cli.main(["apply", "-f", str(path), "--timeout", "60"]) == 1
    err = capsys.readouterr().err
    (refused,) = [line for line in err.splitlines() if "downtime" in line]
    assert f"delete rest-api ({rest})" in refused
    assert [a["id"] for a in gw.get_rest_apis()["items"]] == [rest]
    assert gw2.get_apis()["Items"] == []
