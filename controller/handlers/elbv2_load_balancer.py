"""Load balancers: the NLB (internal or internet-facing, with Elastic IPs) and the internal ALB.

Found by deterministic name. Subnets, security groups (with the NLB's
`EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic`) and attributes are updated in place;
name, type, scheme and subnet mappings (an Elastic IP per subnet) cannot change: replacement.
Outputs: `arn`, `dnsName`, `hostedZoneId`, and `staticIps` (the NLB's Elastic IPs, by subnet).
Neighbours: `controller.handlers.base`, `controller.handlers.ec2_elastic_ip` (the allocations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from controller.aws import tags as ownership
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    changed,
    props_as,
    tolerating,
)
from controller.handlers.elbv2_reads import all_tags, chunk_tags, load_balancers
from controller.model import kinds
from controller.model.props import Known, LoadBalancer

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client
    from types_boto3_elbv2.type_defs import (
        CreateLoadBalancerInputTypeDef,
        LoadBalancerAttributeTypeDef,
    )

ENFORCE = "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"


def attribute_changes(
    desired: dict[str, str], held: dict[str, str]
) -> list[LoadBalancerAttributeTypeDef]:
    """The `{"Key", "Value"}` pairs to send: only attributes whose value differs (a target
    group's attributes have the same shape)."""
    return [{"Key": k, "Value": v} for k, v in desired.items() if held.get(k) != v]


def subnet_mappings(lb: dict[str, Any]) -> list[dict[str, Any]]:
    """`[{subnetId, allocationId}]` by subnet, from DescribeLoadBalancers' zones."""
    out = []
    for az in lb.get("AvailabilityZones", []):
        addresses = az.get("LoadBalancerAddresses") or [{}]
        out.append({"subnetId": az["SubnetId"], "allocationId": addresses[0].get("AllocationId")})
    return sorted(out, key=lambda m: str(m["subnetId"]))


def static_ips(lb: dict[str, Any]) -> list[str]:
    """The Elastic IPs of the load balancer's zones, in subnet order."""
    zones = sorted(lb.get("AvailabilityZones", []), key=lambda az: str(az["SubnetId"]))
    return [
        a["IpAddress"]
        for az in zones
        for a in az.get("LoadBalancerAddresses") or []
        if a.get("AllocationId") and a.get("IpAddress")
    ]


class LoadBalancerHandler(Handler):
    """ELBv2 load balancer of type network or application."""

    kind = kinds.ELBV2_LOAD_BALANCER
    client: ElasticLoadBalancingv2Client
    service = "elbv2"
    replace_on = ("name", "type", "scheme", "subnetMappings")
    single_instance = True  # list_owned keys by component: one owned per stack key

    def props_of(self, want: Desired) -> LoadBalancer[Known]:
        """The desired props as `LoadBalancer` (`controller.model.props`)."""
        return props_as(want, LoadBalancer[Known])

    def observe(self, want: Desired) -> Observed | None:
        """By name in the account's list (shared by every spec), with tags and attributes."""
        everyone = load_balancers(self.client)
        lb = next(
            (lb for lb in everyone if lb["LoadBalancerName"] == self.props_of(want)["name"]), None
        )
        if lb is None:
            return None
        arn = lb["LoadBalancerArn"]
        tags = chunk_tags(self.client, arn)
        attrs = self.client.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
        props: dict[str, Any] = {
            "name": lb["LoadBalancerName"],
            "type": lb["Type"],
            "scheme": lb["Scheme"],
            "subnets": sorted(az["SubnetId"] for az in lb.get("AvailabilityZones", [])),
            "subnetMappings": subnet_mappings(lb),
            "securityGroups": sorted(lb.get("SecurityGroups", [])),
            "attributes": {a["Key"]: a["Value"] for a in attrs},
        }
        if lb["Type"] == "network":
            props["enforcePrivateLinkInboundRules"] = lb.get(ENFORCE, "on")
        return Observed(
            key=want.key,
            id=arn,
            props=props,
            tags=tags,
            outputs={
                "id": arn,
                "arn": arn,
                "dnsName": lb["DNSName"],
                "hostedZoneId": lb.get("CanonicalHostedZoneId"),
                "staticIps": static_ips(lb),
            },
        )

    def create(self, want: Desired) -> Observed:
        """Create with subnets (or subnet mappings), groups, then attributes and enforcement."""
        p = self.props_of(want)
        self.log_call("creating", want, name=p["name"], type=p["type"])
        request: CreateLoadBalancerInputTypeDef = {
            "Name": p["name"],
            "Type": p["type"],
            "Scheme": p["scheme"],
            "SecurityGroups": list(p["securityGroups"]),
            "IpAddressType": "ipv4",
            "Tags": ownership.to_list(want.tags),
        }
        if mappings := p.get("subnetMappings"):
            request["SubnetMappings"] = [
                {"SubnetId": m["subnetId"], "AllocationId": m["allocationId"]} for m in mappings
            ]
        else:
            request["Subnets"] = list(p["subnets"])
        self.client.create_load_balancer(**request)
        have = self.reobserve(want)
        have = self.update(want, have, self.diff(want, have))
        self.log_call("created", want, id=have.id)
        return have

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One step per aspect: subnets, security groups and enforcement, attributes."""
        p = self.props_of(want)
        if changed(deltas, "subnets"):
            self.log_call("setting subnets", want, subnets=p["subnets"])
            self.client.set_subnets(LoadBalancerArn=have.id, Subnets=list(p["subnets"]))
        if changed(deltas, "securityGroups", "enforcePrivateLinkInboundRules"):
            enforce = p.get("enforcePrivateLinkInboundRules")
            self.log_call("setting security groups", want, enforce=enforce)
            extra: dict[str, Literal["on", "off"]] = (
                {ENFORCE: enforce} if enforce is not None else {}
            )
            self.client.set_security_groups(
                LoadBalancerArn=have.id, SecurityGroups=list(p["securityGroups"]), **extra
            )
        attrs = attribute_changes(p["attributes"], have.props["attributes"])
        if attrs:
            self.log_call("modifying attributes", want, attributes=attrs)
            self.client.modify_load_balancer_attributes(LoadBalancerArn=have.id, Attributes=attrs)
        return self.reobserve(want)

    def list_owned(self, owner: str) -> list[Observed]:
        """Every load balancer carrying our owner tag, keyed by its component, so the sweep
        deletes one left behind by a renamed or replaced spec (its listeners and rules go with
        it: "Deleting a load balancer also deletes its listeners", ELBv2 API Reference,
        DeleteLoadBalancer)."""
        tags = all_tags(self.client)
        return [
            Observed(
                key=tags[lb["LoadBalancerArn"]].get(ownership.COMPONENT, lb["LoadBalancerArn"]),
                id=lb["LoadBalancerArn"],
                props={"name": lb["LoadBalancerName"]},
                tags=tags[lb["LoadBalancerArn"]],
            )
            for lb in load_balancers(self.client)
            if ownership.is_owned(tags.get(lb["LoadBalancerArn"], {}), owner)
        ]

    def delete(self, have: Observed) -> None:
        """Delete the load balancer; NotFound is success."""
        self.log_call("deleting", have, id=have.id)
        with tolerating("LoadBalancerNotFound"):
            self.client.delete_load_balancer(LoadBalancerArn=have.id)
