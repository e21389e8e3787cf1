"""Doctor checks on the `stage` hop: `stage-stale`, `api-key-not-in-plan`, `plan-not-on-stage`,
`no-plan-for-required-key`. Pure functions of `Facts`.

AWS rules they follow:
- A stage runs a deployment, "a snapshot of the API, including methods, integrations, models,
  mapping templates, and Lambda authorizers"; changes to the API take effect only when it is
  redeployed (developer guide, "Create a deployment for a REST API in API Gateway",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-deployments.html).
  GetDeployment(embed=["apisummary"]) returns the snapshot's `apiSummary`: per path and method
  only `authorizationType` and `apiKeyRequired` (API reference, Deployment/MethodSnapshot).
  Integrations carry no date or version, so a changed integration cannot be told from AWS
  state: the finding says so rather than guess. HTTP API stages with `autoDeploy` redeploy on
  every change; their last deployment's status tells whether that worked.
- "A usage plan specifies who can access one or more deployed API stages and methods ... The
  plan uses API keys to identify API clients and who can access the associated API stages for
  each key": a method with `apiKeyRequired` answers 403 Forbidden to a key that is in no usage
  plan of the stage, and to every key when no plan names the stage (developer guide, "Usage
  plans and API keys for REST APIs in API Gateway",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html).
Neighbours: `apigw_common` (reading), `controller.doctor.checks.apigw` (CHECKS).
"""

from __future__ import annotations

from controller.doctor.checks.apigw_common import (
    http_stages,
    owned_by,
    rest_methods,
    rest_stages,
    short,
)
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import Finding, finding

KEY_403 = (
    "A method that requires an API key answers 403 Forbidden unless the caller's key is in a "
    "usage plan associated with this stage; creating the key is not enough (field report 000)."
)


def _snapshot_of_methods(facts: Facts, api: str) -> dict[tuple[str, str], tuple[str, bool]]:
    """(path, METHOD) -> (authorizationType, apiKeyRequired) as the API is configured now."""
    return {
        (m.path, m.method): (
            str(m.shape.get("authorizationType", "NONE")),
            bool(m.shape.get("apiKeyRequired", False)),
        )
        for m in rest_methods(facts, api)
    }


def _snapshot_deployed(summary: Shape) -> dict[tuple[str, str], tuple[str, bool]]:
    """The same map, from a deployment's `apiSummary` ({path: {METHOD: MethodSnapshot}})."""
    return {
        (str(path), str(verb)): (
            str(snap.get("authorizationType", "NONE")),
            bool(snap.get("apiKeyRequired", False)),
        )
        for path, methods in summary.items()
        for verb, snap in (methods or {}).items()
    }


def _stale_differences(facts: Facts, api: str, deployment: str) -> list[str]:
    """What differs between the deployed snapshot and the API's methods ([] when unknown)."""
    summary = facts.deployment_snapshots.get(deployment)
    if summary is None or api not in facts.resources:
        return []
    now = _snapshot_of_methods(facts, api)
    then = _snapshot_deployed(summary)
    diffs = [f"{m} {p} added" for (p, m) in sorted(now.keys() - then.keys())]
    diffs += [f"{m} {p} removed" for (p, m) in sorted(then.keys() - now.keys())]
    for key in sorted(now.keys() & then.keys()):
        (auth_now, key_now), (auth_then, key_then) = now[key], then[key]
        if auth_now != auth_then:
            diffs.append(f"{key[1]} {key[0]} authorization {auth_then} -> {auth_now}")
        if key_now != key_then:
            diffs.append(f"{key[1]} {key[0]} apiKeyRequired {key_then} -> {key_now}")
    return diffs


def stage_stale(facts: Facts) -> list[Finding]:
    """`stage-stale`: the stage runs a deployment whose snapshot (apiSummary) differs from the
    REST API's methods now, or an HTTP API stage's last (auto-)deployment failed."""
    if facts.unknown_on("stage") or facts.unknown_on("api"):
        return []
    found: list[Finding] = []
    for api, stage in rest_stages(facts):
        name = str(stage.get("stageName", ""))
        deployment = str(stage.get("deploymentId", ""))
        diffs = _stale_differences(facts, api, deployment)
        if not diffs:
            continue
        found.append(
            finding(
                "stage-stale",
                "stage",
                name,
                f"stage {name} of API {api} runs deployment {deployment}, which predates "
                f"changes to the API's methods: {short(diffs)}",
                why=(
                    "A stage serves the snapshot taken when it was deployed, not the API as "
                    "configured: what callers get is not what the console shows. (AWS keeps "
                    "no snapshot of integrations, so changed integrations cannot be seen; "
                    "redeploying covers them too.)"
                ),
                fix_spec=(
                    "no spec field: `psctl apply -f` redeploys the stage when the API it "
                    "builds changes"
                ),
                fix_cli=f"aws apigateway create-deployment --rest-api-id {api} --stage-name {name}",
            )
        )
    for api, stage in http_stages(facts):
        failed = _v2_failed_deployment(facts, api, stage)
        if not failed:
            continue
        name = str(stage.get("StageName", ""))
        found.append(
            finding(
                "stage-stale",
                "stage",
                name,
                f"stage {name} of HTTP API {api}: {failed}",
                why=(
                    "The stage still serves the last deployment that worked, so the API's "
                    "current routes and integrations are not what callers reach."
                ),
                fix_spec=(
                    "no spec field: fix the cause in the message, then `psctl apply -f` "
                    "redeploys the auto-deployed stage"
                ),
                fix_cli=f"aws apigatewayv2 create-deployment --api-id {api} --stage-name {name}",
            )
        )
    return found


def _v2_failed_deployment(facts: Facts, api: str, stage: Shape) -> str:
    """Why an HTTP API stage's last deployment failed ("" when it did not, or it is unknown)."""
    deployment = str(stage.get("DeploymentId", ""))
    for item in facts.deployments.get(api, []):
        if item.get("DeploymentId") == deployment and item.get("DeploymentStatus") == "FAILED":
            reason = item.get("DeploymentStatusMessage") or "no message"
            return f"its deployment {deployment} FAILED: {reason}"
    message = str(stage.get("LastDeploymentStatusMessage") or "")
    if stage.get("AutoDeploy") and "fail" in message.lower():
        return f"its last automatic deployment failed: {message}"
    return ""


# --- API keys and usage plans (REST APIs only: HTTP APIs have neither) -------------------------


def _plans_on(facts: Facts, api: str, stage: str) -> list[Shape]:
    """The usage plans associated with (api, stage)."""
    return [
        p
        for p in facts.usage_plans
        if any(s.get("apiId") == api and s.get("stage") == stage for s in p.get("apiStages") or [])
    ]


def _plan_keys(facts: Facts, plan: Shape) -> set[str] | None:
    """The API key ids in a plan; None when its keys were not read."""
    keys = facts.usage_plan_keys.get(str(plan.get("id", "")))
    return None if keys is None else {str(k.get("id")) for k in keys}


def _require(methods: list[str]) -> str:
    return "requires" if len(methods) == 1 else "require"


def _keys_required(facts: Facts, api: str) -> list[str]:
    """'METHOD path' of every method of the API that requires an API key."""
    return [
        f"{m.method} {m.path}" for m in rest_methods(facts, api) if m.shape.get("apiKeyRequired")
    ]


def _stranded_plans(facts: Facts, api: str, stage: str) -> list[Shape]:
    """Plans with this chain's keys (or this spec's plans) that are not on (api, stage), and
    name no other stage of this API either (a plan for another stage is deliberate)."""
    chain_keys = set(facts.api_keys)
    on = {id(p) for p in _plans_on(facts, api, stage)}
    stranded = []
    for plan in facts.usage_plans:
        if id(plan) in on:
            continue
        keys = _plan_keys(facts, plan)
        if not keys:
            continue
        ours = owned_by(facts, plan)
        names_api = any(s.get("apiId") == api for s in plan.get("apiStages") or [])
        if ours or (keys & chain_keys and not names_api):
            stranded.append(plan)
    return stranded


def _key_state(facts: Facts) -> bool:
    """Whether the stage's plans and keys were read (a plan whose keys were not read, e.g. one
    naming another API, is left out of every key check)."""
    return not (facts.unknown_on("stage") or facts.unknown_on("api"))


def plan_not_on_stage(facts: Facts) -> list[Finding]:
    """`plan-not-on-stage`: methods require a key and a usage plan holding this chain's keys
    (or this spec's own plan) is not associated with the stage, nor with any stage of the API."""
    if not _key_state(facts):
        return []
    found: list[Finding] = []
    for api, stage in rest_stages(facts):
        name = str(stage.get("stageName", ""))
        required = _keys_required(facts, api)
        if not required:
            continue
        for plan in _stranded_plans(facts, api, name):
            plan_id = str(plan.get("id", ""))
            keys = sorted(_plan_keys(facts, plan) or set())
            found.append(
                finding(
                    "plan-not-on-stage",
                    "stage",
                    plan_id,
                    f"usage plan {plan.get('name', plan_id)} ({plan_id}) holds API keys "
                    f"{short(keys)} but is not associated with stage {name} of API {api}, "
                    f"where {short(required)} {_require(required)} an API key",
                    why=KEY_403,
                    fix_spec=(
                        "no spec field: `psctl apply -f` associates every plan of "
                        "spec.api.usagePlans with spec.api.stageName (rule 5)"
                    ),
                    fix_cli=(
                        f"aws apigateway update-usage-plan --usage-plan-id {plan_id} "
                        f"--patch-operations op=add,path=/apiStages,value={api}:{name}"
                    ),
                )
            )
    return found


def no_plan_for_required_key(facts: Facts) -> list[Finding]:
    """`no-plan-for-required-key`: methods require a key and no usage plan names the stage (and
    no stranded plan explains it: that is `plan-not-on-stage`). Every call gets 403."""
    if not _key_state(facts):
        return []
    found: list[Finding] = []
    for api, stage in rest_stages(facts):
        name = str(stage.get("stageName", ""))
        required = _keys_required(facts, api)
        if not required or _plans_on(facts, api, name) or _stranded_plans(facts, api, name):
            continue
        found.append(
            finding(
                "no-plan-for-required-key",
                "stage",
                name,
                f"{short(required)} of API {api} require an API key, and no usage plan is "
                f"associated with stage {name}",
                why=(
                    "With no usage plan on the stage no key is valid there: every call gets "
                    "403 Forbidden, whatever key it sends."
                ),
                fix_spec=(
                    "add a plan: spec.api.usagePlans: [{name: default, apiKeys: [client-a]}] "
                    "(or set spec.api.apiKeyRequired: false)"
                ),
                fix_cli=(
                    f"PLAN=$(aws apigateway create-usage-plan --name {api}-{name} --api-stages "
                    f"apiId={api},stage={name} --query id --output text) && "
                    + " && ".join(
                        f"aws apigateway create-usage-plan-key --usage-plan-id $PLAN "
                        f"--key-id {key} --key-type API_KEY"
                        for key in sorted(facts.api_keys) or ["API_KEY_ID"]
                    )
                ),
            )
        )
    return found


def api_key_not_in_plan(facts: Facts) -> list[Finding]:
    """`api-key-not-in-plan`: methods require a key, the stage has a usage plan, and an enabled
    key of this chain is in no usage plan at all that names this API. Its callers get 403."""
    if not _key_state(facts):
        return []
    found: list[Finding] = []
    for api, stage in rest_stages(facts):
        name = str(stage.get("stageName", ""))
        required = _keys_required(facts, api)
        on = _plans_on(facts, api, name)
        naming = [
            p
            for p in facts.usage_plans
            if any(s.get("apiId") == api for s in p.get("apiStages") or [])
        ]
        if not required or not on or any(_plan_keys(facts, p) is None for p in naming):
            continue
        covered: set[str] = set()
        for plan in naming + _stranded_plans(facts, api, name):
            covered |= _plan_keys(facts, plan) or set()
        plan_id = str(on[0].get("id", ""))
        plans = ", ".join(str(p.get("id")) for p in on)
        for key_id, key in sorted(facts.api_keys.items()):
            if key_id in covered or key.get("enabled") is False:
                continue
            found.append(
                finding(
                    "api-key-not-in-plan",
                    "stage",
                    key_id,
                    f"API key {key.get('name', key_id)} ({key_id}) is in no usage plan of "
                    f"stage {name} of API {api} (its plans: {plans}), "
                    f"and {short(required)} {_require(required)} an API key",
                    why=KEY_403,
                    fix_spec=(
                        "list the key under a plan: spec.api.usagePlans[].apiKeys "
                        f"(e.g. apiKeys: [{key.get('name', key_id)}]); `psctl apply -f` "
                        "associates it (rule 5)"
                    ),
                    fix_cli=(
                        f"aws apigateway create-usage-plan-key --usage-plan-id {plan_id} "
                        f"--key-id {key_id} --key-type API_KEY"
                    ),
                )
            )
    return found
