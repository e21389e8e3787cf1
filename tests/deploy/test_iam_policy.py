"""deploy/iam/policy.json allows every AWS call the controller can make, and nothing beyond.

The calls are found by static analysis of the `controller` package (`ast`): attribute references
on a boto3 client (`self.client.x`, `handler.client.x`, a `client` parameter, a name bound to
`<ctx>.client("svc")`, `<ctx>.client("svc").x`), paginator names, each resolved to its API
operation through botocore's service model. Each operation maps to its IAM action (API Gateway
v1/v2 to `apigateway:<HTTP verb>` on the resource path of the operation's request URI). A small
evaluator (Action/Resource wildcards, conditions ignored) decides "allowed". Separately, every
mutating Allow statement must carry our owner-tag condition unless its Sid is in `UNTAGGED`,
where each exception says why.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

import controller
from controller.aws.tags import OWNER
from controller.handlers.clients import CLIENT_TYPES as TYPED_SERVICES

PACKAGE = Path(controller.__file__).parent
POLICY_PATH = Path(__file__).resolve().parents[2] / "deploy" / "iam" / "policy.json"
# The embedded sandbox (moto + its seeding) is a development tool, never run against AWS; kube/
# talks to the Kubernetes API (lightkube), not to AWS: its RBAC is checked in tests/kube.
EXCLUDED_DIRS = {"sandbox", "kube"}

# types_boto3 client annotations -> botocore service name
CLIENT_TYPES = {
    "APIGatewayClient": "apigateway",
    "ApiGatewayV2Client": "apigatewayv2",
    "EC2Client": "ec2",
    "ECSClient": "ecs",
    "ElasticLoadBalancingv2Client": "elbv2",
    "IAMClient": "iam",
    "LambdaClient": "lambda",
    "CloudWatchLogsClient": "logs",
    "ServiceDiscoveryClient": "servicediscovery",
    "S3Client": "s3",
    "SNSClient": "sns",
    "STSClient": "sts",
}
# Client attributes that are not API operations.
CLIENT_ATTRS = {"meta", "exceptions", "get_paginator", "get_waiter", "can_paginate", "close"}

# IAM prefixes that differ from the botocore service name (API Gateway is handled apart).
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}
# Operations whose IAM action is not `<prefix>:<OperationName>`.
IAM_ACTION = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("sqs", "DeleteMessageBatch"): "sqs:DeleteMessage",  # batch actions use the single's
}
APIGW = {"apigateway", "apigatewayv2"}

# Actions AWS evaluates against the caller while serving one of our calls (forward access):
# allowed although the controller never names them. action -> the operation that needs it.
INDIRECT = {
    # REST VPC link (v1): API Gateway creates a VPC endpoint service on the NLB as the caller.
    "ec2:CreateVpcEndpointServiceConfiguration": ("apigateway", "CreateVpcLink"),
    "ec2:DeleteVpcEndpointServiceConfigurations": ("apigateway", "DeleteVpcLink"),
    "ec2:DescribeVpcEndpointServiceConfigurations": ("apigateway", "CreateVpcLink"),
    "ec2:ModifyVpcEndpointServicePermissions": ("apigateway", "CreateVpcLink"),
    # An interface endpoint with private DNS associates the VPC with AWS's private hosted zone.
    "route53:AssociateVPCWithHostedZone": ("ec2", "CreateVpcEndpoint"),
    # Tag-on-create: these services also authorize the tagging action of a create with tags.
    "ec2:CreateTags": ("ec2", "CreateSecurityGroup"),
    "elasticloadbalancing:AddTags": ("elbv2", "CreateLoadBalancer"),
    "ecs:TagResource": ("ecs", "CreateService"),
    "logs:TagResource": ("logs", "CreateLogGroup"),
    "iam:TagRole": ("iam", "CreateRole"),
    "sqs:TagQueue": ("sqs", "CreateQueue"),
    "events:TagResource": ("events", "PutRule"),
    # RegisterTaskDefinition with an execution role passes it to ECS tasks.
    "iam:PassRole": ("ecs", "RegisterTaskDefinition"),
    # First VPC link v2 / NLB / ECS service of an account creates the service-linked role.
    "iam:CreateServiceLinkedRole": ("apigatewayv2", "CreateVpcLink"),
}

# Sids of mutating Allow statements without an owner-tag condition, and why.
UNTAGGED = {
    "Ec2UseExistingNetwork": "the VPC, subnets and route tables a create or modify names are "
    "the user's network, never ours; EC2 authorizes them as separate resources of the request",
    "Ec2InstanceSecurityGroupRules": "ECS on EC2 (seed 004) adds our rules to the container "
    "instances' security groups, which belong to whoever runs them; the rules themselves carry "
    "our owner tag (statement Ec2CreateTaggedResources)",
    "Ec2VpcEndpointPrivateDns": "the hosted zone is AWS's (execute-api private DNS); Route 53 "
    "has no tag condition for it",
    "ApiGatewayVpcLinkV1": "API Gateway creates and deletes its VPC endpoint service as the "
    "caller; it does not pass our tags, so a tag condition would always fail",
    "EcsDeregisterTaskDefinition": "DeregisterTaskDefinition has no resource-level permissions "
    "or tag condition keys",
    "LambdaAuthorizerPermission": "the authorizer function is the user's (it carries no tag of "
    "ours); the grant is limited to API Gateway by lambda:Principal",
    "PassExecutionRole": "PassRole takes no tag condition here; limited to ps-* roles and to "
    "ecs-tasks.amazonaws.com by iam:PassedToService",
    "ServiceLinkedRoles": "service-linked roles are AWS-managed; limited by iam:AWSServiceName",
    "SnsAlerts": "the alert topic is the user's; limited to this account",
    "LeaderElectionLease": "the lease table is the deployment's (deploy/ecs), not a resource "
    "of a PrivateService; limited to the table name and item writes",
    "EventsConsume": "the events queue is the deployment's (psctl events install), not a "
    "resource of a PrivateService; limited to its name",
    "EventsInstall": "psctl events install/uninstall: the rule and queues are the "
    "deployment's; limited to their names (uninstall also checks the owner tag)",
}
READ_VERBS = ("Describe", "Get", "List")


# ------------------------------------------------------------------------ static analysis


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def _ops(service: str) -> dict[str, str]:
    """snake_case method -> operation name."""
    return {xform_name(op): op for op in _model(service).operation_names}


def _str_arg(call: ast.Call) -> str | None:
    if len(call.args) == 1 and isinstance(call.args[0], ast.Constant):
        value = call.args[0].value
        return value if isinstance(value, str) else None
    return None


def _is_client_factory(node: ast.AST) -> bool:
    """`<anything>.client(...)`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "client"
    )


def _typed_client_service(node: ast.AST) -> str | None:
    """`clients.<service>(aws)` (controller/handlers/clients.py: the typed accessors; `lambda_`
    for Lambda) -> the service, else None."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "clients"
    ):
        return None
    service = node.func.attr.rstrip("_")
    return service if service in TYPED_SERVICES else None


def _annotation_service(annotation: ast.AST | None) -> str | None:
    if annotation is None:
        return None
    names = [n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)]
    names += [
        n.value
        for n in ast.walk(annotation)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    found = {CLIENT_TYPES[n] for n in names if n in CLIENT_TYPES}
    return found.pop() if len(found) == 1 else None


class _Module:
    """The services a module's client expressions stand for, and the operations it uses."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(), filename=str(path))
        self.class_service: dict[str, str] = {}
        self.bindings: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and [getattr(t, "id", None) for t in stmt.targets] == ["service"]
                        and isinstance(stmt.value, ast.Constant)
                    ):
                        self.class_service[node.name] = str(stmt.value.value)
                    elif (spelled := _spelling_service(stmt)) is not None:
                        self.class_service[node.name] = spelled
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                service = self._factory_service(node.value)
                if service is None and isinstance(node, ast.AnnAssign):
                    service = _annotation_service(node.annotation)
                for target in targets:
                    if isinstance(target, ast.Name) and service is not None:
                        self._bind(target.id, service)
            elif isinstance(node, ast.arg):
                service = _annotation_service(node.annotation)
                if service is not None:
                    self._bind(node.arg, service)
        handler_services = set(self.class_service.values())
        self.default = handler_services.pop() if len(handler_services) == 1 else None
        self.operations: set[tuple[str, str]] = set()
        self.problems: list[str] = []

    def _bind(self, name: str, service: str) -> None:
        if self.bindings.setdefault(name, service) != service:
            raise AssertionError(f"{self.path}: {name} stands for two services")

    @staticmethod
    def _factory_service(node: ast.AST) -> str | None:
        typed = _typed_client_service(node)
        if typed is not None:
            return typed
        return _str_arg(node) if _is_client_factory(node) else None  # type: ignore[arg-type]

    def resolve(self, node: ast.AST, cls: str | None) -> str | None:
        """The service a client expression stands for, or None if it is not a client."""
        if _is_client_factory(node) or _typed_client_service(node) is not None:
            return self._factory_service(node)
        if isinstance(node, ast.Attribute) and node.attr == "client":  # self.client, h.client
            return self.class_service.get(cls or "", self.default)
        if isinstance(node, ast.Name):
            if node.id in self.bindings:
                return self.bindings[node.id]
            if node.id == "client":
                return self.default
        return None

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"

    def collect(self) -> None:
        self._visit(self.tree, None)

    def _visit(self, node: ast.AST, cls: str | None) -> None:
        if isinstance(node, ast.ClassDef):
            cls = node.name
        if isinstance(node, ast.Attribute):
            self._attribute(node, cls)
        if (
            isinstance(node, ast.Call)
            and _is_client_factory(node)
            and self._factory_service(node) is None
            and not self._is_factory_itself(node)
        ):
            self.problems.append(f"{self.where(node)}: client of a non-literal service")
        for child in ast.iter_child_nodes(node):
            self._visit(child, cls)

    def _is_factory_itself(self, node: ast.Call) -> bool:
        # base.Handler: `self.client = aws.client(self.service)` (the subclasses' `service`);
        # aws/session.py: AwsContext.client(service) builds every client.
        arg = node.args[0] if node.args else None
        return (isinstance(arg, ast.Attribute) and arg.attr == "service") or (
            self.path == PACKAGE / "aws" / "session.py"
        )

    def _attribute(self, node: ast.Attribute, cls: str | None) -> None:
        service = self.resolve(node.value, cls)
        if service is None:
            looks_like_client = (
                isinstance(node.value, ast.Name) and node.value.id == "client"
            ) or (isinstance(node.value, ast.Attribute) and node.value.attr == "client")
            if looks_like_client and self.path != PACKAGE / "aws" / "session.py":
                self.problems.append(f"{self.where(node)}: client of unknown service: .{node.attr}")
            return
        ops = _ops(service)
        if node.attr in ops:
            self.operations.add((service, ops[node.attr]))
        elif node.attr not in CLIENT_ATTRS:  # get_paginator & co: see collect_calls
            self.problems.append(f"{self.where(node)}: {service} has no operation {node.attr}")

    def collect_calls(self) -> None:
        """`<client>.get_paginator("op")` / `.get_waiter("name")` with their literal names."""
        for cls, node in _calls_with_class(self.tree):
            func = node.func
            if not (
                isinstance(func, ast.Attribute) and func.attr in {"get_paginator", "get_waiter"}
            ):
                continue
            service = self.resolve(func.value, cls)
            name = _str_arg(node)
            if service is None or name is None:
                self.problems.append(f"{self.where(node)}: unresolved {func.attr}")
                continue
            if func.attr == "get_paginator":
                op = _ops(service).get(name)
            else:
                waiters = botocore.session.get_session().get_waiter_model(service)
                op = waiters.get_waiter(xform_name_to_waiter(name, waiters)).operation
            if op is None:
                self.problems.append(f"{self.where(node)}: {service} has no operation {name}")
            else:
                self.operations.add((service, op))


def xform_name_to_waiter(name: str, waiters: Any) -> str:
    return next(w for w in waiters.waiter_names if xform_name(w) == name)


SPELLINGS = {"V1": "apigateway", "V2": "apigatewayv2"}
"""`controller.handlers.apigw_common`'s spellings: a handler class saying `spelling = V1.of(...)`
calls the service of that spelling through `self.client`."""


def _spelling_service(stmt: ast.stmt) -> str | None:
    """The service of a class-body `spelling = V1.of("Noun")` (or V2), else None."""
    if not (
        isinstance(stmt, ast.Assign)
        and [getattr(t, "id", None) for t in stmt.targets] == ["spelling"]
    ):
        return None
    value = stmt.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        value = value.func.value
    return SPELLINGS.get(value.id) if isinstance(value, ast.Name) else None


def _calls_with_class(tree: ast.AST) -> Iterator[tuple[str | None, ast.Call]]:
    stack: list[tuple[ast.AST, str | None]] = [(tree, None)]
    while stack:
        node, cls = stack.pop()
        if isinstance(node, ast.ClassDef):
            cls = node.name
        if isinstance(node, ast.Call):
            yield cls, node
        stack += [(child, cls) for child in ast.iter_child_nodes(node)]


def _source_files() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if not EXCLUDED_DIRS & set(p.relative_to(PACKAGE).parts[:-1])
    )


@cache
def collected() -> tuple[frozenset[tuple[str, str]], tuple[str, ...], frozenset[str]]:
    """(every (service, operation), problems, modules with at least one operation)."""
    operations: set[tuple[str, str]] = set()
    problems: list[str] = []
    modules: set[str] = set()
    for path in _source_files():
        module = _Module(path)
        module.collect()
        module.collect_calls()
        operations |= module.operations
        problems += module.problems
        if module.operations:
            modules.add(str(path.relative_to(PACKAGE)))
    return frozenset(operations), tuple(problems), frozenset(modules)


# ------------------------------------------------------------------------ IAM mapping


def apigw_request(service: str, op: str) -> tuple[str, str]:
    """(IAM action, resource ARN) of an API Gateway operation, from its HTTP binding."""
    http = _model(service).operation_model(op).http
    path = http["requestUri"].split("?")[0]
    if service == "apigatewayv2":
        path = path.removeprefix("/v2")
    path = re.sub(r"\{[^}]+\}", "id1", path)
    return f"apigateway:{http['method']}", f"arn:aws:apigateway:us-east-1::{path}"


def iam_request(service: str, op: str) -> tuple[str, str | None]:
    """(IAM action, resource ARN when the check is resource-precise, else None)."""
    if service in APIGW:
        return apigw_request(service, op)
    if (service, op) in IAM_ACTION:
        return IAM_ACTION[service, op], None
    return f"{IAM_PREFIX.get(service, service)}:{op}", None


# ------------------------------------------------------------------------ policy evaluation


def _list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@cache
def policy() -> dict[str, Any]:
    return json.loads(POLICY_PATH.read_text())


def statements() -> list[dict[str, Any]]:
    return list(policy()["Statement"])


def action_matches(pattern: str, action: str) -> bool:
    return fnmatchcase(action.lower(), pattern.lower())


def resource_matches(pattern: str, resource: str) -> bool:
    # IAM: `*` any run of characters (slashes included), `?` one character; case-sensitive.
    return fnmatchcase(resource, pattern.replace("[", "[[]"))


def allows(doc: dict[str, Any], action: str, resource: str | None = None) -> bool:
    """Whether an Allow statement covers action (and resource); conditions are ignored."""
    for st in doc["Statement"]:
        if st["Effect"] != "Allow":
            continue
        if not any(action_matches(p, action) for p in _list(st.get("Action"))):
            continue
        if resource is None or any(resource_matches(p, resource) for p in _list(st["Resource"])):
            return True
    return False


def is_mutating(action: str) -> bool:
    prefix, name = action.split(":", 1)
    if prefix == "apigateway":
        return name.upper() != "GET"
    return not name.startswith(READ_VERBS)


def owner_conditioned(st: dict[str, Any]) -> bool:
    keys = {k for block in st.get("Condition", {}).values() for k in block}
    return bool({f"aws:ResourceTag/{OWNER}", f"aws:RequestTag/{OWNER}"} & keys)


# ------------------------------------------------------------------------ the tests


def test_the_evaluator_knows_wildcards_and_effects() -> None:
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
            {"Effect": "Allow", "Action": ["apigateway:GET"], "Resource": "arn:aws:x::/a/*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        ]
    }
    assert allows(doc, "ec2:DescribeVpcs")
    assert allows(doc, "EC2:describeVpcs")
    assert not allows(doc, "ec2:CreateVpc")
    assert allows(doc, "apigateway:GET", "arn:aws:x::/a/b/c")
    assert not allows(doc, "apigateway:GET", "arn:aws:x::/a")
    assert not allows(doc, "s3:GetObject")


def test_the_collector_sees_every_module_that_calls_aws() -> None:
    operations, problems, modules = collected()
    assert problems == ()
    handler_modules = {
        str(p.relative_to(PACKAGE))
        for p in (PACKAGE / "handlers").glob("*.py")
        # the base, the registry, shared bases and the replacement table call nothing themselves
        if p.name
        not in {
            "__init__.py",
            "base.py",
            "registry.py",
            "apigw_common.py",
            "apigw_vpc_link_base.py",
            "replacements.py",
            "clients.py",  # typed accessors: their callers' calls are what count
        }
    }
    assert handler_modules <= modules, handler_modules - modules
    assert {"aws/s3.py", "aws/sns.py", "aws/dynamo_lease.py", "handlers/network.py"} <= modules
    known = {
        ("elbv2", "CreateLoadBalancer"),
        ("apigateway", "PutIntegration"),
        ("apigateway", "GetRestApis"),  # a paginator
        ("apigatewayv2", "GetVpcLinks"),  # a method passed by reference
        ("apigatewayv2", "GetApi"),  # a helper's `client: Any` parameter
        ("ec2", "AuthorizeSecurityGroupIngress"),
        ("ec2", "RevokeSecurityGroupEgress"),  # picked by a conditional expression
        ("ec2", "DescribeSubnets"),  # a paginator on a function parameter
        ("ecs", "ListContainerInstances"),  # a second client in an ec2 handler
        ("lambda", "GetFunction"),  # clients.lambda_(self.aws).get_function
        ("sts", "GetCallerIdentity"),
        ("apigateway", "DeleteDeployment"),  # handler.client in a module function
        ("sns", "Publish"),
        ("s3", "ListObjectsV2"),
        ("s3", "GetObject"),
    }
    assert known <= operations, known - operations


def test_the_collector_reports_what_it_cannot_resolve(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "class H:\n"
        "    service = 'ec2'\n"
        "    def f(self, aws, name):\n"
        "        self.client.describe_vpcz()\n"
        "        aws.client(name).list_things()\n"
    )
    module = _Module(source)
    module.path = PACKAGE / "m.py"  # for where()
    module.collect()
    assert len(module.problems) == 2


@pytest.mark.parametrize(
    ("service", "op", "expected"),
    [
        ("apigateway", "PutIntegration", "apigateway:PUT"),
        ("apigateway", "CreateRestApi", "apigateway:POST"),
        ("apigateway", "UpdateStage", "apigateway:PATCH"),
        ("apigatewayv2", "CreateVpcLink", "apigateway:POST"),
        ("elbv2", "CreateLoadBalancer", "elasticloadbalancing:CreateLoadBalancer"),
        ("s3", "ListObjectsV2", "s3:ListBucket"),
    ],
)
def test_operations_map_to_their_iam_actions(service: str, op: str, expected: str) -> None:
    assert iam_request(service, op)[0] == expected


def test_apigateway_resources_come_from_the_request_uri() -> None:
    assert apigw_request("apigatewayv2", "GetApi") == (
        "apigateway:GET",
        "arn:aws:apigateway:us-east-1::/apis/id1",
    )
    assert apigw_request("apigateway", "CreateRestApi")[1].endswith("::/restapis")


def test_the_policy_allows_every_operation_the_controller_calls() -> None:
    operations, _, _ = collected()
    missing = sorted(
        f"{service}:{op} -> {' on '.join(filter(None, iam_request(service, op)))}"
        for service, op in operations
        if not allows(policy(), *iam_request(service, op))
    )
    assert missing == []


def test_the_policy_allows_no_service_the_controller_never_calls() -> None:
    operations, _, _ = collected()
    called = {iam_request(s, op)[0].split(":")[0] for s, op in operations}
    for action, trigger in INDIRECT.items():
        assert trigger in operations, f"{action} is justified by {trigger}, never called"
        called.add(action.split(":")[0])
    granted = {a for st in statements() for a in _list(st["Action"])}
    unexplained = {
        a for a in granted if a.split(":")[0] not in called or ("*" in a and ":" not in a)
    }
    assert unexplained == set()
    called_actions = {iam_request(s, op)[0].lower() for s, op in operations} | {
        a.lower() for a in INDIRECT
    }
    extra = {
        a
        for a in granted
        if "*" not in a and a.lower() not in called_actions and a.split(":")[0] != "apigateway"
    }
    assert extra == set()


def test_the_policy_is_well_formed() -> None:
    doc = policy()
    assert doc["Version"] == "2012-10-17"
    sids = [st["Sid"] for st in statements()]
    assert len(sids) == len(set(sids))
    for st in statements():
        assert st["Effect"] == "Allow"
        assert not {"NotAction", "NotResource", "Principal"} & set(st)
        assert _list(st["Action"])
        assert _list(st["Resource"])
        for action in _list(st["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", action), action
            assert action.split(":")[1] != "*", f"{st['Sid']}: a whole service: {action}"


def test_mutating_statements_carry_the_owner_tag_condition() -> None:
    unconditioned = [
        st["Sid"]
        for st in statements()
        if any(is_mutating(a) for a in _list(st["Action"]))
        and not owner_conditioned(st)
        and st["Sid"] not in UNTAGGED
    ]
    assert unconditioned == []
    # every exception is still needed (and justified above)
    exempt = {
        st["Sid"]
        for st in statements()
        if any(is_mutating(a) for a in _list(st["Action"])) and not owner_conditioned(st)
    }
    assert exempt == set(UNTAGGED)


def test_reads_are_unconditioned_and_pass_role_is_for_ecs_tasks_only() -> None:
    for st in statements():
        if not any(is_mutating(a) for a in _list(st["Action"])):
            assert "Condition" not in st or st["Sid"] in {"S3Specs"}, st["Sid"]
        if any(action_matches(a, "iam:PassRole") for a in _list(st["Action"])):
            assert _list(st["Action"]) == ["iam:PassRole"]
            assert st["Condition"] == {
                "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
            }
            assert _list(st["Resource"]) == ["arn:aws:iam::*:role/ps-*"]


def test_iam_role_actions_are_limited_to_ps_roles() -> None:
    for st in statements():
        actions = [a for a in _list(st["Action"]) if a.startswith("iam:")]
        if actions and "iam:CreateServiceLinkedRole" not in actions:
            assert _list(st["Resource"]) == ["arn:aws:iam::*:role/ps-*"], st["Sid"]


# ------------------------------------------------------------------------ psctl doctor

DOCTOR_POLICY_PATH = POLICY_PATH.with_name("doctor-readonly.json")
DOCTOR_READER = PACKAGE / "aws" / "doctor_reads.py"


def _module_operations(path: Path) -> frozenset[tuple[str, str]]:
    module = _Module(path)
    module.collect()
    module.collect_calls()
    assert module.problems == []
    return frozenset(module.operations)


@cache
def doctor_operations() -> frozenset[tuple[str, str]]:
    """What `psctl doctor` can call: every operation of its reader, and the reads of the
    handlers (`doctor -f` finds a spec's chain with the engine's dry pass, as plan does)."""
    handler_reads = {
        (service, op)
        for path in sorted((PACKAGE / "handlers").glob("*.py"))
        for service, op in _module_operations(path)
        if not is_mutating(iam_request(service, op)[0])
    }
    return _module_operations(DOCTOR_READER) | frozenset(handler_reads)


def doctor_policy() -> dict[str, Any]:
    return dict(json.loads(DOCTOR_POLICY_PATH.read_text()))


def test_the_doctor_reader_only_reads() -> None:
    """Every operation the reader names is a read (its `_call` refuses any other at run time)."""
    operations = _module_operations(DOCTOR_READER)
    assert len(operations) >= 40
    assert [op for op in operations if is_mutating(iam_request(*op)[0])] == []


def test_the_doctor_readonly_policy_allows_every_call_of_doctor() -> None:
    """doctor-readonly.json allows every operation doctor can call (reader and -f's dry pass)."""
    missing = sorted(
        f"{service}:{op} -> {' on '.join(filter(None, iam_request(service, op)))}"
        for service, op in doctor_operations()
        if not allows(doctor_policy(), *iam_request(service, op))
    )
    assert missing == []


def test_the_doctor_readonly_policy_grants_only_what_doctor_reads() -> None:
    """No mutating action, and no action doctor never calls (API Gateway's GET aside)."""
    called = {iam_request(s, op)[0].lower() for s, op in doctor_operations()}
    granted = {a for st in doctor_policy()["Statement"] for a in _list(st["Action"])}
    assert [a for a in granted if is_mutating(a)] == []
    assert {a for a in granted if a.lower() not in called} == set()


def test_the_doctor_statements_of_the_policy_are_the_readonly_policy() -> None:
    """policy.json carries doctor's reads as separate DoctorRead* statements, exactly those of
    doctor-readonly.json, so a diagnosis-only role can be made from either."""
    doctor = [st for st in statements() if st["Sid"].startswith("DoctorRead")]
    assert doctor == doctor_policy()["Statement"]
    assert doctor_policy()["Version"] == "2012-10-17"
