"""IAM: the AWS managed policies the chain attaches exist, as they do in every AWS account.

Restores (IAM User Guide, "AWS managed policies": "AWS managed policies are created and
administered by AWS" and are available in every account, e.g.
`arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`): moto has none unless
`MOTO_IAM_LOAD_MANAGED_POLICIES=true`, which loads all ~1,200 of them and makes every reset take
2 s. This loads only the ones in `NEEDED` (all of them when that variable is set).
Neighbours: `patching`, `controller.handlers.iam_role` (attaches them).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.settings import load_iam_aws_managed_policies

from controller.sandbox.fidelity.patching import wrap

NEEDED = ("AmazonECSTaskExecutionRolePolicy",)


def apply() -> None:
    """Install the narrow loader."""
    wrap(iam_models.IAMBackend, "_init_aws_policies")(_init_aws_policies)


def _init_aws_policies(original: Any, self: Any) -> list[Any]:
    if load_iam_aws_managed_policies():
        return list(original(self))
    data = _needed_documents()
    return [
        iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data[name])
        for name in NEEDED
    ]


@cache
def _needed_documents() -> dict[str, Any]:
    """The `NEEDED` entries of moto's 1 MB managed-policy file, parsed once per process: parsing
    it for each of the six partitions on every reset cost 0.8 s per test."""
    data = json.loads(aws_managed_policies_data)
    return {name: data[name] for name in NEEDED}
