"""Our own ingress rules in security groups that are not ours (the container instances' groups).

ECS on EC2 with a fixed host port (seed 004): the NLB reaches the container instances on the
host port, so their security groups must admit it. Those groups belong to whoever runs the
instances; we never create, modify or delete them, and never touch a rule we did not make. The
rules we authorize carry our owner tag (EC2 tags security group rules: TagSpecifications with
ResourceType `security-group-rule`), and only rules carrying it are ever revoked, by their rule
ids. A rule someone else already holds with the same protocol, port and source satisfies ours (AWS
refuses a duplicate) and stays theirs.

Props: `cluster` (to find the groups), `groupIds` (the spec's `instanceSecurityGroupIds`; empty:
the groups of the cluster's container instances, ListContainerInstances -> DescribeContainer
Instances -> ec2InstanceId -> DescribeInstances -> SecurityGroups) and `ingress` (rules in the
shape of `controller.model.common.tcp_from`), wanted in every one of those groups. The resource
observed is the set of our tagged rules; with no group to put them in (no container instances
yet) it is `pending` with a message saying what to do, and our existing rules are left as they
are (an Auto Scaling group between two instances must not flap them).
Neighbours: `controller.handlers.base`, `controller.model.service` (the rule shapes),
`controller.handlers.ec2_security_group` (the same rule normalisation, for our own groups).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers import clients
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code, props_as
from controller.handlers.ec2_security_group import authorize_all, permission, rule_key
from controller.model import kinds
from controller.model.props import Known, SgRules

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import FilterTypeDef, SecurityGroupRuleTypeDef

NO_INSTANCES = (
    "no container instances in cluster {cluster}: register instances or set "
    "spec.service.instanceSecurityGroupIds"
)


def _rule(r: SecurityGroupRuleTypeDef) -> dict[str, Any]:
    """A DescribeSecurityGroupRules entry as {groupId, protocol, fromPort, toPort, source}."""
    rule: dict[str, Any] = {
        "groupId": r["GroupId"],
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
    return rule


def _key(rule: dict[str, Any]) -> tuple[str, ...]:
    return (str(rule["groupId"]), *rule_key(rule))


def canonical(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules sorted by identity, descriptions dropped."""
    return sorted(({k: v for k, v in r.items() if k != "description"} for r in rules), key=_key)


def expand(ingress: Sequence[Mapping[str, Any]], groups: list[str]) -> list[dict[str, Any]]:
    """Every desired rule in every group, canonical."""
    return canonical([{"groupId": g, **r} for g in groups for r in ingress])


class SecurityGroupRulesHandler(Handler):
    """`ec2.sg_rules`: our tagged ingress rules in groups we do not own."""

    kind = kinds.EC2_SG_RULES
    client: EC2Client
    order = 35  # after our own security groups (the NLB's group is a source)
    service = "ec2"
    identity = ("cluster",)

    # -- reading ---------------------------------------------------------------------------
    def props_of(self, want: Desired) -> SgRules[Known]:
        """The desired props as `SgRules` (`controller.model.props`)."""
        return props_as(want, SgRules[Known])

    def groups(self, want: Desired) -> list[str]:
        """The spec's groups, or those of the cluster's container instances."""
        if self.props_of(want)["groupIds"]:
            return sorted(self.props_of(want)["groupIds"])
        ecs = clients.ecs(self.aws)
        cluster = self.props_of(want)["cluster"]
        arns: list[str] = []
        try:
            for page in ecs.get_paginator("list_container_instances").paginate(cluster=cluster):
                arns += page["containerInstanceArns"]
        except ClientError as exc:
            if error_code(exc) == "ClusterNotFoundException":
                return []
            raise
        instance_ids: set[str] = set()
        for i in range(0, len(arns), 100):
            described = ecs.describe_container_instances(
                cluster=cluster, containerInstances=arns[i : i + 100]
            )
            instance_ids |= {
                ci["ec2InstanceId"]
                for ci in described["containerInstances"]
                if ci.get("status") != "DEREGISTERING" and ci.get("ec2InstanceId")
            }
        if not instance_ids:
            return []
        groups: set[str] = set()
        pages = self.client.get_paginator("describe_instances").paginate(
            InstanceIds=sorted(instance_ids)
        )
        for batch in pages:
            for reservation in batch["Reservations"]:
                for instance in reservation["Instances"]:
                    if instance.get("State", {}).get("Name") in ("terminated", "shutting-down"):
                        continue
                    groups |= {g["GroupId"] for g in instance.get("SecurityGroups", [])}
        return sorted(groups)

    def _describe(self, filters: list[FilterTypeDef]) -> list[SecurityGroupRuleTypeDef]:
        out: list[SecurityGroupRuleTypeDef] = []
        pages = self.client.get_paginator("describe_security_group_rules").paginate(Filters=filters)
        for page in pages:
            out += [r for r in page["SecurityGroupRules"] if not r["IsEgress"]]
        return out

    def _ours(self, owner: str) -> list[SecurityGroupRuleTypeDef]:
        """Every ingress rule carrying `owner`'s tag, wherever it is."""
        return self._describe([{"Name": f"tag:{ownership.OWNER}", "Values": [owner]}])

    def observe(self, want: Desired) -> Observed | None:
        """Our tagged rules (and identical rules of others in the wanted groups)."""
        groups = self.groups(want)
        ours = self._ours(want.owner)
        held = {r["SecurityGroupRuleId"]: _rule(r) for r in ours}
        if groups:
            wanted = {_key(r) for r in expand(list(self.props_of(want)["ingress"]), groups)}
            for r in self._describe([{"Name": "group-id", "Values": groups}]):
                rule = _rule(r)
                if r["SecurityGroupRuleId"] not in held and _key(rule) in wanted:
                    held[r["SecurityGroupRuleId"]] = rule  # someone else's: satisfies ours
        pending = None if groups else NO_INSTANCES.format(cluster=self.props_of(want)["cluster"])
        if not held and pending is None:
            return None
        return self._observed(want.key, want.tags, groups, list(held.values()), pending)

    @staticmethod
    def _observed(
        key: str,
        tags: Any,
        groups: list[str],
        rules: list[dict[str, Any]],
        pending: str | None = None,
    ) -> Observed:
        ident = ",".join(groups) or "(no groups)"
        return Observed(
            key=key,
            id=ident,
            props={"groups": groups, "ingress": canonical(rules)},
            tags=dict(tags),  # the rules we manage are ours by construction (tagged)
            outputs={"id": ident, "groupIds": groups},
            pending=pending,
        )

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Our rules against every desired rule in every group; nothing while no group exists."""
        groups = have.props["groups"]
        if not groups:
            return []
        desired = expand(list(self.props_of(want)["ingress"]), groups)
        if desired != have.props["ingress"]:
            return [Delta("ingress", desired, have.props["ingress"])]
        return []

    # -- writing ---------------------------------------------------------------------------
    def create(self, want: Desired) -> Observed:
        """Authorize our rules in every group."""
        self._sync(want)
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Authorize the missing rules, revoke our extra ones (by rule id)."""
        del have, deltas
        self._sync(want)
        return self.reobserve(want)

    def _sync(self, want: Desired) -> None:
        groups = self.groups(want)
        if not groups:
            return  # observe reports it as pending
        wanted = {
            _key(r): r for g in groups for r in _with_group(self.props_of(want)["ingress"], g)
        }
        ours = self._ours(want.owner)
        extra: dict[str, list[str]] = defaultdict(list)
        for r in ours:
            if _key(_rule(r)) not in wanted:
                extra[r["GroupId"]].append(r["SecurityGroupRuleId"])
        present = {_key(_rule(r)) for r in self._describe([{"Name": "group-id", "Values": groups}])}
        for group_id, rule_ids in sorted(extra.items()):
            self.log_call("revoking rules", want, group=group_id, rule_ids=rule_ids)
            self._revoke(group_id, rule_ids)
        missing: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, rule in wanted.items():
            if key not in present:
                missing[rule["groupId"]].append(rule)
        for group_id, rules in sorted(missing.items()):
            self.log_call(
                "authorizing rules", want, group=group_id, rules=[rule_key(r) for r in rules]
            )
            authorize_all(
                self.client.authorize_security_group_ingress,
                group_id,
                [permission(r) for r in rules],
                TagSpecifications=[
                    {"ResourceType": "security-group-rule", "Tags": ownership.to_list(want.tags)}
                ],
            )

    def _revoke(self, group_id: str, rule_ids: list[str]) -> None:
        try:
            self.client.revoke_security_group_ingress(
                GroupId=group_id, SecurityGroupRuleIds=rule_ids
            )
        except ClientError as exc:
            if error_code(exc) not in ("InvalidGroup.NotFound", "InvalidPermission.NotFound"):
                raise

    def delete(self, have: Observed) -> None:
        """Revoke every rule carrying our owner tag; the groups and others' rules stay."""
        owner = have.tags.get(ownership.OWNER, "")
        if not owner:
            return
        by_group: dict[str, list[str]] = defaultdict(list)
        for r in self._ours(owner):
            by_group[r["GroupId"]].append(r["SecurityGroupRuleId"])
        for group_id, rule_ids in sorted(by_group.items()):
            self.log_call("revoking rules", have, group=group_id, rule_ids=rule_ids)
            self._revoke(group_id, rule_ids)

    def list_owned(self, owner: str) -> list[Observed]:
        """Our tagged rules, one resource per component tag (the stack key)."""
        by_component: dict[str, list[dict[str, Any]]] = defaultdict(list)
        tags_of: dict[str, dict[str, str]] = {}
        for r in self._ours(owner):
            tags = ownership.from_list(r.get("Tags"))
            component = tags.get(ownership.COMPONENT, self.kind)
            by_component[component].append(_rule(r))
            tags_of[component] = tags
        return [
            self._observed(
                component, tags_of[component], sorted({r["groupId"] for r in rules}), rules
            )
            for component, rules in by_component.items()
        ]


def _with_group(ingress: Any, group_id: str) -> list[dict[str, Any]]:
    return [{"groupId": group_id, **r} for r in ingress]
