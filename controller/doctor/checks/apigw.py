"""Doctor checks, family `apigw` (see `controller.doctor.checks`): the API Gateway hops of a
chain, from the custom domain to the VPC link and the NLB listener it reaches. Each check is a
pure function of `Facts` returning the findings of one code; `CHECKS` lists them in request
order. The checks live in `apigw_private` (domain, PRIVATE API), `apigw_stage` (stage, keys,
plans), `apigw_auth` (Lambda authorizers), `apigw_links` (VPC links) and `apigw_ports`
(listener ports), on the shared reading in `apigw_common`.
Neighbours: `controller.doctor.facts`, `controller.doctor.model`.
"""

from __future__ import annotations

from controller.doctor.checks import Check
from controller.doctor.checks.apigw_auth import (
    authorizer_not_invokable,
    authorizer_runtime_deprecated,
)
from controller.doctor.checks.apigw_links import vpc_link_not_available, vpc_link_wrong_target
from controller.doctor.checks.apigw_ports import listener_port_mismatch
from controller.doctor.checks.apigw_private import domain_mapping_missing, private_api_unreachable
from controller.doctor.checks.apigw_stage import (
    api_key_not_in_plan,
    no_plan_for_required_key,
    plan_not_on_stage,
    stage_stale,
)

CHECKS: tuple[Check, ...] = (
    domain_mapping_missing,
    private_api_unreachable,
    stage_stale,
    no_plan_for_required_key,
    plan_not_on_stage,
    api_key_not_in_plan,
    authorizer_not_invokable,
    authorizer_runtime_deprecated,
    vpc_link_not_available,
    vpc_link_wrong_target,
    listener_port_mismatch,
)
