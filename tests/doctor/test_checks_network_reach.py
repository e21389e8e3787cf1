"""The reachability helper on its own: security group verdicts (reference, CIDR union, prefix
lists, unread groups), network ACL verdicts (rule order, split allows, the `*` rule), and the
route table a subnet uses."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

import pytest
from network_shapes import acl_entry, group, healthy, tcp

from controller.doctor.checks.network_reach import (
    EPHEMERAL,
    Peer,
    acl_verdict,
    covered,
    route_table_of,
    sg_verdict,
)

NODES = Peer("the NLB", ("sg-nlb",), (IPv4Network("10.0.1.0/24"), IPv4Network("10.0.2.0/24")))
NO_GROUP_NODES = Peer("the NLB", (), NODES.networks)


@pytest.mark.parametrize(
    ("rules", "peer", "expected"),
    [
        pytest.param([tcp(8000, group="sg-nlb")], NODES, "allow", id="group-reference"),
        pytest.param([tcp(8000, group="sg-nlb")], NO_GROUP_NODES, "deny", id="reference-no-group"),
        pytest.param([tcp(8000, cidr="10.0.0.0/16")], NO_GROUP_NODES, "allow", id="vpc-cidr"),
        pytest.param(
            [tcp(8000, cidr="10.0.1.0/24"), tcp(8000, cidr="10.0.2.0/24")],
            NO_GROUP_NODES,
            "allow",
            id="union-of-subnet-cidrs",
        ),
        pytest.param([tcp(8000, cidr="10.0.1.0/24")], NO_GROUP_NODES, "deny", id="one-subnet-only"),
        pytest.param([tcp(8001, cidr="10.0.0.0/16")], NODES, "deny", id="other-port"),
        pytest.param(
            [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            NODES,
            "allow",
            id="all-traffic",
        ),
        pytest.param(
            [
                {
                    "IpProtocol": "udp",
                    "FromPort": 8000,
                    "ToPort": 8000,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
            NODES,
            "deny",
            id="udp-is-not-tcp",
        ),
        pytest.param(
            [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 0,
                    "ToPort": 65535,
                    "PrefixListIds": [{"PrefixListId": "pl-1"}],
                }
            ],
            NO_GROUP_NODES,
            "unknown",
            id="prefix-list",
        ),
        pytest.param([], Peer("?", (), None), "unknown", id="peer-addresses-unknown"),
    ],
)
def test_security_group_verdict(rules: list[dict[str, Any]], peer: Peer, expected: str) -> None:
    """A group admits a peer by reference to a group it carries or by CIDRs covering all of its
    addresses; a prefix list or unknown addresses leave it unknown."""
    facts = healthy()
    facts.security_groups["sg-x"] = group("sg-x", rules)
    assert sg_verdict(facts, ["sg-x"], 8000, peer) == expected


def test_unread_group_is_unknown_and_union_spans_groups() -> None:
    """An interface's groups are a union; a group doctor did not read is unknown, not closed."""
    facts = healthy()
    facts.security_groups["sg-x"] = group("sg-x", [tcp(8000, cidr="10.0.1.0/24")])
    facts.security_groups["sg-y"] = group("sg-y", [tcp(8000, cidr="10.0.2.0/24")])
    assert sg_verdict(facts, ["sg-x", "sg-y"], 8000, NO_GROUP_NODES) == "allow"
    assert sg_verdict(facts, ["sg-x", "sg-missing"], 8000, NO_GROUP_NODES) == "unknown"


def test_covered_needs_every_address() -> None:
    """A network is covered only when the union of the CIDRs holds all of it."""
    halves = [IPv4Network("10.0.0.0/17"), IPv4Network("10.0.128.0/17")]
    assert covered([IPv4Network("10.0.0.0/16")], halves)
    assert not covered([IPv4Network("10.0.0.0/16")], halves[:1])


def _acl(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "NetworkAclId": "acl-x",
        "Entries": [
            *entries,
            acl_entry(32767, "deny", egress=False),
            acl_entry(32767, "deny", egress=True),
        ],
    }


SUBNETS = [IPv4Network("10.0.1.0/24"), IPv4Network("10.0.2.0/24")]


@pytest.mark.parametrize(
    ("acl", "expected", "rule"),
    [
        pytest.param(_acl(acl_entry(100, "allow", egress=True)), "allow", None, id="allow-all"),
        pytest.param(_acl(), "deny", 32767, id="only-the-star-rule"),
        pytest.param(
            _acl(
                acl_entry(100, "allow", egress=True, ports=(1024, 30000)),
                acl_entry(110, "allow", egress=True, ports=(30001, 65535)),
            ),
            "allow",
            None,
            id="ephemeral-range-split-over-two-rules",
        ),
        pytest.param(
            _acl(
                acl_entry(90, "deny", egress=True, cidr="10.0.2.0/24"),
                acl_entry(100, "allow", egress=True),
            ),
            "deny",
            90,
            id="lower-numbered-deny-wins",
        ),
        pytest.param(
            _acl(
                acl_entry(100, "allow", egress=True),
                acl_entry(110, "deny", egress=True, cidr="10.0.2.0/24"),
            ),
            "allow",
            None,
            id="deny-after-allow-never-reached",
        ),
        pytest.param(
            _acl(acl_entry(100, "allow", egress=False)),
            "deny",
            32767,
            id="inbound-rule-is-not-outbound",
        ),
    ],
)
def test_acl_verdict(acl: dict[str, Any], expected: str, rule: int | None) -> None:
    """Entries of the right direction in rule-number order, first match decides, `*` denies."""
    verdict = acl_verdict(acl, egress=True, ports=EPHEMERAL, peer=SUBNETS)
    assert verdict.verdict == expected
    assert (verdict.entry or {}).get("RuleNumber") == rule


def test_subnet_without_association_uses_main_table() -> None:
    """A subnet with no explicit association routes through its VPC's main table."""
    facts = healthy()
    assert route_table_of(facts, "subnet-a")["RouteTableId"] == "rtb-private"  # type: ignore[index]
    facts.route_tables[1]["Associations"] = []
    assert route_table_of(facts, "subnet-a")["RouteTableId"] == "rtb-main"  # type: ignore[index]
