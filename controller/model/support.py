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
    lb, svc = spec.load_balancer, spec.service
    checks = [
        (
            svc.service_connect is not None and svc.launch_type == "EC2",
            "spec.service.serviceConnect",
            "Service Connect on EC2 (bridge tasks)",
        ),
        (lb.listener.protocol != "TCP", "spec.loadBalancer.listener.protocol", "TLS listeners"),
    ]
    for used, path, what in checks:
        if used:
            out.append(f"{path}: {what} is not built by this version yet; nothing was changed")
    return out
