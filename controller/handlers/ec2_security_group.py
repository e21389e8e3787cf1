"""Security groups (`nlb-sg`, `task-sg`) and their rules, managed rule by rule.

Rules are compared as a set of normalised rules; extra ones are revoked by their
SecurityGroupRuleId (revoking by IpPermissions needs the exact description on group references)
and missing ones authorized. Name, description and VPC cannot change in place: replacement.
Neighbours: `controller.handlers.base` (contract), `controller.model.build` (rule shapes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers import clients
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code, props_as
from controller.handlers.elbv2_old_listeners import listened_ports
from controller.handlers.elbv2_reads import ListenerMemo, listener_memo
from controller.model import kinds
from controller.model.props import Known, SecurityGroup

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import FilterTypeDef


def rule_key(rule: Mapping[str, Any]) -> tuple[str, ...]:
    """A canonical, hashable identity of a rule (description excluded)."""
    source = rule.get("sourceGroup") or rule.get("cidr") or rule.get("cidrv6") or ""
    return (str(rule["protocol"]), str(rule["fromPort"]), str(rule["toPort"]), str(source))


def canonical(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules sorted by identity, description dropped (a description edit is not drift)."""
    return sorted(({k: v for k, v in r.items() if k != "description"} for r in rules), key=rule_key)


def permission(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised rule as EC2 IpPermissions (all traffic has no ports)."""
    perm: dict[str, Any] = {"IpProtocol": rule["protocol"]}
    if rule["protocol"] != "-1":
        perm |= {"FromPort": rule["fromPort"], "ToPort": rule["toPort"]}
    desc = {"Description": rule["description"]} if rule.get("description") else {}
    if rule.get("sourceGroup"):
        perm["UserIdGroupPairs"] = [{"GroupId": rule["sourceGroup"], **desc}]
    elif rule.get("cidrv6"):
        perm["Ipv6Ranges"] = [{"CidrIpv6": rule["cidrv6"], **desc}]
    else:
        perm["IpRanges"] = [{"CidrIp": rule["cidr"], **desc}]
    return perm


DUPLICATE_RULE = "InvalidPermission.Duplicate"


def authorize_all(
    authorize: Callable[..., Any], group_id: str, perms: list[dict[str, Any]], **kw: Any
) -> None:
    """Authorize `perms` in one call; if one is there already (AWS refuses the whole call with
    InvalidPermission.Duplicate, e.g. botocore resent a request whose answer was lost), one
    call per rule, each rule already there being success."""
    try:
        authorize(GroupId=group_id, IpPermissions=perms, **kw)
    except ClientError as exc:
        if error_code(exc) != DUPLICATE_RULE:
            raise
        for perm in perms:
            try:
                authorize(GroupId=group_id, IpPermissions=[perm], **kw)
            except ClientError as again:
                if error_code(again) != DUPLICATE_RULE:
                    raise


def _covers(rule: Mapping[str, Any], ports: set[int]) -> bool:
    """Whether a TCP (or all-traffic) rule admits one of `ports`."""
    if rule.get("protocol") not in ("tcp", "-1"):
        return False
    if rule.get("protocol") == "-1":
        return bool(ports)
    return any(int(rule.get("fromPort", -1)) <= p <= int(rule.get("toPort", -1)) for p in ports)


def _one_of(rule: Mapping[str, Any], ports: set[int]) -> bool:
    """Whether a TCP rule admits exactly one port, one of `ports` (the rule a listener had)."""
    start, end = int(rule.get("fromPort", -1)), int(rule.get("toPort", -2))
    return rule.get("protocol") == "tcp" and start == end and start in ports


def _source(rule: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """Where a rule admits traffic from: its CIDR, IPv6 CIDR or security group."""
    return rule.get("cidr"), rule.get("cidrv6"), rule.get("sourceGroup")


def listed_rules(group: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The group's rules from its listing (IpPermissions, one rule per source), in the shape of
    DescribeSecurityGroupRules' rules (`SecurityGroupHandler._rules`), without a call per group.
    """
    out: list[dict[str, Any]] = []
    for egress, perms in ((False, "IpPermissions"), (True, "IpPermissionsEgress")):
        for perm in group.get(perms, []):
            base = {
                "egress": egress,
                "protocol": perm["IpProtocol"],
                "fromPort": perm.get("FromPort", -1),
                "toPort": perm.get("ToPort", -1),
            }
            out += [base | {"sourceGroup": p["GroupId"]} for p in perm.get("UserIdGroupPairs", [])]
            out += [base | {"cidrv6": r["CidrIpv6"]} for r in perm.get("Ipv6Ranges", [])]
            out += [base | {"cidr": r["CidrIp"]} for r in perm.get("IpRanges", [])]
            out += [base | {"cidr": None} for _ in perm.get("PrefixListIds", [])]
    return out


# A group's rule lists, and whether each is the egress one.
_DIRECTIONS: tuple[tuple[Literal["ingress", "egress"], bool], ...] = (
    ("ingress", False),
    ("egress", True),
)


class SecurityGroupHandler(Handler):
    """EC2 security group with ingress and egress rules."""

    kind = kinds.EC2_SECURITY_GROUP
    client: EC2Client
    service = "ec2"
    replace_on = ("name", "description", "vpcId")

    def props_of(self, want: Desired) -> SecurityGroup[Known]:
        """The desired props as `SecurityGroup` (`controller.model.props`)."""
        return props_as(want, SecurityGroup[Known])

    def observe(self, want: Desired) -> Observed | None:
        """Find the group by name among the VPC's groups (one list, with their rules, that every
        spec in the VPC shares), preferring one we own."""
        name, vpc = self.props_of(want)["name"], str(self.props_of(want)["vpcId"])
        if vpc.endswith("unknown"):
            filters: list[FilterTypeDef] = [{"Name": "group-name", "Values": [name]}]
        else:
            filters = [{"Name": "vpc-id", "Values": [vpc]}]
        pages = self.client.get_paginator("describe_security_groups").paginate(
            Filters=filters, PaginationConfig={"PageSize": 1000}
        )
        groups = [g for page in pages for g in page["SecurityGroups"] if g["GroupName"] == name]
        if not groups:
            return None
        groups.sort(
            key=lambda g: not ownership.is_owned(ownership.from_list(g.get("Tags")), want.owner)
        )
        return self._observed(want.key, groups[0])

    def list_owned(self, owner: str) -> list[Observed]:
        """Every group carrying our owner tag, keyed by its component (our stack keys)."""
        pages = self.client.get_paginator("describe_security_groups").paginate(
            Filters=[{"Name": "tag-key", "Values": [ownership.OWNER]}],  # one read for every spec
            PaginationConfig={"PageSize": 1000},
        )
        out = []
        for page in pages:
            for group in page["SecurityGroups"]:
                tags = ownership.from_list(group.get("Tags"))
                if not ownership.is_owned(tags, owner):
                    continue
                key = tags.get(ownership.COMPONENT, group["GroupId"])
                # enough to delete it: its rules are not read (one call less per group)
                out.append(Observed(key=key, id=group["GroupId"], props={}, tags=tags))
        return out

    def _observed(self, key: str, group: Mapping[str, Any]) -> Observed:
        rules = listed_rules(group)
        ingress = [{k: v for k, v in r.items() if k != "egress"} for r in rules if not r["egress"]]
        egress = [{k: v for k, v in r.items() if k != "egress"} for r in rules if r["egress"]]
        return Observed(
            key=key,
            id=group["GroupId"],
            props={
                "name": group["GroupName"],
                "description": group["Description"],
                "vpcId": group["VpcId"],
                "ingress": canonical(ingress),
                "egress": canonical(egress),
            },
            tags=ownership.from_list(group.get("Tags")),
            outputs={"id": group["GroupId"]},
        )

    def _rules(self, group_id: str) -> list[tuple[dict[str, Any], str]]:
        """(normalised rule with an `egress` flag, rule id) for every rule of the group."""
        out = []
        pages = self.client.get_paginator("describe_security_group_rules").paginate(
            Filters=[{"Name": "group-id", "Values": [group_id]}]
        )
        for page in pages:
            for r in page["SecurityGroupRules"]:
                rule: dict[str, Any] = {
                    "egress": r["IsEgress"],
                    "protocol": r["IpProtocol"],
                    "fromPort": r.get("FromPort", -1),
                    "toPort": r.get("ToPort", -1),
                }
                if "ReferencedGroupInfo" in r:
                    rule["sourceGroup"] = r["ReferencedGroupInfo"]["GroupId"]
                elif "CidrIpv6" in r:
                    rule["cidrv6"] = r["CidrIpv6"]
                else:
                    rule["cidr"] = r.get("CidrIpv4")
                out.append((rule, r["SecurityGroupRuleId"]))
        return out

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Scalar fields as usual; rule lists as canonical sets."""
        deltas = [
            Delta(f, self.props_of(want)[f], have.props.get(f))
            for f in ("name", "description", "vpcId")
            if self.props_of(want)[f] != have.props.get(f)
        ]
        for direction in ("ingress", "egress"):
            desired = canonical(list(self.props_of(want)[direction]))
            if desired != have.props[direction]:
                deltas.append(Delta(direction, desired, have.props[direction]))
        return deltas

    def create(self, want: Desired) -> Observed:
        """Create the group (after a look-up: a retry finds the one made before), then set its
        rules."""
        have = self.observe(want)
        if have is not None and have.owned_by(want.owner):
            self._sync_rules(want, have.id)
            return self.reobserve(want)
        self.log_call("creating", want)
        try:
            group_id = self.client.create_security_group(
                GroupName=self.props_of(want)["name"],
                Description=self.props_of(want)["description"],
                VpcId=self.props_of(want)["vpcId"],
                TagSpecifications=[
                    {"ResourceType": "security-group", "Tags": ownership.to_list(want.tags)}
                ],
            )["GroupId"]
        except ClientError as exc:
            # botocore resent a request whose answer was lost: the first made the group
            if error_code(exc) != "InvalidGroup.Duplicate":
                raise
            self.refresh()
            have = self.observe(want)
            if have is None or not have.owned_by(want.owner):
                raise
            self.log_call("adopted", want, id=have.id)
            group_id = have.id
        self._sync_rules(want, group_id)
        self.log_call("created", want, id=group_id)
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Authorize missing rules, then revoke extra ones (by rule id), except ingress still
        serving targets (see `_still_served`) or still listened on (`keepPortsListenedBy`): those
        wait, and the group reads back `settling`."""
        del deltas
        kept = self._sync_rules(want, have.id)
        after = self.reobserve(want)
        if kept:
            after.settling = (
                f"keeping rules for port(s) {', '.join(map(str, kept))} while targets still "
                "serve on them or a listener of ours still listens on them (revoked once the "
                "service's old tasks are deregistered and the old listener is gone)"
            )
        return after

    def _sync_rules(self, want: Desired, group_id: str) -> list[int]:
        """Authorize before revoking (a port change never leaves a moment with neither port
        open); returns the ports of ingress rules kept because targets still serve on them."""
        existing = self._rules(group_id)
        kept: list[int] = []
        for direction, egress in _DIRECTIONS:
            desired = {rule_key(r): r for r in self.props_of(want)[direction]}
            have = {rule_key(r): (r, rid) for r, rid in existing if r["egress"] is egress}
            missing = [r for k, r in desired.items() if k not in have]
            extra = [(r, rid) for k, (r, rid) in have.items() if k not in desired]
            if missing:
                self.log_call(
                    "authorizing rules",
                    want,
                    direction=direction,
                    rules=[rule_key(r) for r in missing],
                )
                authorize = (
                    self.client.authorize_security_group_egress
                    if egress
                    else self.client.authorize_security_group_ingress
                )
                authorize_all(authorize, group_id, [permission(r) for r in missing])
            if extra:
                served, listened = self._ports_in_use(want, egress=egress)
                # only our own sources (the old port's rules), never a rule someone added
                ours = {_source(r) for r in desired.values()}
                held = [
                    (r, rid)
                    for r, rid in extra
                    if _source(r) in ours and (_covers(r, served) or _one_of(r, listened))
                ]
                kept += sorted({p for r, _ in held for p in served | listened if _covers(r, {p})})
                extra = [x for x in extra if x not in held]
            if extra:
                rule_ids = [rid for _, rid in extra]
                self.log_call("revoking rules", want, direction=direction, rule_ids=rule_ids)
                revoke = (
                    self.client.revoke_security_group_egress
                    if egress
                    else self.client.revoke_security_group_ingress
                )
                revoke(GroupId=group_id, SecurityGroupRuleIds=rule_ids)
        return sorted(set(kept))

    def _ports_in_use(self, want: Desired, *, egress: bool) -> tuple[set[int], set[int]]:
        """Ports whose rules from our own sources wait: (ingress ports on which targets still
        serve: `keepPortsServedBy`; ports, either direction, on which a listener of ours on the
        load balancer named `keepPortsListenedBy` still listens: a listener port change, whose
        old listener serves until the API is redeployed, see `elbv2_old_listeners`). Only a
        rule for exactly one listened port waits (a wider one someone added is still revoked)."""
        served = (
            set() if egress else self._still_served(self.props_of(want).get("keepPortsServedBy"))
        )
        lb_name = self.props_of(want).get("keepPortsListenedBy")
        listened = (
            listened_ports(clients.elbv2(self.aws), lb_name, want.owner, self._listener_memo)
            if lb_name
            else set()
        )
        return served, listened

    @property
    def _listener_memo(self) -> ListenerMemo | None:
        """The listener ARNs every spec of this context learned (`elbv2_reads`)."""
        return listener_memo(self.aws.memo("elbv2"))

    def _still_served(self, target_group_arn: Any) -> set[int]:
        """Ports on which targets are still registered in the service's target group (any state
        but `unused`: `draining` targets finish their connections). A rolling deployment to a
        new container port registers the new tasks before the old ones deregister ("Amazon ECS
        deregisters the old tasks ... after the new tasks are healthy", ECS Developer Guide,
        "Rolling update deployments"); revoking the old port before that would cut the old tasks'
        traffic and health checks while they still serve."""
        if not isinstance(target_group_arn, str) or not target_group_arn.startswith("arn:"):
            return set()
        elb = clients.elbv2(self.aws)
        try:
            found = elb.describe_target_health(TargetGroupArn=target_group_arn)
        except ClientError as exc:
            if error_code(exc) == "TargetGroupNotFound":
                return set()
            raise
        return {
            int(d["Target"]["Port"])
            for d in found["TargetHealthDescriptions"]
            if "Port" in d["Target"] and d.get("TargetHealth", {}).get("State") != "unused"
        }

    def delete(self, have: Observed) -> None:
        """Delete the group; a group still in use is a wait, not an error."""
        self.log_call("deleting", have, id=have.id)
        try:
            self.client.delete_security_group(GroupId=have.id)
        except ClientError as exc:
            code = error_code(exc)
            if code == "InvalidGroup.NotFound":
                return
            if code == "DependencyViolation":
                raise TemporaryError(f"security group {have.id} still in use", 10) from exc
            raise
