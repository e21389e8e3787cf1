"""What this version can build: a valid spec that uses a feature not built yet is refused.

Building part of a chain and leaving out, say, the ALB tier or a PRIVATE API's resource policy
would make a chain that looks deployed and does not work; better to say so up front, naming the
field, before any AWS call. Each entry goes when its handlers land.
"""

from __future__ import annotations

from controller.spec.models import PrivateService


def unsupported(ps: PrivateService) -> list[str]:
    """One message per field that asks for something this version cannot build yet."""
    spec, out = ps.spec, []
    lb, svc, api = spec.load_balancer, spec.service, spec.api
    checks = [
        (lb.alb is not None, "spec.loadBalancer.alb", "the ALB tier"),
        (lb.scheme != "internal", "spec.loadBalancer.scheme", "an internet-facing NLB"),
        (lb.static_ips, "spec.loadBalancer.staticIps", "Elastic IPs on the NLB"),
        (svc.launch_type != "FARGATE", "spec.service.launchType", "ECS on EC2"),
        (svc.service_connect is not None, "spec.service.serviceConnect", "Service Connect"),
        (api is not None and api.type != "REST", "spec.api.type", "HTTP APIs (VPC Link v2)"),
        (
            api is not None and api.endpoint_type != "REGIONAL",
            "spec.api.endpointType",
            "PRIVATE REST APIs",
        ),
        (
            api is not None and api.authorizer is not None,
            "spec.api.authorizer",
            "Lambda authorizers",
        ),
        (
            api is not None and api.custom_domain is not None,
            "spec.api.customDomain",
            "custom domains",
        ),
        (lb.listener.protocol != "TCP", "spec.loadBalancer.listener.protocol", "TLS listeners"),
    ]
    for used, path, what in checks:
        if used:
            out.append(f"{path}: {what} is not built by this version yet; nothing was changed")
    return out
