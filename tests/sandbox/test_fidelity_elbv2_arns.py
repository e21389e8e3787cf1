"""ELBv2 ARNs over HTTP: a network load balancer's ARN says `net`, and everything still finds it."""

from __future__ import annotations


def test_network_load_balancer_and_listener_arns_say_net(build):
    """AWS ARN format: `loadbalancer/net/NAME/ID` for a Network Load Balancer and
    `listener/net/NAME/LB-ID/ID` for its listeners (`app` is for Application Load Balancers)."""
    nlb = build.nlb()
    tg = build.target_group()
    listener = build.listener(nlb["LoadBalancerArn"], tg["TargetGroupArn"])
    assert ":loadbalancer/net/nlb/" in nlb["LoadBalancerArn"]
    assert ":listener/net/nlb/" in listener["ListenerArn"]
    assert listener["ListenerArn"].startswith(
        nlb["LoadBalancerArn"].replace(":loadbalancer/", ":listener/") + "/"
    )


def test_application_load_balancer_arn_keeps_app(build):
    """AWS ARN format: an Application Load Balancer's ARN reads `loadbalancer/app/...`."""
    alb = build.elbv2.create_load_balancer(
        Name="alb", Subnets=list(build.aws.network.private_subnet_ids), Scheme="internal"
    )["LoadBalancers"][0]
    assert ":loadbalancer/app/alb/" in alb["LoadBalancerArn"]


def test_calls_that_parse_net_arns_still_work(build):
    """AWS: DescribeListeners(LoadBalancerArn), DescribeTags, AddTags,
    ModifyLoadBalancerAttributes and DeleteLoadBalancer accept the NLB's ARN."""
    elbv2 = build.elbv2
    arn = build.nlb()["LoadBalancerArn"]
    tg = build.target_group()
    listener = build.listener(arn, tg["TargetGroupArn"])
    listeners = elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
    assert [item["ListenerArn"] for item in listeners] == [listener["ListenerArn"]]
    elbv2.add_tags(ResourceArns=[arn, listener["ListenerArn"]], Tags=[{"Key": "o", "Value": "p"}])
    described = elbv2.describe_tags(ResourceArns=[arn, listener["ListenerArn"]])["TagDescriptions"]
    assert [d["Tags"] for d in described] == [[{"Key": "o", "Value": "p"}]] * 2
    attributes = elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}],
    )["Attributes"]
    assert {"Key": "load_balancing.cross_zone.enabled", "Value": "true"} in attributes
    elbv2.delete_listener(ListenerArn=listener["ListenerArn"])
    elbv2.delete_load_balancer(LoadBalancerArn=arn)
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []


def test_create_load_balancer_with_tags_keeps_them(build):
    """AWS: tags given to CreateLoadBalancer are returned by DescribeTags for its ARN."""
    arn = build.elbv2.create_load_balancer(
        Name="tagged",
        Type="network",
        Scheme="internal",
        Subnets=list(build.aws.network.private_subnet_ids),
        Tags=[{"Key": "owner", "Value": "psctl"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    described = build.elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    assert described[0]["Tags"] == [{"Key": "owner", "Value": "psctl"}]
