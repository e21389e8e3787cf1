"""Discovery of the network a spec names: the VPC (id or tag selector) and its subnets.

The only AWS reads the pure model needs, done once per reconcile. Problems name the spec field.
Neighbours: `controller.model.network` (the result type), `controller.reconcile` (caller).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from controller.aws.session import AwsContext
from controller.errors import DiscoveryError
from controller.handlers import clients
from controller.model.network import Network
from controller.spec.models import Network as NetworkSpec

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import FilterTypeDef


def _tag_filters(selector: Mapping[str, str]) -> list[FilterTypeDef]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(selector.items())]


def _subnets(
    ec2: EC2Client,
    vpc_id: str,
    ids: list[str] | None,
    selector: Mapping[str, str] | None,
    field: str,
) -> tuple[str, ...]:
    filters: list[FilterTypeDef] = [{"Name": "vpc-id", "Values": [vpc_id]}]
    if ids:
        filters.append({"Name": "subnet-id", "Values": list(ids)})
    elif selector:
        filters += _tag_filters(selector)
    else:
        return ()
    found = []
    for page in ec2.get_paginator("describe_subnets").paginate(Filters=filters):
        found += [s["SubnetId"] for s in page["Subnets"]]
    if ids:
        missing = sorted(set(ids) - set(found))
        if missing:
            raise DiscoveryError(f"spec.network.{field}: {missing} not found in {vpc_id}")
    if not found:
        raise DiscoveryError(
            f"spec.network.{field}: no subnet of {vpc_id} matches {dict(selector or {})}"
        )
    return tuple(sorted(found))


def discover(aws: AwsContext, spec: NetworkSpec) -> Network:
    """Resolve `spec.network` to ids and the VPC CIDR."""
    ec2 = clients.ec2(aws)
    if spec.vpc_id:
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [spec.vpc_id]}])["Vpcs"]
        field = f"vpcId: {spec.vpc_id}"
    else:
        vpcs = ec2.describe_vpcs(Filters=_tag_filters(spec.vpc_selector or {}))["Vpcs"]
        field = f"vpcSelector: {dict(spec.vpc_selector or {})}"
    if len(vpcs) != 1:
        raise DiscoveryError(
            f"spec.network.{field} matches {len(vpcs)} VPCs"
            + (f" ({', '.join(v['VpcId'] for v in vpcs)})" if vpcs else "")
            + "; exactly one must match"
        )
    vpc = vpcs[0]
    subnet_ids = _subnets(
        ec2,
        vpc["VpcId"],
        spec.subnet_ids,
        spec.subnet_selector,
        "subnetIds" if spec.subnet_ids else "subnetSelector",
    )
    public = _subnets(
        ec2,
        vpc["VpcId"],
        spec.public_subnet_ids or None,
        spec.public_subnet_selector,
        "publicSubnetIds" if spec.public_subnet_ids else "publicSubnetSelector",
    )
    return Network(
        vpc_id=vpc["VpcId"], cidr=vpc["CidrBlock"], subnet_ids=subnet_ids, public_subnet_ids=public
    )
