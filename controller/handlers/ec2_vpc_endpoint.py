"""The VPC's `execute-api` interface endpoint, through which clients reach a PRIVATE REST API.

Shared like the ECS cluster: an existing live endpoint for `com.amazonaws.<region>.execute-api`
in the VPC is used as it is (ours or not); only when there is none is one created, then owned:
interface type, private DNS on (so `https://<api>.execute-api.<region>.amazonaws.com` resolves
to it inside the VPC), in the service's subnets, with the `vpce-sg` group. Outputs: `id`, `ids`
(every live execute-api endpoint of the VPC: the PRIVATE API's policy admits them all),
`privateDnsEnabled` and `dnsName`. An owned endpoint's subnets, groups and private DNS are
updated with ModifyVpcEndpoint; VPC and service mean replacement. Endpoints are `pending` for a
minute or two after creation: a wait for what depends on them. Deleting the service that owns
the endpoint keeps it (and its group) while another service's PRIVATE API names it, and hands it
over to that service, whose own delete then removes it; it is deleted once no PRIVATE API of the
VPC names it.
Neighbours: `ec2_security_group` (`vpce-sg`), `apigw_rest_api` (the policy naming the ids).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import InUseError, PermanentError
from controller.handlers import clients
from controller.handlers.base import Delta, Desired, Handler, Observed, changed, props_as
from controller.model import kinds
from controller.model.props import Known, VpcEndpoint

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import FilterTypeDef, VpcEndpointTypeDef

GONE = frozenset({"deleting", "deleted", "failed", "rejected", "expired"})


def _sorted(values: Any) -> list[str]:
    return sorted(str(v) for v in values or [])


# The endpoint's lists that ModifyVpcEndpoint changes by adding and removing members.
_MEMBERS: tuple[tuple[Literal["subnetIds", "securityGroupIds"], str, str], ...] = (
    ("subnetIds", "AddSubnetIds", "RemoveSubnetIds"),
    ("securityGroupIds", "AddSecurityGroupIds", "RemoveSecurityGroupIds"),
)


class VpcEndpointHandler(Handler):
    """`ec2.vpc_endpoint`: props {vpcId, service, subnetIds, securityGroupIds, privateDnsEnabled}.

    `service` is the short name (`execute-api`); the region completes it.
    """

    kind = kinds.EC2_VPC_ENDPOINT
    client: EC2Client
    service = "ec2"
    shared = True
    replace_on = ("vpcId", "service")
    identity = ("vpcId", "service")  # the group may not exist yet
    not_found_codes = ("InvalidVpcEndpointId.NotFound", "InvalidVpcEndpoint.NotFound")

    def props_of(self, want: Desired) -> VpcEndpoint[Known]:
        """The desired props as `VpcEndpoint` (`controller.model.props`)."""
        return props_as(want, VpcEndpoint[Known])

    def service_name(self, short: str) -> str:
        """`com.amazonaws.<region>.<short>`."""
        return f"com.amazonaws.{self.aws.region}.{short}"

    def _live(self, filters: list[FilterTypeDef]) -> list[VpcEndpointTypeDef]:
        found: list[VpcEndpointTypeDef] = []
        pages = self.client.get_paginator("describe_vpc_endpoints").paginate(Filters=filters)
        for page in pages:
            found += [
                e for e in page["VpcEndpoints"] if str(e.get("State", "")).lower() not in GONE
            ]
        return found

    def _observed(
        self,
        key: str,
        short: str,
        endpoint: VpcEndpointTypeDef,
        siblings: list[VpcEndpointTypeDef],
    ) -> Observed:
        state = str(endpoint.get("State", "")).lower()
        if state == "failed":
            msg = f"vpc endpoint {endpoint['VpcEndpointId']} FAILED"
            raise PermanentError(msg)
        dns = endpoint.get("DnsEntries") or [{}]
        return Observed(
            key=key,
            id=endpoint["VpcEndpointId"],
            props={
                "vpcId": endpoint.get("VpcId"),
                "service": short,
                "subnetIds": _sorted(endpoint.get("SubnetIds")),
                "securityGroupIds": _sorted(g["GroupId"] for g in endpoint.get("Groups", [])),
                "privateDnsEnabled": bool(endpoint.get("PrivateDnsEnabled")),
            },
            tags=ownership.from_list(endpoint.get("Tags")),
            outputs={
                "id": endpoint["VpcEndpointId"],
                "ids": _sorted(e["VpcEndpointId"] for e in siblings),
                "privateDnsEnabled": bool(endpoint.get("PrivateDnsEnabled")),
                "dnsName": dns[0].get("DnsName"),
            },
            pending="vpc endpoint pending" if state in ("pending", "pendingacceptance") else None,
        )

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field deltas, lists compared as sets."""
        deltas = []
        for name, value in want.props.items():
            desired = _sorted(value) if isinstance(value, list) else value
            if desired != have.props.get(name):
                deltas.append(Delta(name, desired, have.props.get(name)))
        return deltas

    def observe(self, want: Desired) -> Observed | None:
        """A live interface endpoint for the service in the VPC, preferring ours."""
        p = self.props_of(want)
        live = self._live(
            [
                {"Name": "vpc-id", "Values": [p["vpcId"]]},
                {"Name": "service-name", "Values": [self.service_name(p["service"])]},
                {"Name": "vpc-endpoint-type", "Values": ["Interface"]},
            ]
        )
        if not live:
            return None
        live.sort(
            key=lambda e: (
                not ownership.is_owned(ownership.from_list(e.get("Tags")), want.owner),
                e["VpcEndpointId"],
            )
        )
        return self._observed(want.key, p["service"], live[0], live)

    def create(self, want: Desired) -> Observed:
        """CreateVpcEndpoint (after a look-up; a client token makes a retry return the same)."""
        have = self.observe(want)
        if have is not None:
            return have
        p = self.props_of(want)
        token = hashlib.sha256(f"{want.owner}/{want.key}".encode()).hexdigest()[:32]
        self.log_call("creating", want, service=self.service_name(p["service"]))
        made = self.client.create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=p["vpcId"],
            ServiceName=self.service_name(p["service"]),
            SubnetIds=list(p["subnetIds"]),
            SecurityGroupIds=list(p["securityGroupIds"]),
            PrivateDnsEnabled=p["privateDnsEnabled"],
            ClientToken=token,
            TagSpecifications=[
                {"ResourceType": "vpc-endpoint", "Tags": ownership.to_list(want.tags)}
            ],
        )["VpcEndpoint"]
        self.log_call("created", want, id=made["VpcEndpointId"])
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One ModifyVpcEndpoint for subnets, groups and private DNS (ours only: the engine
        never updates a shared endpoint that is not ours)."""
        p = self.props_of(want)
        args: dict[str, Any] = {}
        for prop, add, remove in _MEMBERS:
            if changed(deltas, prop):
                desired, held = set(p[prop]), set(have.props.get(prop) or [])
                if desired - held:
                    args[add] = sorted(desired - held)
                if held - desired:
                    args[remove] = sorted(held - desired)
        if changed(deltas, "privateDnsEnabled"):
            args["PrivateDnsEnabled"] = p["privateDnsEnabled"]
        if not args:
            return have
        self.log_call("updating", want, id=have.id, fields=sorted(args))
        self.client.modify_vpc_endpoint(VpcEndpointId=have.id, **args)
        return self.reobserve(want)

    def _users(self, have: Observed) -> list[dict[str, Any]]:
        """The PRIVATE REST APIs of other services that name the endpoint, in their endpoint
        configuration or their resource policy (`aws:SourceVpce`): they still need it."""
        owner = have.tags.get(ownership.OWNER)
        users = []
        for page in clients.apigateway(self.aws).get_paginator("get_rest_apis").paginate():
            for api in page.get("items", []):
                config = api.get("endpointConfiguration") or {}
                named = have.id in (config.get("vpcEndpointIds") or []) or have.id in str(
                    api.get("policy") or ""
                )
                theirs = (api.get("tags") or {}).get(ownership.OWNER) != owner
                if "PRIVATE" in (config.get("types") or []) and named and theirs:
                    users.append(dict(api))
        return users

    def _hand_over(self, have: Observed, users: list[dict[str, Any]]) -> None:
        """Keep the endpoint for the APIs still using it: the first managed service among them
        becomes its owner (and its groups'), so that its own delete removes it once unused."""
        name = ", ".join(f"{u.get('name')} ({u.get('id')})" for u in users)
        heirs = sorted({o for u in users if (o := (u.get("tags") or {}).get(ownership.OWNER))})
        if not heirs:
            raise InUseError(
                f"kept: PRIVATE API {name} uses it (not managed by privateservice): delete "
                f"{have.id} once no PRIVATE API of the VPC uses it"
            )
        groups = list(have.props.get("securityGroupIds") or [])
        self.log_call("handing over", have, id=have.id, to=heirs[0])
        self.client.create_tags(
            Resources=[have.id, *groups], Tags=[{"Key": ownership.OWNER, "Value": heirs[0]}]
        )
        raise InUseError(f"kept: PRIVATE API {name} uses it; {heirs[0]} owns it now")

    def delete(self, have: Observed) -> None:
        """DeleteVpcEndpoints once no other service's PRIVATE API uses the endpoint (else it is
        kept and handed over: `InUseError`); an unknown id is success."""
        if users := self._users(have):
            self._hand_over(have, users)
        self.log_call("deleting", have, id=have.id)
        try:
            result = self.client.delete_vpc_endpoints(VpcEndpointIds=[have.id])
        except ClientError as exc:
            if self.is_not_found(exc):
                return
            raise
        for failure in result.get("Unsuccessful", []):
            code = str(failure.get("Error", {}).get("Code", ""))
            if code not in self.not_found_codes:
                msg = f"vpc endpoint {have.id}: {failure.get('Error', {}).get('Message', code)}"
                raise PermanentError(msg)

    def list_owned(self, owner: str) -> list[Observed]:
        """Every live endpoint carrying our owner tag."""
        live = [  # every spec's sweep shares one read of all our endpoints
            e
            for e in self._live([{"Name": "tag-key", "Values": [ownership.OWNER]}])
            if ownership.is_owned(ownership.from_list(e.get("Tags")), owner)
        ]
        return [
            self._observed("vpc-endpoint", str(e.get("ServiceName", "")).rsplit(".", 1)[-1], e, [e])
            for e in live
        ]
