"""ELBv2 fields over HTTP: NLB PrivateLink security-group enforcement, NLB health-check Matcher."""

from __future__ import annotations

FIELD = "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"


def test_nlb_with_security_groups_enforces_private_link_rules_by_default(build):
    """AWS: EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic "The default is on" for a
    Network Load Balancer with security groups; CreateLoadBalancer and DescribeLoadBalancers
    return it."""
    created = build.nlb(security_groups=[build.security_group()])
    described = build.elbv2.describe_load_balancers(LoadBalancerArns=[created["LoadBalancerArn"]])
    assert created[FIELD] == "on"
    assert described["LoadBalancers"][0][FIELD] == "on"


def test_set_security_groups_stores_private_link_enforcement(build):
    """AWS: SetSecurityGroups(EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic=off) is
    returned by SetSecurityGroups and by later DescribeLoadBalancers calls."""
    sg = build.security_group()
    arn = build.nlb(security_groups=[sg])["LoadBalancerArn"]
    response = build.elbv2.set_security_groups(
        LoadBalancerArn=arn, SecurityGroups=[sg], **{FIELD: "off"}
    )
    assert response["SecurityGroupIds"] == [sg]
    assert response[FIELD] == "off"
    described = build.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert described[FIELD] == "off"


def test_nlb_without_security_groups_has_no_enforcement_field(build):
    """AWS: the field belongs to NLBs with security groups; one without reports none."""
    created = build.nlb()
    assert FIELD not in created


def test_modify_target_group_stores_matcher_on_tcp_group_with_http_check(build):
    """AWS: ModifyTargetGroup's Matcher applies to TCP target groups whose health check is HTTP
    ("For target groups with a protocol of TCP, TCP_UDP, UDP or TLS the range is 200-599")."""
    tg = build.target_group()
    modified = build.elbv2.modify_target_group(
        TargetGroupArn=tg["TargetGroupArn"], Matcher={"HttpCode": "200-299"}
    )["TargetGroups"][0]
    described = build.elbv2.describe_target_groups(TargetGroupArns=[tg["TargetGroupArn"]])
    assert modified["Matcher"] == {"HttpCode": "200-299"}
    assert described["TargetGroups"][0]["Matcher"] == {"HttpCode": "200-299"}


def test_tcp_group_with_http_check_defaults_matcher_to_200_399(build):
    """AWS: for a TCP target group with an HTTP health check "The default value is 200-399"."""
    tg = build.target_group()
    assert tg["Matcher"] == {"HttpCode": "200-399"}


def test_switching_tcp_group_to_http_check_gets_default_matcher(build):
    """AWS: a TCP target group whose TCP health check becomes HTTP gets the 200-399 default."""
    tg = build.target_group(health_check="TCP")
    assert "Matcher" not in tg
    modified = build.elbv2.modify_target_group(
        TargetGroupArn=tg["TargetGroupArn"], HealthCheckProtocol="HTTP", HealthCheckPath="/ready"
    )["TargetGroups"][0]
    assert modified["Matcher"] == {"HttpCode": "200-399"}
