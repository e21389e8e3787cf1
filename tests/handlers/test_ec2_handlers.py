"""EC2 handlers against the sandbox over HTTP: security groups (and `listed_rules`), our tagged
rules in others' groups, Elastic IPs and the execute-api VPC endpoint.

Per handler: absent is None, create then observe round-trips, drift made behind the handler's back
with a plain boto3 client is a Delta on the right path that update() puts back, a same-named
resource without our owner tag is not ours, delete is idempotent, list_owned is ours only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import context, desired

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import Desired
from controller.handlers.ec2_elastic_ip import ElasticIpHandler
from controller.handlers.ec2_security_group import SecurityGroupHandler, listed_rules, rule_key
from controller.handlers.ec2_sg_rules import NO_INSTANCES, SecurityGroupRulesHandler
from controller.handlers.ec2_vpc_endpoint import VpcEndpointHandler
from controller.model.common import ALL_TRAFFIC_EGRESS, tcp_from
from controller.model.load_balancer import eip_key

OWNER = "default/orders"
OTHER_OWNER = "default/payments"


def foreign_group(aws: Any, name: str, tags: dict[str, str] | None = None) -> str:
    """A security group made with a plain client (someone else's unless `tags` say otherwise)."""
    spec = [{"ResourceType": "security-group", "Tags": ownership.to_list(tags)}] if tags else []
    return str(
        aws.client("ec2").create_security_group(
            GroupName=name,
            Description=f"{name} group",
            VpcId=aws.network.vpc_id,
            TagSpecifications=spec,
        )["GroupId"]
    )


def perm(
    port: int | None, *, cidr: str | None = None, group: str | None = None, v6: str | None = None
) -> dict[str, Any]:
    """One EC2 IpPermission: TCP on `port` (None: all traffic) from a CIDR, group or IPv6 range."""
    out: dict[str, Any] = {"IpProtocol": "-1"}
    if port is not None:
        out = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if group is not None:
        out["UserIdGroupPairs"] = [{"GroupId": group}]
    elif v6 is not None:
        out["Ipv6Ranges"] = [{"CidrIpv6": v6}]
    else:
        out["IpRanges"] = [{"CidrIp": cidr}]
    return out


# -- security groups --------------------------------------------------------------------------


def sg_props(aws: Any, name: str = "ps-default-orders-nlb", **over: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"privateservice {OWNER}: NLB",
        "vpcId": aws.network.vpc_id,
        "ingress": [tcp_from(443, cidr=aws.network.cidr, why="listener from the VPC")],
        "egress": ALL_TRAFFIC_EGRESS,
    } | over


def sg_desired(props: dict[str, Any], owner: str = OWNER, key: str = "nlb-sg") -> Desired:
    return desired(key, "ec2.security_group", key, props, owner)


@pytest.fixture
def sg_handler(aws: Any) -> SecurityGroupHandler:
    return SecurityGroupHandler(context(aws))


def _by_identity(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rules, key=lambda r: (r["egress"], rule_key(r)))


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        pytest.param(
            perm(443, cidr="10.0.0.0/16"),
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidr": "10.0.0.0/16"},
            id="tcp from a CIDR",
        ),
        pytest.param(
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8081,
                "UserIdGroupPairs": [{"GroupId": "SOURCE"}],
            },
            {"protocol": "tcp", "fromPort": 8080, "toPort": 8081, "sourceGroup": "SOURCE"},
            id="tcp from a source group",
        ),
        pytest.param(
            perm(None, cidr="10.1.0.0/16"),
            {"protocol": "-1", "fromPort": -1, "toPort": -1, "cidr": "10.1.0.0/16"},
            id="all traffic -1",
        ),
        pytest.param(
            perm(443, v6="2001:db8::/32"),
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrv6": "2001:db8::/32"},
            id="tcp from an IPv6 range",
        ),
    ],
)
def test_listed_rules_match_describe_security_group_rules(
    aws: Any, sg_handler: SecurityGroupHandler, permission: dict[str, Any], expected: dict[str, Any]
) -> None:
    """`listed_rules` (from DescribeSecurityGroups' IpPermissions) yields exactly the rules that
    `SecurityGroupHandler._rules` (DescribeSecurityGroupRules) reads for the same group, ingress
    and the default egress alike."""
    ec2 = aws.client("ec2")
    group_id = foreign_group(aws, "listed")
    if "UserIdGroupPairs" in permission:
        source = foreign_group(aws, "listed-source")
        permission = permission | {"UserIdGroupPairs": [{"GroupId": source}]}
        expected = expected | {"sourceGroup": source}
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[permission])
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]

    listed = listed_rules(group)
    described = [rule for rule, _ in sg_handler._rules(group_id)]

    assert _by_identity(listed) == _by_identity(described)
    assert {"egress": False, **expected} in listed


@pytest.mark.parametrize(
    "vpc",
    [
        pytest.param("seeded", id="VPC known: the VPC's groups"),
        pytest.param("vpc-unknown", id="VPC not resolved yet: by group name"),
    ],
)
def test_security_group_absent_is_none(aws: Any, sg_handler: SecurityGroupHandler, vpc: str):
    """Observe finds nothing (None) when no group has our name, whether or not the VPC is known;
    a group of another name in the VPC is not taken for ours."""
    foreign_group(aws, "someone-elses")
    vpc_id = aws.network.vpc_id if vpc == "seeded" else vpc
    assert sg_handler.observe(sg_desired(sg_props(aws, vpcId=vpc_id))) is None


def test_security_group_round_trip(aws: Any, sg_handler: SecurityGroupHandler) -> None:
    """Create makes the group with our tags and rules (CIDR and source-group ingress, all-traffic
    egress); observing it again gives no delta, its id as output, and a retried create's rules
    are not authorized twice."""
    source = foreign_group(aws, "ps-default-orders-alb")
    props = sg_props(
        aws,
        ingress=[
            tcp_from(443, cidr=aws.network.cidr, why="listener from the VPC"),
            tcp_from(8080, group=source, why="from the ALB"),  # type: ignore[arg-type]
        ],
    )
    want = sg_desired(props)
    made = sg_handler.create(want)
    assert made.outputs == {"id": made.id}
    assert made.owned_by(OWNER)
    assert made.tags[ownership.COMPONENT] == "nlb-sg"

    have = sg_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert sg_handler.diff(want, have) == []
    assert [r.get("sourceGroup") for r in have.props["ingress"]].count(source) == 1


@pytest.mark.parametrize(
    ("direction", "drift", "path"),
    [
        pytest.param(
            "ingress",
            perm(22, cidr="0.0.0.0/0"),
            "ingress",
            id="extra ingress 0.0.0.0/0 is revoked",
        ),
        pytest.param(
            "ingress",
            perm(None, cidr="0.0.0.0/0"),
            "ingress",
            id="extra all-traffic ingress is revoked",
        ),
        pytest.param(
            "egress",
            perm(25, cidr="192.0.2.0/24"),
            "egress",
            id="extra egress is revoked",
        ),
        pytest.param(
            "revoke-ours",
            perm(443, cidr="10.0.0.0/16"),
            "ingress",
            id="our ingress removed is authorized again",
        ),
        pytest.param(
            "revoke-egress",
            perm(None, cidr="0.0.0.0/0"),
            "egress",
            id="our egress removed is authorized again",
        ),
    ],
)
def test_security_group_drift_is_put_back(
    aws: Any, sg_handler: SecurityGroupHandler, direction: str, drift: dict[str, Any], path: str
) -> None:
    """A rule added or removed with a plain client shows as a Delta on `ingress`/`egress`
    (nothing else), and update() revokes the extra rule or authorizes the missing one."""
    want = sg_desired(sg_props(aws, ingress=[tcp_from(443, cidr="10.0.0.0/16", why="VPC")]))
    have = sg_handler.create(want)
    ec2 = aws.client("ec2")
    call = {
        "ingress": ec2.authorize_security_group_ingress,
        "egress": ec2.authorize_security_group_egress,
        "revoke-ours": ec2.revoke_security_group_ingress,
        "revoke-egress": ec2.revoke_security_group_egress,
    }[direction]
    call(GroupId=have.id, IpPermissions=[drift])

    drifted = sg_handler.observe(want)
    assert drifted is not None
    deltas = sg_handler.diff(want, drifted)
    assert [d.path for d in deltas] == [path]
    assert not sg_handler.requires_replacement(deltas)

    fixed = sg_handler.update(want, drifted, deltas)
    assert sg_handler.diff(want, fixed) == []
    assert fixed.id == have.id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("description", "another description", id="description"),
        pytest.param("name", "ps-default-orders-nlb2", id="name"),
    ],
)
def test_security_group_immutable_fields_need_replacement(
    aws: Any, sg_handler: SecurityGroupHandler, field: str, value: str
) -> None:
    """A changed description or name is a delta that requires replacement (no in-place API)."""
    want = sg_desired(sg_props(aws))
    have = sg_handler.create(want)
    deltas = sg_handler.diff(sg_desired(sg_props(aws, **{field: value})), have)
    assert [d.path for d in deltas] == [field]
    assert sg_handler.requires_replacement(deltas)


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(None, id="untagged"),
        pytest.param(ownership.owner_tags(OTHER_OWNER, "nlb-sg", {}), id="another owner's"),
    ],
)
def test_security_group_at_our_name_not_ours(
    aws: Any, sg_handler: SecurityGroupHandler, tags: dict[str, str] | None
) -> None:
    """A group at our name without our owner tag is observed but not owned, and list_owned
    leaves it out."""
    group_id = foreign_group(aws, "ps-default-orders-nlb", tags)
    have = sg_handler.observe(sg_desired(sg_props(aws)))
    assert have is not None
    assert have.id == group_id
    assert not have.owned_by(OWNER)
    assert sg_handler.list_owned(OWNER) == []


def test_security_group_list_owned_and_delete(aws: Any, sg_handler: SecurityGroupHandler) -> None:
    """list_owned finds only groups with our owner tag, keyed by their component; delete removes
    one and a second delete of it is still success."""
    nlb = sg_handler.create(sg_desired(sg_props(aws)))
    task = sg_handler.create(
        sg_desired(sg_props(aws, name="ps-default-orders-task"), key="task-sg")
    )
    sg_handler.create(sg_desired(sg_props(aws, name="ps-default-payments-nlb"), owner=OTHER_OWNER))
    foreign_group(aws, "untagged")

    owned = sg_handler.list_owned(OWNER)
    assert sorted((o.key, o.id) for o in owned) == sorted(
        [("nlb-sg", nlb.id), ("task-sg", task.id)]
    )

    sg_handler.delete(nlb)
    assert sg_handler.observe(sg_desired(sg_props(aws))) is None
    sg_handler.delete(nlb)  # twice is fine
    assert [o.key for o in sg_handler.list_owned(OWNER)] == ["task-sg"]


def test_security_group_in_use_is_a_wait(aws: Any, sg_handler: SecurityGroupHandler) -> None:
    """Deleting a group another group's rule references is a TemporaryError (a wait), not a
    failure, and the group stays."""
    have = sg_handler.create(sg_desired(sg_props(aws)))
    other = foreign_group(aws, "referrer")
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=other,
        IpPermissions=[perm(80, group=have.id)],
    )
    with pytest.raises(TemporaryError, match="still in use"):
        sg_handler.delete(have)
    assert sg_handler.observe(sg_desired(sg_props(aws))) is not None


# -- our rules in others' groups (ec2.sg_rules) -----------------------------------------------


@pytest.fixture
def rules_handler(aws: Any) -> SecurityGroupRulesHandler:
    return SecurityGroupRulesHandler(context(aws))


def rules_desired(groups: list[str], ingress: list[dict[str, Any]], owner: str = OWNER) -> Desired:
    props = {"cluster": "ps-cluster", "groupIds": groups, "ingress": ingress}
    return desired("instance-sg-rules", "ec2.sg_rules", "instance-sg-rules", props, owner)


def host_rules(aws: Any, port: int = 8080) -> list[dict[str, Any]]:
    return [tcp_from(port, cidr=aws.network.cidr, why=f"{OWNER}: traffic through the NLB")]


def ingress_of(aws: Any, group_id: str) -> list[tuple[Any, ...]]:
    """The group's ingress rules as (protocol, from, to, cidr or group, tagged with our owner)."""
    rules = aws.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}]
    )["SecurityGroupRules"]
    return sorted(
        (
            r["IpProtocol"],
            r.get("FromPort"),
            r.get("ToPort"),
            r.get("CidrIpv4") or r.get("ReferencedGroupInfo", {}).get("GroupId"),
            ownership.from_list(r.get("Tags")).get(ownership.OWNER) == OWNER,
        )
        for r in rules
        if not r["IsEgress"]
    )


@pytest.mark.parametrize(
    "groups",
    [
        pytest.param("given", id="groups given, none of our rules yet"),
    ],
)
def test_sg_rules_absent_is_none(
    aws: Any, rules_handler: SecurityGroupRulesHandler, groups: str
) -> None:
    """With the groups known and no rule of ours in them, observe is None (create is due); a
    different rule of someone else's in the group does not count."""
    group = foreign_group(aws, "instances")
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[perm(22, cidr="0.0.0.0/0")],
    )
    assert rules_handler.observe(rules_desired([group], host_rules(aws))) is None


@pytest.mark.parametrize(
    "cluster",
    [
        pytest.param(None, id="cluster does not exist"),
        pytest.param("ps-cluster", id="cluster without container instances"),
    ],
)
def test_sg_rules_without_groups_are_pending(
    aws: Any, rules_handler: SecurityGroupRulesHandler, cluster: str | None
) -> None:
    """With no groups given and no container instance to take them from, observe reports a
    pending resource saying what to do, diff is empty and create authorizes nothing."""
    if cluster:
        aws.client("ecs").create_cluster(clusterName=cluster)
    want = rules_desired([], host_rules(aws))
    have = rules_handler.observe(want)
    assert have is not None
    assert have.pending == NO_INSTANCES.format(cluster="ps-cluster")
    assert rules_handler.diff(want, have) == []
    assert rules_handler.create(want).pending is not None


@pytest.mark.parametrize(
    ("instances", "terminated"),
    [
        pytest.param(1, 0, id="one container instance"),
        pytest.param(2, 1, id="a terminated instance's group is left out"),
    ],
)
def test_sg_rules_groups_from_container_instances(
    aws: Any, rules_handler: SecurityGroupRulesHandler, instances: int, terminated: int
) -> None:
    """With no groups given, the groups are those of the cluster's running container instances
    (ListContainerInstances -> DescribeContainerInstances -> DescribeInstances): create puts our
    rule in each, and observe round-trips with them as outputs."""
    ecs, ec2 = aws.client("ecs"), aws.client("ec2")
    ecs.create_cluster(clusterName="ps-cluster")
    groups = []
    for i in range(instances):
        group = foreign_group(aws, f"hosts-{i}")
        instance = ec2.run_instances(
            ImageId="ami-0ecs0000000000000",
            MinCount=1,
            MaxCount=1,
            SubnetId=aws.network.private_subnet_ids[0],
            SecurityGroupIds=[group],
        )["Instances"][0]["InstanceId"]
        ecs.register_container_instance(
            cluster="ps-cluster", instanceIdentityDocument=json.dumps({"instanceId": instance})
        )
        if i < instances - terminated:
            groups.append(group)
        else:
            ec2.terminate_instances(InstanceIds=[instance])
    want = rules_desired([], host_rules(aws))
    assert rules_handler.groups(want) == sorted(groups)
    made = rules_handler.create(want)
    assert made.pending is None
    assert made.outputs["groupIds"] == sorted(groups)
    assert rules_handler.diff(want, made) == []
    for group in groups:
        assert ingress_of(aws, group) == [("tcp", 8080, 8080, aws.network.cidr, True)]


def test_sg_rules_round_trip(aws: Any, rules_handler: SecurityGroupRulesHandler) -> None:
    """Create authorizes every wanted rule in every group, tagged with our owner; observe then
    shows no delta and reports the groups as outputs."""
    groups = sorted([foreign_group(aws, "instances-a"), foreign_group(aws, "instances-b")])
    nlb_sg = foreign_group(aws, "ps-default-orders-nlb")
    ingress = [
        *host_rules(aws),
        tcp_from(8080, group=nlb_sg, why="health checks"),  # type: ignore[arg-type]
    ]
    want = rules_desired(groups, ingress)
    made = rules_handler.create(want)
    assert made.outputs == {"id": ",".join(groups), "groupIds": groups}
    assert made.owned_by(OWNER)
    assert rules_handler.diff(want, made) == []
    for group in groups:
        assert ("tcp", 8080, 8080, aws.network.cidr, True) in ingress_of(aws, group)

    have = rules_handler.observe(want)
    assert have is not None
    assert rules_handler.diff(want, have) == []
    assert len(have.props["ingress"]) == 4


@pytest.mark.parametrize(
    ("drift", "delta"),
    [
        pytest.param("revoke ours", True, id="our rule revoked behind our back: authorized again"),
        pytest.param("foreign extra", False, id="someone else's extra rule: not drift, left alone"),
    ],
)
def test_sg_rules_drift(
    aws: Any, rules_handler: SecurityGroupRulesHandler, drift: str, delta: bool
) -> None:
    """Only our tagged rules are managed: one of ours revoked behind our back is an `ingress`
    delta that update authorizes again; a rule someone else adds to the group is neither a delta
    nor revoked."""
    group = foreign_group(aws, "instances")
    want = rules_desired([group], [*host_rules(aws, 8080), *host_rules(aws, 8443)])
    rules_handler.create(want)
    ec2 = aws.client("ec2")
    if drift == "revoke ours":
        ec2.revoke_security_group_ingress(
            GroupId=group,
            IpPermissions=[perm(8080, cidr=aws.network.cidr)],
        )
    else:
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[perm(22, cidr="0.0.0.0/0")],
        )
    before = ingress_of(aws, group)

    have = rules_handler.observe(want)
    assert have is not None
    deltas = rules_handler.diff(want, have)
    assert [d.path for d in deltas] == (["ingress"] if delta else [])
    fixed = rules_handler.update(want, have, deltas)
    assert rules_handler.diff(want, fixed) == []
    after = ingress_of(aws, group)
    assert ("tcp", 8080, 8080, aws.network.cidr, True) in after
    if not delta:
        assert after == before  # the foreign rule stays


def test_sg_rules_all_ours_revoked_is_absent(
    aws: Any, rules_handler: SecurityGroupRulesHandler
) -> None:
    """When every rule of ours is gone from the groups, observe is None (create is due) and
    create puts them back, tagged."""
    group = foreign_group(aws, "instances")
    want = rules_desired([group], host_rules(aws))
    rules_handler.create(want)
    aws.client("ec2").revoke_security_group_ingress(
        GroupId=group,
        IpPermissions=[perm(8080, cidr=aws.network.cidr)],
    )
    assert rules_handler.observe(want) is None
    rules_handler.create(want)
    assert ingress_of(aws, group) == [("tcp", 8080, 8080, aws.network.cidr, True)]


def test_sg_rules_changed_port_revokes_only_ours(
    aws: Any, rules_handler: SecurityGroupRulesHandler
) -> None:
    """A new host port authorizes the new rule and revokes our old one, never the identical
    rule of someone else's."""
    group = foreign_group(aws, "instances")
    rules_handler.create(rules_desired([group], host_rules(aws, 8080)))
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[perm(22, cidr=aws.network.cidr)],
    )
    want = rules_desired([group], host_rules(aws, 9090))
    have = rules_handler.observe(want)
    assert have is not None
    deltas = rules_handler.diff(want, have)
    assert [d.path for d in deltas] == ["ingress"]
    fixed = rules_handler.update(want, have, deltas)
    assert rules_handler.diff(want, fixed) == []
    assert ingress_of(aws, group) == [
        ("tcp", 22, 22, aws.network.cidr, False),
        ("tcp", 9090, 9090, aws.network.cidr, True),
    ]


def test_sg_rules_someone_elses_identical_rule_satisfies_ours(
    aws: Any, rules_handler: SecurityGroupRulesHandler
) -> None:
    """An identical untagged rule already in the group counts as ours for the diff, create does
    not duplicate it, and delete leaves it (it is not ours to revoke)."""
    group = foreign_group(aws, "instances")
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[perm(8080, cidr=aws.network.cidr)],
    )
    want = rules_desired([group], host_rules(aws))
    have = rules_handler.observe(want)
    assert have is not None
    assert rules_handler.diff(want, have) == []
    rules_handler.create(want)
    assert ingress_of(aws, group) == [("tcp", 8080, 8080, aws.network.cidr, False)]
    rules_handler.delete(have)
    assert ingress_of(aws, group) == [("tcp", 8080, 8080, aws.network.cidr, False)]


def test_sg_rules_list_owned_and_delete(aws: Any, rules_handler: SecurityGroupRulesHandler) -> None:
    """list_owned finds only rules tagged with our owner (keyed by component); delete revokes
    those, leaves another owner's and the group, and a second delete is still success."""
    group = foreign_group(aws, "instances")
    want = rules_desired([group], host_rules(aws))
    have = rules_handler.create(want)
    rules_handler.create(rules_desired([group], host_rules(aws, 9090), owner=OTHER_OWNER))

    owned = rules_handler.list_owned(OWNER)
    assert [(o.key, o.props["groups"]) for o in owned] == [("instance-sg-rules", [group])]
    assert [r["fromPort"] for r in owned[0].props["ingress"]] == [8080]

    rules_handler.delete(have)
    rules_handler.delete(have)  # twice is fine
    assert rules_handler.observe(want) is None
    assert rules_handler.list_owned(OWNER) == []
    assert ingress_of(aws, group) == [("tcp", 9090, 9090, aws.network.cidr, False)]


# -- Elastic IPs ------------------------------------------------------------------------------


@pytest.fixture
def eip_handler(aws: Any) -> ElasticIpHandler:
    return ElasticIpHandler(context(aws))


def eip_desired(aws: Any, index: int = 0, owner: str = OWNER) -> Desired:
    subnet = aws.network.public_subnet_ids[index]
    props = {"name": f"ps-default-orders-eip-{subnet}"}
    return desired(eip_key(subnet), "ec2.elastic_ip", "nlb-eip", props, owner)


def test_eip_absent_is_none(aws: Any, eip_handler: ElasticIpHandler) -> None:
    """No address carries our Name tag: None (an address of another name is not ours)."""
    aws.client("ec2").allocate_address(
        Domain="vpc",
        TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "x"}]}],
    )
    assert eip_handler.observe(eip_desired(aws)) is None


def test_eip_round_trip(aws: Any, eip_handler: ElasticIpHandler) -> None:
    """Allocate carries our tags and Name; observe round-trips with no delta and outputs the
    allocation id and public IP."""
    want = eip_desired(aws)
    made = eip_handler.create(want)
    assert made.owned_by(OWNER)
    assert made.outputs["id"] == made.id
    assert made.outputs["publicIp"]
    have = eip_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert eip_handler.diff(want, have) == []


def test_a_retried_eip_create_allocates_nothing_more(aws: Any, eip_handler: ElasticIpHandler):
    """create looks up first: a retry (a pass after a crash) returns the address made before
    instead of allocating a second one under the same key, which the sweep would never release."""
    want = eip_desired(aws)
    before = len(aws.client("ec2").describe_addresses()["Addresses"])  # the seeded NAT's
    first = eip_handler.create(want)
    again = eip_handler.create(want)
    assert again.id == first.id
    assert len(aws.client("ec2").describe_addresses()["Addresses"]) == before + 1


def test_a_retried_security_group_create_returns_the_group(
    aws: Any, sg_handler: SecurityGroupHandler
) -> None:
    """create looks up first: a retry returns the group made before (with its rules) instead of
    failing with InvalidGroup.Duplicate."""
    want = sg_desired(sg_props(aws, ingress=[tcp_from(443, cidr=aws.network.cidr, why="x")]))
    first = sg_handler.create(want)
    again = sg_handler.create(want)
    assert again.id == first.id
    assert sg_handler.diff(want, again) == []


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        pytest.param("team", "other", "tags.team", id="spec tag changed"),
        pytest.param(ownership.COMPONENT, "x", f"tags.{ownership.COMPONENT}", id="component"),
        pytest.param("Name", "renamed", None, id="Name changed: no longer found"),
    ],
)
def test_eip_tag_drift_is_put_back(
    aws: Any, eip_handler: ElasticIpHandler, key: str, value: str, path: str | None
) -> None:
    """A tag of ours changed with a plain client is a `tags.<key>` delta that update puts back
    with CreateTags, leaving extra tags alone; a changed Name loses the address (None)."""
    want = eip_desired(aws)
    have = eip_handler.create(want)
    ec2 = aws.client("ec2")
    ec2.create_tags(
        Resources=[have.id], Tags=[{"Key": key, "Value": value}, {"Key": "x", "Value": "y"}]
    )
    drifted = eip_handler.observe(want)
    if path is None:
        assert drifted is None
        return
    assert drifted is not None
    deltas = eip_handler.diff(want, drifted)
    assert [d.path for d in deltas] == [path]
    fixed = eip_handler.update(want, drifted, deltas)
    assert eip_handler.diff(want, fixed) == []
    assert fixed.tags["x"] == "y"


def test_eip_same_name_not_ours(aws: Any, eip_handler: ElasticIpHandler) -> None:
    """An address with our Name but no owner tag is observed as not owned and is not listed;
    once one of ours exists too, observe prefers ours."""
    want = eip_desired(aws)
    ec2 = aws.client("ec2")
    ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": want.props["name"]}]}
        ],
    )
    foreign = eip_handler.observe(want)
    assert foreign is not None
    assert not foreign.owned_by(OWNER)
    assert eip_handler.list_owned(OWNER) == []

    mine = eip_handler.create(want)
    have = eip_handler.observe(want)
    assert have is not None
    assert have.id == mine.id
    assert have.id != foreign.id


def test_eip_list_owned_and_delete(aws: Any, eip_handler: ElasticIpHandler) -> None:
    """list_owned finds only our addresses, keyed `nlb-eip/<subnet>` from the Name tag; release
    is idempotent."""
    first, second = eip_desired(aws, 0), eip_desired(aws, 1)
    a, b = eip_handler.create(first), eip_handler.create(second)
    eip_handler.create(eip_desired(aws, 2, owner=OTHER_OWNER))

    owned = eip_handler.list_owned(OWNER)
    assert sorted((o.key, o.id) for o in owned) == sorted([(first.key, a.id), (second.key, b.id)])

    eip_handler.delete(a)
    eip_handler.delete(a)  # twice is fine
    assert eip_handler.observe(first) is None
    assert [o.key for o in eip_handler.list_owned(OWNER)] == [second.key]


# -- the execute-api VPC endpoint -------------------------------------------------------------


@pytest.fixture
def vpce_handler(aws: Any) -> VpcEndpointHandler:
    return VpcEndpointHandler(context(aws))


def vpce_desired(aws: Any, group: str, owner: str = OWNER, **over: Any) -> Desired:
    props = {
        "vpcId": aws.network.vpc_id,
        "service": "execute-api",
        "subnetIds": sorted(aws.network.private_subnet_ids),
        "securityGroupIds": [group],
        "privateDnsEnabled": True,
    } | over
    return desired("vpc-endpoint", "ec2.vpc_endpoint", "vpc-endpoint", props, owner)


@pytest.fixture
def vpce_group(aws: Any) -> str:
    return foreign_group(aws, "ps-default-orders-vpce")


def test_vpce_absent_is_none(aws: Any, vpce_handler: VpcEndpointHandler, vpce_group: str) -> None:
    """No execute-api endpoint in the VPC: None; an endpoint for another service (or in another
    VPC) does not count."""
    aws.client("ec2").create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=aws.network.vpc_id,
        ServiceName=f"com.amazonaws.{aws.region}.sqs",
        SubnetIds=list(aws.network.private_subnet_ids[:1]),
    )
    assert vpce_handler.observe(vpce_desired(aws, vpce_group)) is None


def test_vpce_round_trip(aws: Any, vpce_handler: VpcEndpointHandler, vpce_group: str) -> None:
    """Create makes an interface endpoint with our tags; observe round-trips with no delta, and
    a retried create returns the same endpoint instead of a second one."""
    want = vpce_desired(aws, vpce_group)
    made = vpce_handler.create(want)
    assert made.owned_by(OWNER)
    assert made.outputs["ids"] == [made.id]
    have = vpce_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert vpce_handler.diff(want, have) == []
    assert vpce_handler.create(want).id == made.id


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param({"RemoveSubnetIds": "first subnet"}, "subnetIds", id="subnet removed"),
        pytest.param({"PrivateDnsEnabled": False}, "privateDnsEnabled", id="private DNS off"),
        pytest.param({"AddSecurityGroupIds": "extra group"}, "securityGroupIds", id="group added"),
    ],
)
def test_vpce_drift_is_put_back(
    aws: Any,
    vpce_handler: VpcEndpointHandler,
    vpce_group: str,
    change: dict[str, Any],
    path: str,
) -> None:
    """A ModifyVpcEndpoint made with a plain client is a delta on the changed prop that update
    reverses with ModifyVpcEndpoint (no replacement)."""
    want = vpce_desired(aws, vpce_group)
    have = vpce_handler.create(want)
    args = dict(change)
    if "RemoveSubnetIds" in args:
        args["RemoveSubnetIds"] = [aws.network.private_subnet_ids[0]]
    if "AddSecurityGroupIds" in args:
        args["AddSecurityGroupIds"] = [foreign_group(aws, "extra")]
    aws.client("ec2").modify_vpc_endpoint(VpcEndpointId=have.id, **args)

    drifted = vpce_handler.observe(want)
    assert drifted is not None
    deltas = vpce_handler.diff(want, drifted)
    assert [d.path for d in deltas] == [path]
    assert not vpce_handler.requires_replacement(deltas)
    fixed = vpce_handler.update(want, drifted, deltas)
    assert vpce_handler.diff(want, fixed) == []


def test_vpce_someone_elses_is_used_not_owned(
    aws: Any, vpce_handler: VpcEndpointHandler, vpce_group: str
) -> None:
    """An untagged execute-api endpoint already in the VPC is observed (shared) but not owned,
    create returns it rather than making a second one, and list_owned leaves it out."""
    theirs = aws.client("ec2").create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=aws.network.vpc_id,
        ServiceName=f"com.amazonaws.{aws.region}.execute-api",
        SubnetIds=list(aws.network.private_subnet_ids[:1]),
    )["VpcEndpoint"]["VpcEndpointId"]
    want = vpce_desired(aws, vpce_group)
    have = vpce_handler.observe(want)
    assert have is not None
    assert have.id == theirs
    assert not have.owned_by(OWNER)
    assert vpce_handler.create(want).id == theirs
    assert vpce_handler.list_owned(OWNER) == []


def test_vpce_list_owned_and_delete(
    aws: Any, vpce_handler: VpcEndpointHandler, vpce_group: str
) -> None:
    """list_owned finds only endpoints with our owner tag; delete is idempotent."""
    want = vpce_desired(aws, vpce_group)
    have = vpce_handler.create(want)
    aws.client("ec2").create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=aws.network.other_vpc_id,
        ServiceName=f"com.amazonaws.{aws.region}.execute-api",
        TagSpecifications=[
            {
                "ResourceType": "vpc-endpoint",
                "Tags": ownership.to_list(ownership.owner_tags(OTHER_OWNER, "vpc-endpoint", {})),
            }
        ],
    )
    owned = vpce_handler.list_owned(OWNER)
    assert [(o.key, o.id, o.props["service"]) for o in owned] == [
        ("vpc-endpoint", have.id, "execute-api")
    ]
    vpce_handler.delete(have)
    vpce_handler.delete(have)  # twice is fine
    assert vpce_handler.observe(want) is None
    assert vpce_handler.list_owned(OWNER) == []
