"""Doctor checks, family `network` (see `controller.doctor.checks`): security groups, network
ACLs, routes and endpoints between the load balancers and the tasks. Each check is a pure
function of `Facts` that returns the findings of one code; this module only orders them (request
order: the NLB's own group, the ALB, the targets, the subnets' ACLs, then the tasks' routes).

The checks live in `network_lb` (load balancer groups), `network_targets` (targets' groups),
`network_nacl` (network ACLs) and `network_routes` (public IPs, image pulls); they reason through
`network_reach` (security groups, ACLs, route tables as AWS evaluates them) and `network_chain`
(who sends to whom, from which addresses). Neighbours: `controller.doctor.facts`,
`controller.doctor.model`.
"""

from __future__ import annotations

from controller.doctor.checks import Check
from controller.doctor.checks.network_lb import (
    alb_blocks_nlb,
    lb_egress_blocked,
    nlb_sg_blocks_listener,
    privatelink_enforced,
)
from controller.doctor.checks.network_nacl import nacl_blocks
from controller.doctor.checks.network_routes import no_route_to_ecr, public_ip_on_tasks
from controller.doctor.checks.network_targets import (
    health_check_blocked,
    host_port_blocked,
    traffic_blocked,
)

CHECKS: tuple[Check, ...] = (
    privatelink_enforced,
    nlb_sg_blocks_listener,
    alb_blocks_nlb,
    lb_egress_blocked,
    health_check_blocked,
    traffic_blocked,
    host_port_blocked,
    nacl_blocks,
    no_route_to_ecr,
    public_ip_on_tasks,
)
