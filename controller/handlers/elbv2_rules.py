"""The ALB listener's rules, managed as one set: `{listenerArn, rules: [{priority, pathPattern,
targetGroupArn}]}`, each rule tagged with our owner and component.

Ours are found by tag among the listener's rules; rules someone else added are reported
(`Observed.foreign`), never touched. Converging is one step per aspect: rules we no longer want
are deleted, rules whose priority moved get theirs back in one SetRulePriorities, rules whose
path or target differ are modified, missing ones created.
Neighbours: `controller.handlers.base`, `controller.handlers.elbv2_listener` (the listener).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    error_code,
    props_as,
    tolerating,
)
from controller.handlers.elbv2_reads import tags_of
from controller.model import kinds
from controller.model.props import Known, ListenerRules

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client
    from types_boto3_elbv2.type_defs import (
        ActionOutputTypeDef,
        ActionTypeDef,
        DescribeRulesInputTypeDef,
        RuleConditionOutputTypeDef,
        RuleConditionTypeDef,
        RuleTypeDef,
    )

Rule = dict[str, Any]


def _path_pattern(conditions: list[RuleConditionOutputTypeDef]) -> str:
    """The one path pattern of a rule; anything else reads as a description that never matches."""
    if len(conditions) == 1 and conditions[0].get("Field") == "path-pattern":
        cond = conditions[0]
        values = (cond.get("PathPatternConfig") or {}).get("Values") or cond.get("Values") or []
        if len(values) == 1:
            return str(values[0])
    return repr(conditions)


def _target(actions: list[ActionOutputTypeDef]) -> str | None:
    """The one target group a rule forwards to."""
    forward = [a for a in actions if a.get("Type") == "forward"]
    if len(forward) != 1 or len(actions) != 1:
        return repr(actions)
    if forward[0].get("TargetGroupArn"):
        return str(forward[0]["TargetGroupArn"])
    groups = (forward[0].get("ForwardConfig") or {}).get("TargetGroups") or []
    return str(groups[0]["TargetGroupArn"]) if len(groups) == 1 else repr(actions)


def rule_props(rule: RuleTypeDef) -> Rule:
    """A DescribeRules entry in the desired shape."""
    return {
        "priority": int(rule["Priority"]),
        "pathPattern": _path_pattern(rule.get("Conditions", [])),
        "targetGroupArn": _target(rule.get("Actions", [])),
    }


def _conditions(rule: Rule) -> list[RuleConditionTypeDef]:
    return [{"Field": "path-pattern", "PathPatternConfig": {"Values": [rule["pathPattern"]]}}]


def _actions(rule: Rule) -> list[ActionTypeDef]:
    return [{"Type": "forward", "TargetGroupArn": rule["targetGroupArn"]}]


class ListenerRulesHandler(Handler):
    """ELBv2 listener rules (path patterns and priorities) of the ALB listener."""

    kind = kinds.ELBV2_LISTENER_RULES
    client: ElasticLoadBalancingv2Client
    service = "elbv2"
    identity = ("listenerArn",)

    def props_of(self, want: Desired) -> ListenerRules[Known]:
        """The desired props as `ListenerRules` (`controller.model.props`)."""
        return props_as(want, ListenerRules[Known])

    def _read(self, want: Desired) -> tuple[list[tuple[Rule, str]], list[Rule], dict[str, str]]:
        """(ours with ARNs, foreign, tags of ours) among the listener's non-default rules."""
        rules: list[RuleTypeDef] = []
        args: DescribeRulesInputTypeDef = {"ListenerArn": self.props_of(want)["listenerArn"]}
        while True:
            page = self.client.describe_rules(**args)
            rules += [r for r in page["Rules"] if not r.get("IsDefault")]
            if not page.get("NextMarker"):
                break
            args["Marker"] = page["NextMarker"]
        tags = tags_of(self.client, [r["RuleArn"] for r in rules])
        ours, foreign, our_tags = [], [], {}
        for r in rules:
            held = tags.get(r["RuleArn"], {})
            mine = ownership.is_owned(held, want.owner)
            if mine and held.get(ownership.COMPONENT) == want.resource.component:
                ours.append((rule_props(r), r["RuleArn"]))
                our_tags = held
            elif not mine:
                foreign.append(rule_props(r))
        ours.sort(key=lambda pair: int(pair[0]["priority"]))
        return ours, foreign, our_tags

    def observe(self, want: Desired) -> Observed | None:
        """Our rules on the listener; None when the listener has none of ours and some are
        wanted. An empty set of rules on our listener is there as soon as the listener is (it
        has nothing in it that could be anyone else's): otherwise `alb.rules: []` never
        converges."""
        try:
            ours, foreign, tags = self._read(want)
        except ClientError as exc:
            if error_code(exc) in ("ListenerNotFound", "LoadBalancerNotFound"):
                return None
            raise
        if not ours and self.props_of(want)["rules"]:
            return None
        if not ours:
            tags = dict(want.tags)
        listener = self.props_of(want)["listenerArn"]
        return Observed(
            key=want.key,
            id=f"{listener} rules",
            props={"listenerArn": listener, "rules": [rule for rule, _ in ours]},
            tags=tags,
            outputs={"id": listener, "ruleArns": [arn for _, arn in ours]},
            foreign=[
                ("(extra rule)", f"priority {r['priority']} {r['pathPattern']}") for r in foreign
            ],
        )

    def create(self, want: Desired) -> Observed:
        """Create every rule with our tags."""
        self._sync(want, [])
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Delete, re-prioritise, modify, create: in that order, so priorities are free."""
        del deltas
        ours, _, _ = self._read(want)
        self._sync(want, ours)
        return self.reobserve(want)

    def _sync(self, want: Desired, held: list[tuple[Rule, str]]) -> None:
        wanted: list[Rule] = [dict(r) for r in self.props_of(want)["rules"]]
        left = [pair for pair in held if pair[0] not in wanted]
        missing = [r for r in wanted if r not in [rule for rule, _ in held]]
        moves, modifies, creates = [], [], []
        for rule in missing:
            same_route = next(
                (
                    p
                    for p in left
                    if (p[0]["pathPattern"], p[0]["targetGroupArn"])
                    == (rule["pathPattern"], rule["targetGroupArn"])
                ),
                None,
            )
            same_priority = next((p for p in left if p[0]["priority"] == rule["priority"]), None)
            if same_route is not None:
                moves.append((same_route[1], rule))
                left.remove(same_route)
            elif same_priority is not None:
                modifies.append((same_priority[1], rule))
                left.remove(same_priority)
            else:
                creates.append(rule)
        for _, arn in left:
            self.log_call("deleting rule", want, id=arn)
            with tolerating("RuleNotFound"):
                self.client.delete_rule(RuleArn=arn)
        if moves:
            self.log_call(
                "setting rule priorities", want, priorities=[r["priority"] for _, r in moves]
            )
            self.client.set_rule_priorities(
                RulePriorities=[{"RuleArn": arn, "Priority": r["priority"]} for arn, r in moves]
            )
        for arn, rule in modifies:
            self.log_call("modifying rule", want, id=arn, pathPattern=rule["pathPattern"])
            self.client.modify_rule(
                RuleArn=arn, Conditions=_conditions(rule), Actions=_actions(rule)
            )
        for rule in creates:
            self.log_call("creating rule", want, priority=rule["priority"])
            try:
                self.client.create_rule(
                    ListenerArn=self.props_of(want)["listenerArn"],
                    Priority=rule["priority"],
                    Conditions=_conditions(rule),
                    Actions=_actions(rule),
                    Tags=ownership.to_list(want.tags),
                )
            except ClientError as exc:
                # botocore resent a request whose answer was lost: the first made our rule
                if error_code(exc) != "PriorityInUse":
                    raise
                self.refresh()
                if rule not in [held for held, _ in self._read(want)[0]]:
                    raise
                self.log_call("adopted rule", want, priority=rule["priority"])

    def delete(self, have: Observed) -> None:
        """Delete our rules; NotFound is success."""
        for arn in have.outputs.get("ruleArns", []):
            self.log_call("deleting rule", have, id=arn)
            with tolerating("RuleNotFound", "ListenerNotFound"):
                self.client.delete_rule(RuleArn=arn)
