"""Cross-field rules (controller.spec.rules): each rule broken once, valid variants, warnings."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controller.spec import PrivateService, Problem, check

DELETE = object()

BASE: dict[str, Any] = {
    "apiVersion": "privateservice.io/v1alpha1",
    "kind": "PrivateService",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {
        "network": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a", "subnet-0b"]},
        "container": {"image": "nginx:1.27", "port": 8080},
        "service": {"cluster": "shop"},
    },
}
REST = {"type": "REST", "usagePlans": [{"name": "gold", "apiKeys": ["partner-a"]}]}
PUBLIC = {
    "network": {"publicSubnetIds": ["subnet-0c"]},
    "loadBalancer": {"scheme": "internet-facing"},
}
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
LAMBDA = "arn:aws:lambda:eu-west-1:123456789012:function:auth"


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`base` with `patch` merged in, recursively; a DELETE value removes the key."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def model(spec_patch: dict[str, Any]) -> PrivateService:
    return PrivateService.model_validate(merge(BASE, {"spec": spec_patch}), by_name=False)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


BROKEN = [
    pytest.param(
        {"container": {"cpu": 300}},
        "spec.container.cpu",
        "300 is not a Fargate cpu size",
        id="fargate-cpu",
    ),
    pytest.param(
        {"container": {"memory": 3000}},
        "spec.container.memory",
        "3000 is not valid for cpu 256 on Fargate (512..2048)",
        id="fargate-memory-256",
    ),
    pytest.param(
        {"container": {"cpu": 512, "memory": 1536}},
        "spec.container.memory",
        "(1024..4096): use a multiple of 1024",
        id="fargate-memory-512-step",
    ),
    pytest.param(
        {"container": {"cpu": 8192, "memory": 17408}},
        "spec.container.memory",
        "multiple of 4096",
        id="fargate-memory-8192-step",
    ),
    pytest.param(
        {"container": {"cpu": 16384, "memory": 131072}},
        "spec.container.memory",
        "(32768..122880)",
        id="fargate-memory-16384-above",
    ),
    pytest.param(
        {"network": {"vpcSelector": {"Name": "prod"}}},
        "spec.network.vpcSelector",
        "both vpcId and vpcSelector",
        id="vpc-both",
    ),
    pytest.param(
        {"network": {"vpcId": DELETE}},
        "spec.network",
        "one of vpcId or vpcSelector",
        id="vpc-neither",
    ),
    pytest.param(
        {"network": {"vpcId": DELETE, "vpcSelector": {}}},
        "spec.network.vpcSelector",
        "empty selector",
        id="vpc-selector-empty",
    ),
    pytest.param(
        {"network": {"subnetSelector": {"tier": "private"}}},
        "spec.network.subnetSelector",
        "both subnetIds and subnetSelector",
        id="subnets-both",
    ),
    pytest.param(
        {"network": {"subnetIds": DELETE}},
        "spec.network",
        "one of subnetIds or subnetSelector",
        id="subnets-neither",
    ),
    pytest.param(
        {"network": {"subnetIds": []}}, "spec.network.subnetIds", "is empty", id="subnets-empty"
    ),
    pytest.param(
        {"network": {"publicSubnetIds": ["subnet-0c"]}},
        "spec.network.publicSubnetIds",
        "only for loadBalancer.scheme internet-facing",
        id="public-subnets-internal",
    ),
    pytest.param(
        {"network": {"publicSubnetSelector": {"tier": "public"}}},
        "spec.network.publicSubnetSelector",
        "only for loadBalancer.scheme",
        id="public-selector-internal",
    ),
    pytest.param(
        merge(PUBLIC, {"network": {"publicSubnetSelector": {"tier": "public"}}}),
        "spec.network.publicSubnetSelector",
        "at most one",
        id="public-both",
    ),
    pytest.param(
        {"loadBalancer": {"scheme": "internet-facing"}},
        "spec.network",
        "needs publicSubnetIds or publicSubnetSelector",
        id="public-missing",
    ),
    pytest.param(
        merge(PUBLIC, {"api": REST}),
        "spec.loadBalancer.scheme",
        "only for a service without `api`",
        id="internet-facing-with-api",
    ),
    pytest.param(
        {"loadBalancer": {"staticIps": True}},
        "spec.loadBalancer.staticIps",
        "needs scheme internet-facing",
        id="static-ips-internal",
    ),
    pytest.param(
        {"loadBalancer": {"listener": {"protocol": "TLS"}}},
        "spec.loadBalancer.listener.certificateArn",
        "TLS needs",
        id="tls-no-cert",
    ),
    pytest.param(
        {"loadBalancer": {"listener": {"certificateArn": CERT}}},
        "spec.loadBalancer.listener.certificateArn",
        "protocol is TCP",
        id="tcp-with-cert",
    ),
    pytest.param(
        {
            "loadBalancer": {
                "alb": {
                    "rules": [
                        {"pathPattern": "/a", "priority": 1},
                        {"pathPattern": "/b", "priority": 1},
                    ]
                }
            }
        },
        "spec.loadBalancer.alb.rules[1].priority",
        "1 is used by an earlier rule",
        id="alb-priority-duplicate",
    ),
    pytest.param(
        {"service": {"launchType": "EC2"}},
        "spec.container.hostPort",
        "launchType EC2 needs a fixed hostPort",
        id="ec2-no-host-port",
    ),
    pytest.param(
        {"container": {"hostPort": 10000}},
        "spec.container.hostPort",
        "10000 is only for launchType EC2",
        id="fargate-host-port",
    ),
    pytest.param(
        {"service": {"instanceSecurityGroupIds": ["sg-0abc"]}},
        "spec.service.instanceSecurityGroupIds",
        "only for launchType EC2",
        id="fargate-instance-groups",
    ),
    pytest.param(
        {"api": merge(REST, {"type": "HTTP"})},
        "spec.api.usagePlans",
        "HTTP APIs have no usage plans",
        id="http-usage-plans",
    ),
    pytest.param(
        {"api": {"type": "HTTP", "apiKeyRequired": True}},
        "spec.api.apiKeyRequired",
        "HTTP APIs have no API keys",
        id="http-api-key-required",
    ),
    pytest.param(
        {"api": {"type": "HTTP", "endpointType": "PRIVATE"}},
        "spec.api.endpointType",
        "HTTP APIs are regional only",
        id="http-private",
    ),
    pytest.param(
        {"api": {"type": "HTTP", "vpcEndpointIds": ["vpce-0abc"]}},
        "spec.api.vpcEndpointIds",
        "only for endpointType PRIVATE",
        id="http-vpc-endpoints",
    ),
    pytest.param(
        {"api": {"vpcEndpointIds": ["vpce-0abc"]}},
        "spec.api.vpcEndpointIds",
        "only for endpointType PRIVATE",
        id="regional-vpc-endpoints",
    ),
    pytest.param(
        {"api": {"apiKeyRequired": True}},
        "spec.api.apiKeyRequired",
        "every request would get 403",
        id="api-key-required-no-plan",
    ),
    pytest.param(
        {"api": {"apiKeyRequired": True, "usagePlans": [{"name": "gold"}]}},
        "spec.api.apiKeyRequired",
        "no usage plan has an API key",
        id="api-key-required-plan-without-keys",
    ),
    pytest.param(
        {"api": {"usagePlans": [{"name": "gold"}, {"name": "gold"}]}},
        "spec.api.usagePlans[1].name",
        "'gold' is used by an earlier usage plan",
        id="usage-plan-duplicate",
    ),
    pytest.param(
        {"api": {"usagePlans": [{"name": "gold", "apiKeys": ["a", "a"]}]}},
        "spec.api.usagePlans[0].apiKeys[1]",
        "'a' is listed twice",
        id="api-key-twice-in-plan",
    ),
    pytest.param(
        {
            "api": {
                "endpointType": "PRIVATE",
                "customDomain": {"domainName": "api.example.com", "certificateArn": CERT},
            }
        },
        "spec.api.customDomain",
        "cannot map a PRIVATE API",
        id="private-custom-domain",
    ),
    pytest.param(
        {
            "service": {
                "serviceConnect": {
                    "namespace": "shop.internal",
                    "discoveryName": "orders",
                    "port": 9090,
                }
            }
        },
        "spec.service.serviceConnect.port",
        "9090 is not container.port 8080",
        id="service-connect-port",
    ),
    pytest.param(
        {"drift": {"ignoreFields": ["service.desiredcount"]}},
        "spec.drift.ignoreFields[0]",
        "did you mean 'desiredCount'",
        id="ignore-field-unknown",
    ),
    pytest.param(
        {"drift": {"ignoreFields": ["container.port.number"]}},
        "spec.drift.ignoreFields[0]",
        "container.port has no field 'number'",
        id="ignore-field-below-scalar",
    ),
    pytest.param(
        {"loadBalancer": {"targetGroup": {"healthCheck": {"intervalSeconds": 5}}}},
        "spec.loadBalancer.targetGroup.healthCheck.timeoutSeconds",
        "5 must be less than intervalSeconds 5",
        id="health-check-timeout",
    ),
]


@pytest.mark.parametrize(("patch", "path", "fragment"), BROKEN)
def test_each_broken_rule_gives_exactly_one_error(
    patch: dict[str, Any], path: str, fragment: str
) -> None:
    """Breaking one rule yields exactly one error, at that rule's field, naming value and fix."""
    found = errors(check(model(patch)))
    assert [p.path for p in found] == [path], found
    assert fragment in found[0].message


def test_memory_message_matches_the_contract_example() -> None:
    """The Fargate memory message reads like the contract's rule 8 example."""
    (problem,) = errors(check(model({"container": {"memory": 3000}})))
    assert str(problem).startswith(
        "spec.container.memory: 3000 is not valid for cpu 256 on Fargate (512..2048)"
    )


VALID = [
    pytest.param({}, id="minimal"),
    pytest.param(
        {
            "network": {
                "vpcId": DELETE,
                "vpcSelector": {"Name": "prod"},
                "subnetIds": DELETE,
                "subnetSelector": {"tier": "private"},
            }
        },
        id="selectors",
    ),
    pytest.param({"api": REST}, id="rest-api"),
    pytest.param({"api": merge(REST, {"apiKeyRequired": True})}, id="api-key-required-with-key"),
    pytest.param(
        {
            "api": {
                "usagePlans": [
                    {"name": "gold", "apiKeys": ["a"]},
                    {"name": "silver", "apiKeys": ["a"]},
                ]
            }
        },
        id="same-key-in-two-plans",
    ),
    pytest.param(
        {"api": {"type": "HTTP", "authorizer": {"lambdaArn": LAMBDA}}}, id="http-with-authorizer"
    ),
    pytest.param({"api": {"type": "HTTP"}, "loadBalancer": {"alb": {}}}, id="http-with-alb"),
    pytest.param(
        {"api": {"endpointType": "PRIVATE", "vpcEndpointIds": ["vpce-0abc"]}},
        id="private-with-endpoints",
    ),
    pytest.param(
        merge(PUBLIC, {"loadBalancer": {"staticIps": True, "alb": {}}}),
        id="internet-facing-static-ips",
    ),
    pytest.param(
        {
            "network": {"publicSubnetSelector": {"tier": "public"}},
            "loadBalancer": {"scheme": "internet-facing"},
        },
        id="internet-facing-selector",
    ),
    pytest.param(
        {"loadBalancer": {"listener": {"protocol": "TLS", "certificateArn": CERT}, "alb": {}}},
        id="tls-with-cert-and-alb",
    ),
    pytest.param(
        {
            "service": {"launchType": "EC2", "instanceSecurityGroupIds": ["sg-0abc"]},
            "container": {"hostPort": 10000, "cpu": 128, "memory": 128},
        },
        id="ec2",
    ),
    pytest.param({"container": {"cpu": 16384, "memory": 122880}}, id="fargate-largest"),
    pytest.param({"container": {"cpu": 8192, "memory": 20480}}, id="fargate-8192-step"),
    pytest.param({"container": {"cpu": 4096, "memory": 30720}}, id="fargate-4096-top"),
    pytest.param(
        {"loadBalancer": {"targetGroup": {"healthCheck": {"protocol": "TCP"}}}},
        id="tcp-health-check-ignores-path-and-matcher",
    ),
    pytest.param(
        {"loadBalancer": {"targetGroup": {"deregistrationDelaySeconds": 60}}},
        id="deregistration-delay-at-the-limit",
    ),
    pytest.param(
        {
            "service": {
                "serviceConnect": {
                    "namespace": "shop.internal",
                    "discoveryName": "orders",
                    "port": 8080,
                }
            }
        },
        id="service-connect",
    ),
    pytest.param(
        {
            "drift": {
                "ignoreFields": [
                    "service.desiredCount",
                    "api.usagePlans.throttle",
                    "loadBalancer.targetGroup.healthCheck.path",
                    "tags.team",
                ]
            }
        },
        id="ignore-fields",
    ),
]


@pytest.mark.parametrize("patch", VALID)
def test_valid_variants_have_no_problem(patch: dict[str, Any]) -> None:
    """Specs that can work produce neither errors nor warnings."""
    assert check(model(patch)) == []


WARNINGS = [
    pytest.param(
        {"loadBalancer": {"targetGroup": {"deregistrationDelaySeconds": 61}}},
        "spec.loadBalancer.targetGroup.deregistrationDelaySeconds",
        "61 exceeds container.stopTimeoutSeconds 30 + 30",
        id="rule-7-deregistration",
    ),
    pytest.param(
        {
            "container": {"stopTimeoutSeconds": 10},
            "loadBalancer": {"targetGroup": {"deregistrationDelaySeconds": 300}},
        },
        "spec.loadBalancer.targetGroup.deregistrationDelaySeconds",
        "300 exceeds container.stopTimeoutSeconds 10",
        id="rule-7-aws-default",
    ),
    pytest.param(
        {"service": {"deployment": {"maximumPercent": 100}}},
        "spec.service.deployment.maximumPercent",
        "can neither start nor stop",
        id="deployment-stuck",
    ),
]


@pytest.mark.parametrize(("patch", "path", "fragment"), WARNINGS)
def test_warnings_are_not_errors(patch: dict[str, Any], path: str, fragment: str) -> None:
    """Rule 7 and a stuck deployment give one warning and no error."""
    problems = check(model(patch))
    assert [(p.path, p.severity) for p in problems] == [(path, "warning")]
    assert fragment in problems[0].message
    assert str(problems[0]).startswith(f"warning: {path}: ")


def test_errors_come_before_warnings() -> None:
    """`check` lists errors first, whatever order the rules ran in."""
    problems = check(
        model(
            {
                "container": {"memory": 3000},
                "loadBalancer": {"targetGroup": {"deregistrationDelaySeconds": 900}},
            }
        )
    )
    assert [p.severity for p in problems] == ["error", "warning"]


def test_deployment_minimum_above_maximum() -> None:
    """minimumHealthyPercent > maximumPercent is refused (the models' bounds already prevent it)."""
    ps = model({})
    deployment = ps.spec.service.deployment.model_copy(
        update={"minimum_healthy_percent": 150, "maximum_percent": 120}
    )
    service = ps.spec.service.model_copy(update={"deployment": deployment})
    ps = ps.model_copy(update={"spec": ps.spec.model_copy(update={"service": service})})
    assert [p.path for p in errors(check(ps))] == ["spec.service.deployment.minimumHealthyPercent"]


def test_several_broken_rules_give_one_problem_each() -> None:
    """Independent problems are all reported, not just the first."""
    problems = check(
        model({"container": {"cpu": 300, "hostPort": 1}, "loadBalancer": {"staticIps": True}})
    )
    assert sorted(p.path for p in problems) == [
        "spec.container.cpu",
        "spec.container.hostPort",
        "spec.loadBalancer.staticIps",
    ]
