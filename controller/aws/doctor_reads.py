"""psctl doctor's AWS reads: one method per Describe/Get/List call the diagnosis makes, paged.

Read-only by construction: every call goes through `DoctorReads._call`, which refuses any
operation whose name is not a read (`session.is_mutating`) before it is sent, so no code path of
doctor can change AWS. Two answers are not failures here:
- not found (`NotFoundException`, `LoadBalancerNotFound`, `InvalidVpcID.NotFound`, ...) is
  `None` (or an empty list): the chain simply does not have it;
- refused (`AccessDenied`, `AccessDeniedException`, `UnauthorizedOperation`) raises
  `ReadDeniedError(call, permission, message)`, which `controller.doctor.discover` turns into an
  `Unknown` on the hop it was reading (this layer sits below `controller.doctor` and cannot name
  its types). Every other error propagates.
Calls are counted by the context's `CallCounter` (per page, cache hits excluded): `calls()`.
The IAM policy test (tests/deploy/test_iam_policy.py) finds every operation of this module by
reading its source and checks that `deploy/iam/doctor-readonly.json` allows each.
Neighbours: `controller.aws.session` (the counted clients), `controller.doctor.discover` (the
only user), `controller.aws.doctor_paging` (paging and batching).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from controller.aws.doctor_paging import batched, pages
from controller.aws.session import AwsContext, is_mutating

Shape = dict[str, Any]

DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
"""Error codes of a call IAM refused (EC2: UnauthorizedOperation; ELB: AccessDenied)."""

IAM_PREFIX = {"elbv2": "elasticloadbalancing", "apigatewayv2": "apigateway"}


class ReadDeniedError(Exception):
    """A read IAM refused: `call` ("elbv2:DescribeTargetHealth"), the `permission` to add
    ("elasticloadbalancing:DescribeTargetHealth"), and AWS's message."""

    def __init__(self, call: str, permission: str, message: str) -> None:
        super().__init__(f"{call} denied: add {permission} ({message})")
        self.call = call
        self.permission = permission
        self.message = message


def permission(service: str, operation: str) -> str:
    """The IAM action that authorizes `service:operation` (API Gateway: `apigateway:GET`).

    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-create-and-manage-api.html
    """
    if service in ("apigateway", "apigatewayv2"):
        return "apigateway:GET"
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def _not_found(code: str) -> bool:
    return code.endswith(("NotFound", "NotFoundException")) or ".NotFound" in code


class DoctorReads:
    """The reads of one diagnosis, over one AWS context (its clients, counter and cache)."""

    def __init__(self, aws: AwsContext) -> None:
        self.aws = aws
        self.region = aws.region

    def calls(self) -> Counter[str]:
        """Every AWS call of the context so far, as "service:Operation" -> count."""
        return Counter({f"{s}:{op}": n for (s, op), n in self.aws.counter.snapshot().items()})

    def _call(self, method: Any, **params: Any) -> Shape | None:
        """One read; None when AWS says the thing is not there; ReadDenied when IAM refuses."""
        meta = method.__self__.meta
        service = meta.service_model.service_name
        operation = meta.method_to_api_mapping[method.__name__]
        if is_mutating(operation) or not operation.startswith(("Describe", "Get", "List")):
            raise AssertionError(f"doctor never sends {service}:{operation}")
        try:
            answer: Shape = method(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in DENIED_CODES:
                raise ReadDeniedError(
                    f"{service}:{operation}",
                    permission(service, operation),
                    str(error.get("Message", code)),
                ) from exc
            if _not_found(code):
                return None
            raise
        return answer

    def _pages(self, method: Any, key: str, token: tuple[str, str], **params: Any) -> list[Shape]:
        return pages(lambda **p: self._call(method, **p), key, token, params)

    # ------------------------------------------------------------- API Gateway (REST, v1)
    def rest_api(self, api_id: str) -> Shape | None:
        return self._call(self.aws.client("apigateway").get_rest_api, restApiId=api_id)

    def rest_apis(self) -> list[Shape]:
        """Every REST API of the region (500 a page, as the handlers ask)."""
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_rest_apis, "items", V1, limit=500)

    def stages(self, api_id: str) -> list[Shape]:
        got = self._call(self.aws.client("apigateway").get_stages, restApiId=api_id)
        return list((got or {}).get("item", []))

    def resources(self, api_id: str) -> list[Shape]:
        """Every resource with its methods and their integrations (embed=methods)."""
        apigw = self.aws.client("apigateway")
        return self._pages(
            apigw.get_resources, "items", V1, restApiId=api_id, embed=["methods"], limit=500
        )

    def deployments(self, api_id: str) -> list[Shape]:
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_deployments, "items", V1, restApiId=api_id, limit=500)

    def deployment_summary(self, api_id: str, deployment_id: str) -> Shape | None:
        """The deployment's `apiSummary` (what it snapshotted), None when absent."""
        apigw = self.aws.client("apigateway")
        got = self._call(
            apigw.get_deployment,
            restApiId=api_id,
            deploymentId=deployment_id,
            embed=["apisummary"],
        )
        summary = (got or {}).get("apiSummary")
        return dict(summary) if isinstance(summary, dict) else None

    def authorizers(self, api_id: str) -> list[Shape]:
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_authorizers, "items", V1, restApiId=api_id, limit=500)

    def usage_plans(self) -> list[Shape]:
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_usage_plans, "items", V1, limit=500)

    def usage_plan_keys(self, plan_id: str) -> list[Shape]:
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_usage_plan_keys, "items", V1, usagePlanId=plan_id, limit=500)

    def api_keys(self) -> list[Shape]:
        """Every API key's metadata; never the values (includeValues=False)."""
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_api_keys, "items", V1, includeValues=False, limit=500)

    def domain_names(self) -> list[Shape]:
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_domain_names, "items", V1, limit=500)

    def base_path_mappings(self, domain: str) -> list[Shape]:
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_base_path_mappings, "items", V1, domainName=domain, limit=500)

    def vpc_link(self, link_id: str) -> Shape | None:
        return self._call(self.aws.client("apigateway").get_vpc_link, vpcLinkId=link_id)

    def vpc_links(self) -> list[Shape]:
        apigw = self.aws.client("apigateway")
        return self._pages(apigw.get_vpc_links, "items", V1, limit=500)

    # ------------------------------------------------------------- API Gateway (HTTP, v2)
    def http_api(self, api_id: str) -> Shape | None:
        return self._call(self.aws.client("apigatewayv2").get_api, ApiId=api_id)

    def http_stages(self, api_id: str) -> list[Shape]:
        apigw2 = self.aws.client("apigatewayv2")
        return self._pages(apigw2.get_stages, "Items", V2, ApiId=api_id)

    def integrations(self, api_id: str) -> list[Shape]:
        apigw2 = self.aws.client("apigatewayv2")
        return self._pages(apigw2.get_integrations, "Items", V2, ApiId=api_id)

    def routes(self, api_id: str) -> list[Shape]:
        apigw2 = self.aws.client("apigatewayv2")
        return self._pages(apigw2.get_routes, "Items", V2, ApiId=api_id)

    def http_authorizers(self, api_id: str) -> list[Shape]:
        apigw2 = self.aws.client("apigatewayv2")
        return self._pages(apigw2.get_authorizers, "Items", V2, ApiId=api_id)

    def http_deployments(self, api_id: str) -> list[Shape]:
        apigw2 = self.aws.client("apigatewayv2")
        return self._pages(apigw2.get_deployments, "Items", V2, ApiId=api_id)

    def vpc_link_v2(self, link_id: str) -> Shape | None:
        return self._call(self.aws.client("apigatewayv2").get_vpc_link, VpcLinkId=link_id)

    def domain_names_v2(self) -> list[Shape]:
        apigw2 = self.aws.client("apigatewayv2")
        return self._pages(apigw2.get_domain_names, "Items", V2)

    def api_mappings(self, domain: str) -> list[Shape]:
        apigw2 = self.aws.client("apigatewayv2")
        return self._pages(apigw2.get_api_mappings, "Items", V2, DomainName=domain)

    # ------------------------------------------------------------- Lambda (authorizers)
    def function_configuration(self, arn: str) -> Shape | None:
        return self._call(self.aws.client("lambda").get_function_configuration, FunctionName=arn)

    def function_policy(self, arn: str) -> Shape | None:
        """The function's resource policy as a document; None when it has none."""
        got = self._call(self.aws.client("lambda").get_policy, FunctionName=arn)
        text = (got or {}).get("Policy")
        return dict(json.loads(text)) if text else None

    # ------------------------------------------------------------- Elastic Load Balancing
    def load_balancers(
        self, *, arns: list[str] | None = None, names: list[str] | None = None
    ) -> list[Shape]:
        """By ARN or name ([] when one of them does not exist), or every one (400 a page, the
        most AWS answers, as the handlers ask: the read snapshot then serves both)."""
        elb = self.aws.client("elbv2")
        params: dict[str, Any] = {"LoadBalancerArns": arns} if arns else {"PageSize": 400}
        if names:
            params = {"Names": names}
        return self._pages(elb.describe_load_balancers, "LoadBalancers", ELB, **params)

    def lb_attributes(self, arn: str) -> dict[str, str]:
        elb = self.aws.client("elbv2")
        got = self._call(elb.describe_load_balancer_attributes, LoadBalancerArn=arn)
        return {a["Key"]: a.get("Value", "") for a in (got or {}).get("Attributes", [])}

    def listeners(self, lb_arn: str) -> list[Shape]:
        elb = self.aws.client("elbv2")
        return self._pages(elb.describe_listeners, "Listeners", ELB, LoadBalancerArn=lb_arn)

    def listeners_by_arn(self, arns: list[str]) -> list[Shape]:
        elb = self.aws.client("elbv2")
        return self._pages(elb.describe_listeners, "Listeners", ELB, ListenerArns=arns)

    def rules(self, listener_arn: str) -> list[Shape]:
        elb = self.aws.client("elbv2")
        return self._pages(elb.describe_rules, "Rules", ELB, ListenerArn=listener_arn)

    def target_groups(
        self, *, lb_arn: str | None = None, arns: list[str] | None = None
    ) -> list[Shape]:
        """Of a load balancer, by ARN, or every one of the account."""
        elb = self.aws.client("elbv2")
        params: dict[str, Any] = {"LoadBalancerArn": lb_arn} if lb_arn else {"PageSize": 400}
        if arns:
            params = {"TargetGroupArns": arns}
        return self._pages(elb.describe_target_groups, "TargetGroups", ELB, **params)

    def tg_attributes(self, arn: str) -> dict[str, str]:
        elb = self.aws.client("elbv2")
        got = self._call(elb.describe_target_group_attributes, TargetGroupArn=arn)
        return {a["Key"]: a.get("Value", "") for a in (got or {}).get("Attributes", [])}

    def target_health(self, arn: str) -> list[Shape]:
        elb = self.aws.client("elbv2")
        got = self._call(elb.describe_target_health, TargetGroupArn=arn)
        return list((got or {}).get("TargetHealthDescriptions", []))

    # ------------------------------------------------------------- ECS
    def clusters(self) -> list[str]:
        ecs = self.aws.client("ecs")
        return [str(a) for a in self._pages(ecs.list_clusters, "clusterArns", ECS, maxResults=100)]

    def service_arns(self, cluster: str) -> list[str]:
        ecs = self.aws.client("ecs")
        found = self._pages(ecs.list_services, "serviceArns", ECS, cluster=cluster, maxResults=100)
        return [str(a) for a in found]

    def services(self, cluster: str, names: list[str]) -> list[Shape]:
        """DescribeServices, 10 a call (its limit); missing ones are left out."""
        ecs = self.aws.client("ecs")
        out: list[Shape] = []
        for chunk in batched(names, 10):
            got = self._call(ecs.describe_services, cluster=cluster, services=chunk)
            out += [dict(s) for s in (got or {}).get("services", [])]
        return out

    def task_definition(self, arn: str) -> Shape | None:
        ecs = self.aws.client("ecs")
        got = self._call(ecs.describe_task_definition, taskDefinition=arn)
        return dict(got["taskDefinition"]) if got else None

    def stopped_task_arns(self, cluster: str, service_name: str) -> list[str]:
        """The service's recently stopped tasks (ECS keeps them about an hour)."""
        ecs = self.aws.client("ecs")
        found = self._pages(
            ecs.list_tasks,
            "taskArns",
            ECS,
            cluster=cluster,
            serviceName=service_name,
            desiredStatus="STOPPED",
            maxResults=100,
        )
        return [str(a) for a in found]

    def tasks(self, cluster: str, arns: list[str]) -> list[Shape]:
        ecs = self.aws.client("ecs")
        out: list[Shape] = []
        for chunk in batched(arns, 100):
            got = self._call(ecs.describe_tasks, cluster=cluster, tasks=chunk)
            out += [dict(t) for t in (got or {}).get("tasks", [])]
        return out

    def container_instances(self, cluster: str) -> list[Shape]:
        ecs = self.aws.client("ecs")
        arns = self._pages(
            ecs.list_container_instances, "containerInstanceArns", ECS, cluster=cluster
        )
        out: list[Shape] = []
        for chunk in batched([str(a) for a in arns], 100):
            got = self._call(
                ecs.describe_container_instances, cluster=cluster, containerInstances=chunk
            )
            out += [dict(c) for c in (got or {}).get("containerInstances", [])]
        return out

    # ------------------------------------------------------------- EC2 networking
    def vpcs(self, ids: list[str]) -> list[Shape]:
        ec2 = self.aws.client("ec2")
        return self._pages(ec2.describe_vpcs, "Vpcs", EC2, VpcIds=ids)

    def _in_vpc(self, method: Any, key: str, vpc_ids: list[str]) -> list[Shape]:
        return self._pages(method, key, EC2, Filters=[{"Name": "vpc-id", "Values": vpc_ids}])

    def subnets(self, vpc_ids: list[str]) -> list[Shape]:
        return self._in_vpc(self.aws.client("ec2").describe_subnets, "Subnets", vpc_ids)

    def security_groups(self, vpc_ids: list[str]) -> list[Shape]:
        ec2 = self.aws.client("ec2")
        return self._in_vpc(ec2.describe_security_groups, "SecurityGroups", vpc_ids)

    def route_tables(self, vpc_ids: list[str]) -> list[Shape]:
        return self._in_vpc(self.aws.client("ec2").describe_route_tables, "RouteTables", vpc_ids)

    def network_acls(self, vpc_ids: list[str]) -> list[Shape]:
        return self._in_vpc(self.aws.client("ec2").describe_network_acls, "NetworkAcls", vpc_ids)

    def vpc_endpoints(self, vpc_ids: list[str]) -> list[Shape]:
        ec2 = self.aws.client("ec2")
        return self._in_vpc(ec2.describe_vpc_endpoints, "VpcEndpoints", vpc_ids)

    def addresses(self) -> list[Shape]:
        """Every Elastic IP of the region (DescribeAddresses does not page)."""
        got = self._call(self.aws.client("ec2").describe_addresses)
        return list((got or {}).get("Addresses", []))

    def instances(self, ids: list[str]) -> list[Shape]:
        ec2 = self.aws.client("ec2")
        reservations = self._pages(ec2.describe_instances, "Reservations", EC2, InstanceIds=ids)
        return [dict(i) for r in reservations for i in r.get("Instances", [])]


V1 = ("position", "position")
V2 = ("NextToken", "NextToken")
ELB = ("Marker", "NextMarker")
ECS = ("nextToken", "nextToken")
EC2 = ("NextToken", "NextToken")
"""Paging tokens per API family: (request parameter, response field)."""
