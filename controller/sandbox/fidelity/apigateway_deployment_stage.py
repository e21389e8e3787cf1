"""API Gateway v1 CreateDeployment on an existing stage moves the stage, it does not remake it.

Restores (API Gateway API reference, CreateDeployment `stageName`: "The name of the Stage
resource for the Deployment resource to create"; a stage is a "named reference to a deployment",
and deploying to it updates that reference: the console's and the CLI's "redeploy to a stage"):
moto replaces an existing stage by a new one, losing its tags, description, method settings,
access log settings, tracing and cache settings. Here the stage is kept and only its
`deploymentId` moves to the new deployment; stage variables given to CreateDeployment are set
on it (those not given stay: AWS documents no removal; where a caller relies on either, check
on AWS). A new stage name still creates the stage, as moto does.
Neighbours: `patching`, `apigateway_deployment_snapshot`, `apigateway_tags` (stage tags).
"""

from __future__ import annotations

from typing import Any

from moto.apigateway import models as apigw_models

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the stage-preserving CreateDeployment."""
    wrap(apigw_models.RestAPI, "create_deployment")(_create_deployment)


def _create_deployment(
    original: Any, self: Any, name: str, description: str, stage_variables: Any = None
) -> Any:
    existing = self.stages.get(name) if name else None
    deployment = original(self, name, description, stage_variables)
    if existing is not None:
        existing.deployment_id = deployment.id
        existing.variables = {**(existing.variables or {}), **(stage_variables or {})}
        self.stages[name] = existing
    return deployment
