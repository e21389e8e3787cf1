"""CloudFormation: `Fn::If` returning `AWS::NoValue` inside a list removes that element.

AWS: "AWS::NoValue removes the corresponding resource property when specified as a return value
in the Fn::If intrinsic function" ("Get AWS values using pseudo parameters", CloudFormation User
Guide, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html);
in a list (a container's `Command`) the element goes. moto resolves it to None and keeps a
`null` in the list, so an optional argument (`deploy/ecs/template.yaml`'s `--events`) became
`None` in the task definition. This drops the None that a NoValue leaves in a list; a template
cannot hold a JSON null of its own there. Neighbours: `patching`, `deploy/ecs/template.yaml`.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the patch (once per process, through `fidelity.apply_all`)."""

    @wrap(parsing, "clean_json")
    def clean_json(original: Any, resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            cleaned = [parsing.clean_json(item, resources_map) for item in resource_json]
            return [
                item
                for item, raw in zip(cleaned, resource_json, strict=True)
                if not (item is None and _is_if(raw))
            ]
        return original(resource_json, resources_map)


def _is_if(node: Any) -> bool:
    """An `Fn::If` (whose branch can be AWS::NoValue), or a bare `Ref: AWS::NoValue`."""
    return isinstance(node, dict) and ("Fn::If" in node or node.get("Ref") == "AWS::NoValue")
