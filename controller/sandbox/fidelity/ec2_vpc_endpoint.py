"""EC2 ModifyVpcEndpoint honours PrivateDnsEnabled.

Restores (Amazon EC2 API reference, ModifyVpcEndpoint: "PrivateDnsEnabled - (Interface
endpoint) Indicates whether a private hosted zone is associated with the VPC"; the change shows
in DescribeVpcEndpoints' `PrivateDnsEnabled`): moto accepts the parameter and ignores it, so
private DNS turned off behind the controller's back could never be turned on again.
Neighbours: `patching`, `ec2`, `controller.handlers.ec2_vpc_endpoint`.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.responses import vpcs as vpc_responses

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the PrivateDnsEnabled update."""
    wrap(vpc_responses.VPCs, "modify_vpc_endpoint")(_modify_vpc_endpoint)


def _modify_vpc_endpoint(original: Any, self: Any) -> Any:
    result = original(self)
    private_dns = self._get_param("PrivateDnsEnabled")
    if private_dns is not None:
        (endpoint,) = self.ec2_backend.describe_vpc_endpoints(
            vpc_end_point_ids=[self._get_param("VpcEndpointId")]
        )
        endpoint.private_dns_enabled = str(private_dns).lower() == "true"
    return result
