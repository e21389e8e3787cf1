"""Security groups (`nlb-sg`, `task-sg`) and their rules, managed rule by rule.

Rules are compared as a set of normalised rules; extra ones are revoked by their
SecurityGroupRuleId (revoking by IpPermissions needs the exact description on group references)
and missing ones authorized. Name, description and VPC cannot change in place: replacement.
Neighbours: `controller.handlers.base` (contract), `controller.model.build` (rule shapes).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code


def rule_key(rule: dict[str, Any]) -> tuple[str, ...]:
    """A canonical, hashable identity of a rule (description excluded)."""
    source = rule.get("sourceGroup") or rule.get("cidr") or rule.get("cidrv6") or ""
    return (str(rule["protocol"]), str(rule["fromPort"]), str(rule["toPort"]), str(source))


def canonical(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules sorted by identity, description dropped (a description edit is not drift)."""
    return sorted(({k: v for k, v in r.items() if k != "description"} for r in rules), key=rule_key)


def permission(rule: dict[str, Any]) -> dict[str, Any]:
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


def listed_rules(group: dict[str, Any]) -> list[dict[str, Any]]:
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


class SecurityGroupHandler(Handler):
    """EC2 security group with ingress and egress rules."""

    kind = "ec2.security_group"
    service = "ec2"
    replace_on = ("name", "description", "vpcId")

    def observe(self, want: Desired) -> Observed | None:
        """Find the group by name among the VPC's groups (one list, with their rules, that every
        spec in the VPC shares), preferring one we own."""
        name, vpc = want.props["name"], str(want.props["vpcId"])
        if vpc.endswith("unknown"):
            filters = [{"Name": "group-name", "Values": [name]}]
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

    def _observed(self, key: str, group: dict[str, Any]) -> Observed:
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
            Delta(f, want.props[f], have.props.get(f))
            for f in ("name", "description", "vpcId")
            if want.props[f] != have.props.get(f)
        ]
        for direction in ("ingress", "egress"):
            desired = canonical(list(want.props[direction]))
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
        group_id = self.client.create_security_group(
            GroupName=want.props["name"],
            Description=want.props["description"],
            VpcId=want.props["vpcId"],
            TagSpecifications=[
                {"ResourceType": "security-group", "Tags": ownership.to_list(want.tags)}
            ],
        )["GroupId"]
        self._sync_rules(want, group_id)
        self.log_call("created", want, id=group_id)
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Authorize missing rules and revoke extra ones (by rule id)."""
        del deltas
        self._sync_rules(want, have.id)
        return self.reobserve(want)

    def _sync_rules(self, want: Desired, group_id: str) -> None:
        existing = self._rules(group_id)
        for direction, egress in (("ingress", False), ("egress", True)):
            desired = {rule_key(r): r for r in want.props[direction]}
            have = {rule_key(r): rid for r, rid in existing if r["egress"] is egress}
            extra = [rid for k, rid in have.items() if k not in desired]
            missing = [r for k, r in desired.items() if k not in have]
            if extra:
                self.log_call("revoking rules", want, direction=direction, rule_ids=extra)
                revoke = (
                    self.client.revoke_security_group_egress
                    if egress
                    else self.client.revoke_security_group_ingress
                )
                revoke(GroupId=group_id, SecurityGroupRuleIds=extra)
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
                authorize(GroupId=group_id, IpPermissions=[permission(r) for r in missing])

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
