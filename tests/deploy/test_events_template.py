"""deploy/events/template.yaml makes what `psctl events install` makes (aws.events_setup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from controller.aws import events_setup, tags

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "events" / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub) read as plain values."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tagged)


def _template() -> dict[str, Any]:
    return dict(yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader))  # a SafeLoader subclass


def test_same_rule_pattern_queue_name_and_redrive_as_install() -> None:
    """Pattern, default names, DLQ redrive count and the policy's rule condition match."""
    doc = _template()
    res = doc["Resources"]
    assert res["Rule"]["Properties"]["EventPattern"] == events_setup.pattern()
    assert doc["Parameters"]["QueueName"]["Default"] == events_setup.DEFAULT_QUEUE
    redrive = res["Queue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == events_setup.MAX_RECEIVES
    [statement] = res["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"GetAtt": "Rule.Arn"}}}
    for queue in ("Queue", "DeadLetterQueue"):
        owner = {t["Key"]: t["Value"] for t in res[queue]["Properties"]["Tags"]}
        assert owner[tags.OWNER] == tags.EVENTS_OWNER
