"""ECS handlers against the sandbox over HTTP: the cluster, task definitions and the service.

Per handler: absent is None, create then observe round-trips, drift made behind the handler's back
with a plain boto3 client is a Delta on the right path that update() puts back, a same-named
resource without our owner tag is not ours, delete is idempotent, and what list_owned finds.
The service is also found among more than 10 services of its cluster (DescribeServices takes
10 at a time) and when ListServices does not list it yet.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from support import context, desired

from controller.aws import tags as ownership
from controller.handlers.base import Desired
from controller.handlers.ecs_cluster import ClusterHandler
from controller.handlers.ecs_service import ServiceHandler
from controller.handlers.ecs_task_definition import TaskDefinitionHandler

OWNER = "default/orders"
OTHER_OWNER = "default/payments"
CLUSTER = "ps-cluster"
NAME = "ps-default-orders"
ROLE = "arn:aws:iam::123456789012:role/ps-default-orders-exec"


# -- the cluster ------------------------------------------------------------------------------


@pytest.fixture
def cluster_handler(aws: Any) -> ClusterHandler:
    return ClusterHandler(context(aws))


def cluster_desired(name: str = CLUSTER) -> Desired:
    return desired("ecs-cluster", "ecs.cluster", "ecs-cluster", {"name": name})


@pytest.mark.parametrize(
    "before",
    [
        pytest.param("nothing", id="no cluster"),
        pytest.param("another", id="only a cluster of another name"),
        pytest.param("deleted", id="ours deleted: INACTIVE counts as absent"),
    ],
)
def test_cluster_absent_is_none(aws: Any, cluster_handler: ClusterHandler, before: str) -> None:
    """Observe is None unless an ACTIVE cluster has the name."""
    ecs = aws.client("ecs")
    if before == "another":
        ecs.create_cluster(clusterName="other-cluster")
    if before == "deleted":
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.delete_cluster(cluster=CLUSTER)
    assert cluster_handler.observe(cluster_desired()) is None


def test_cluster_round_trip(cluster_handler: ClusterHandler) -> None:
    """Create makes the cluster with our tags; observe round-trips with no delta and outputs the
    name and ARN."""
    want = cluster_desired()
    made = cluster_handler.create(want)
    have = cluster_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert have.owned_by(OWNER)
    assert have.tags["team"] == "payments"
    assert have.outputs == {"id": CLUSTER, "name": CLUSTER, "arn": made.id}
    assert cluster_handler.diff(want, have) == []


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(None, id="untagged"),
        pytest.param(ownership.owner_tags(OTHER_OWNER, "ecs-cluster", {}), id="another owner's"),
    ],
)
def test_cluster_not_ours_is_used_unchanged(
    aws: Any, cluster_handler: ClusterHandler, tags: dict[str, str] | None
) -> None:
    """A cluster at our name without our owner tag is observed (shared: used as it is) but not
    owned; update changes nothing on it."""
    ecs = aws.client("ecs")
    extra = {"tags": ownership.to_list(tags, lower=True)} if tags else {}
    ecs.create_cluster(clusterName=CLUSTER, **extra)
    want = cluster_desired()
    have = cluster_handler.observe(want)
    assert have is not None
    assert not have.owned_by(OWNER)
    assert cluster_handler.update(want, have, []) is have
    again = cluster_handler.observe(want)
    assert again is not None
    assert again.tags == have.tags
    assert cluster_handler.list_owned(OWNER) == []


def test_cluster_delete(aws: Any, cluster_handler: ClusterHandler) -> None:
    """Delete removes an empty cluster; a second delete is still success."""
    want = cluster_desired()
    have = cluster_handler.create(want)
    cluster_handler.delete(have)
    assert cluster_handler.observe(want) is None
    cluster_handler.delete(have)  # twice is fine


def test_cluster_list_owned_is_empty(cluster_handler: ClusterHandler) -> None:
    """ClusterHandler has no tag sweep: list_owned is the contract's default, empty even when
    one of ours exists (it is found by name from the stack, never swept as an orphan)."""
    cluster_handler.create(cluster_desired())
    assert cluster_handler.list_owned(OWNER) == []


# -- task definitions -------------------------------------------------------------------------


@pytest.fixture
def td_handler(aws: Any) -> TaskDefinitionHandler:
    return TaskDefinitionHandler(context(aws))


def td_props(mode: str = "fargate", family: str = NAME, **container: Any) -> dict[str, Any]:
    """Task definition props in the shape `controller.model.service.add_service` builds."""
    ec2 = mode == "ec2"
    port: dict[str, Any] = {"containerPort": 8080, "protocol": "tcp"}
    if ec2:
        port["hostPort"] = 18080
    if mode == "service-connect":
        port |= {"name": "app", "appProtocol": "http"}
    return {
        "family": family,
        "cpu": "256",
        "memory": "512",
        "networkMode": "bridge" if ec2 else "awsvpc",
        "requiresCompatibilities": ["EC2" if ec2 else "FARGATE"],
        "executionRoleArn": ROLE,
        "taskRoleArn": None,
        "container": {
            "name": "app",
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "essential": True,
            "portMappings": [port],
            "command": [],
            "environment": {"A": "1", "B": "2"},
            "secrets": {},
            "stopTimeout": 30,
            "logGroup": "/privateservice/default/orders",
        }
        | container,
    }


def td_desired(props: dict[str, Any], owner: str = OWNER) -> Desired:
    return desired("task-definition", "ecs.task_definition", "task-definition", props, owner)


def register_behind(aws: Any, props: dict[str, Any], image: str, **extra: Any) -> str:
    """Register a revision of the family with a plain client; its ARN."""
    c = props["container"]
    args: dict[str, Any] = {
        "family": props["family"],
        "cpu": props["cpu"],
        "memory": props["memory"],
        "networkMode": props["networkMode"],
        "requiresCompatibilities": props["requiresCompatibilities"],
        "executionRoleArn": props["executionRoleArn"],
        "containerDefinitions": [
            {
                "name": c["name"],
                "image": image,
                "essential": True,
                "portMappings": c["portMappings"],
                "environment": [{"name": k, "value": v} for k, v in c["environment"].items()],
                "stopTimeout": c["stopTimeout"],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": c["logGroup"]},
                },
            }
        ],
    } | extra
    td = aws.client("ecs").register_task_definition(**args)["taskDefinition"]
    return str(td["taskDefinitionArn"])


def test_task_definition_absent_is_none(td_handler: TaskDefinitionHandler) -> None:
    """No revision of the family: None."""
    assert td_handler.observe(td_desired(td_props())) is None


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("fargate", id="Fargate awsvpc"),
        pytest.param("ec2", id="EC2 bridge with a fixed host port"),
        pytest.param("service-connect", id="named port mapping for Service Connect"),
    ],
)
def test_task_definition_round_trip(td_handler: TaskDefinitionHandler, mode: str) -> None:
    """Create registers revision 1 with our tags; observe reads it back in the props' shape
    (hostPort only in bridge mode, name/appProtocol only when set) with no delta."""
    want = td_desired(td_props(mode))
    made = td_handler.create(want)
    assert made.outputs["revision"] == 1
    assert made.outputs["arn"] == made.id
    have = td_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert have.owned_by(OWNER)
    assert td_handler.diff(want, have) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param({"image": "public.ecr.aws/nginx/nginx:evil"}, "container.image", id="image"),
        pytest.param({"memory": "1024"}, "memory", id="memory"),
    ],
)
def test_task_definition_drift_registers_a_new_revision(
    aws: Any, td_handler: TaskDefinitionHandler, change: dict[str, str], path: str
) -> None:
    """A revision registered behind our back becomes the latest: its change is a delta on the
    right path, and update registers a new revision with the desired props (no delta after)."""
    props = td_props()
    want = td_desired(props)
    td_handler.create(want)
    image = change.get("image", props["container"]["image"])
    extra = {"memory": change["memory"]} if "memory" in change else {}
    register_behind(aws, props, image, **extra)

    drifted = td_handler.observe(want)
    assert drifted is not None
    assert drifted.outputs["revision"] == 2
    deltas = td_handler.diff(want, drifted)
    assert [d.path for d in deltas] == [path]
    fixed = td_handler.update(want, drifted, deltas)
    assert fixed.outputs["revision"] == 3
    assert td_handler.diff(want, fixed) == []


def test_task_definition_without_our_tag_is_not_ours(
    aws: Any, td_handler: TaskDefinitionHandler
) -> None:
    """A family registered without our owner tag is observed but not owned."""
    props = td_props()
    register_behind(aws, props, props["container"]["image"])
    have = td_handler.observe(td_desired(props))
    assert have is not None
    assert not have.owned_by(OWNER)


def test_task_definition_delete(aws: Any, td_handler: TaskDefinitionHandler) -> None:
    """Delete deregisters every ACTIVE revision of the family (not a family that merely shares
    its prefix); then observe is None, and a second delete is still success."""
    props = td_props()
    want = td_desired(props)
    td_handler.create(want)
    have = td_handler.update(want, td_handler.reobserve(want), [])
    other = td_props(family=f"{NAME}-other")
    td_handler.create(td_desired(other))

    td_handler.delete(have)
    assert td_handler.observe(want) is None
    td_handler.delete(have)  # twice is fine
    assert td_handler.observe(td_desired(other)) is not None
    ecs = aws.client("ecs")
    for family, left in ((NAME, []), (f"{NAME}-other", [f"{NAME}-other:1"])):
        active = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")
        assert [a.rsplit("/", 1)[-1] for a in active["taskDefinitionArns"]] == left


def test_task_definition_list_owned_is_empty(td_handler: TaskDefinitionHandler) -> None:
    """TaskDefinitionHandler has no tag sweep: list_owned is the contract's default, empty."""
    td_handler.create(td_desired(td_props()))
    assert td_handler.list_owned(OWNER) == []


# -- the service ------------------------------------------------------------------------------


@pytest.fixture
def svc_handler(aws: Any) -> ServiceHandler:
    return ServiceHandler(context(aws))


@pytest.fixture
def stage(aws: Any) -> dict[str, str]:
    """What a service needs around it: cluster, task definition, task group, ip target group."""
    ecs, ec2 = aws.client("ecs"), aws.client("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    props = td_props()
    td = register_behind(aws, props, props["container"]["image"])
    group = ec2.create_security_group(
        GroupName="ps-default-orders-task", Description="tasks", VpcId=aws.network.vpc_id
    )["GroupId"]
    tg = aws.client("elbv2").create_target_group(
        Name="ps-default-orders-tg",
        Protocol="TCP",
        Port=8080,
        VpcId=aws.network.vpc_id,
        TargetType="ip",
    )["TargetGroups"][0]["TargetGroupArn"]
    return {"taskDefinition": td, "securityGroup": group, "targetGroupArn": tg}


def svc_props(aws: Any, stage: dict[str, str], name: str = NAME, **over: Any) -> dict[str, Any]:
    """Service props in the shape `controller.model.service.add_service` builds (Fargate)."""
    return {
        "cluster": CLUSTER,
        "name": name,
        "taskDefinition": stage["taskDefinition"],
        "desiredCount": 1,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "subnets": sorted(aws.network.private_subnet_ids),
        "securityGroups": [stage["securityGroup"]],
        "assignPublicIp": "DISABLED",
        "loadBalancer": {
            "targetGroupArn": stage["targetGroupArn"],
            "containerName": "app",
            "containerPort": 8080,
        },
        "healthCheckGracePeriodSeconds": 60,
        "enableExecuteCommand": False,
        "deployment": {
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            "circuitBreaker": {"enable": True, "rollback": True},
        },
        "serviceConnect": {"enabled": False},
    } | over


def svc_desired(props: dict[str, Any], owner: str = OWNER) -> Desired:
    return desired("ecs-service", "ecs.service", "ecs-service", props, owner)


def filler(aws: Any, stage: dict[str, str], name: str, tags: dict[str, str] | None = None) -> str:
    """A bare service (no tasks) made with a plain client; its ARN."""
    extra = {"tags": ownership.to_list(tags, lower=True)} if tags else {}
    return str(
        aws.client("ecs").create_service(
            cluster=CLUSTER,
            serviceName=name,
            taskDefinition=stage["taskDefinition"],
            desiredCount=0,
            launchType="FARGATE",
            **extra,
        )["service"]["serviceArn"]
    )


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("no cluster", id="cluster absent"),
        pytest.param("empty cluster", id="no service in the cluster"),
        pytest.param("others only", id="only services of other names"),
        pytest.param("deleted", id="ours deleted: INACTIVE counts as absent"),
    ],
)
def test_service_absent_is_none(
    aws: Any, svc_handler: ServiceHandler, stage: dict[str, str], where: str
) -> None:
    """Observe is None when the cluster or the service (or only an INACTIVE one) is not there."""
    props = svc_props(aws, stage)
    if where == "no cluster":
        props["cluster"] = "no-such-cluster"
    if where == "others only":
        filler(aws, stage, "another-service")
    if where == "deleted":
        filler(aws, stage, NAME)
        aws.client("ecs").delete_service(cluster=CLUSTER, service=NAME, force=True)
    assert svc_handler.observe(svc_desired(props)) is None


def test_service_round_trip(aws: Any, svc_handler: ServiceHandler, stage: dict[str, str]) -> None:
    """Create makes the service with our tags and every prop; observe reads it back with no
    delta, and outputs its ARN and name."""
    want = svc_desired(svc_props(aws, stage))
    made = svc_handler.create(want)
    have = svc_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert have.owned_by(OWNER)
    assert have.outputs["name"] == NAME
    assert have.outputs["arn"] == made.id
    assert svc_handler.diff(want, have) == []


@pytest.mark.parametrize(
    ("update", "path"),
    [
        pytest.param({"desiredCount": 3}, "desiredCount", id="desiredCount"),
        pytest.param(
            {"healthCheckGracePeriodSeconds": 5}, "healthCheckGracePeriodSeconds", id="grace"
        ),
        pytest.param(
            {"deploymentConfiguration": {"minimumHealthyPercent": 50, "maximumPercent": 200}},
            "deployment.minimumHealthyPercent",
            id="deployment minimum healthy percent",
        ),
    ],
)
def test_service_drift_is_put_back(
    aws: Any,
    svc_handler: ServiceHandler,
    stage: dict[str, str],
    update: dict[str, Any],
    path: str,
) -> None:
    """An UpdateService made with a plain client is a delta on the right path (no replacement)
    that update() puts back with one UpdateService."""
    want = svc_desired(svc_props(aws, stage))
    svc_handler.create(want)
    aws.client("ecs").update_service(cluster=CLUSTER, service=NAME, **update)

    drifted = svc_handler.observe(want)
    assert drifted is not None
    deltas = svc_handler.diff(want, drifted)
    assert path in [d.path for d in deltas]
    assert not svc_handler.requires_replacement(deltas)
    fixed = svc_handler.update(want, drifted, deltas)
    assert svc_handler.diff(want, fixed) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("launchType", "EC2", id="launch type"),
        pytest.param("cluster", "another-cluster", id="cluster"),
    ],
)
def test_service_immutable_fields_need_replacement(
    aws: Any, svc_handler: ServiceHandler, stage: dict[str, str], field: str, value: str
) -> None:
    """A changed launch type or cluster is a delta that requires replacement."""
    have = svc_handler.create(svc_desired(svc_props(aws, stage)))
    deltas = svc_handler.diff(svc_desired(svc_props(aws, stage, **{field: value})), have)
    assert field in [d.path for d in deltas]
    assert svc_handler.requires_replacement(deltas)


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(None, id="untagged"),
        pytest.param(ownership.owner_tags(OTHER_OWNER, "ecs-service", {}), id="another owner's"),
    ],
)
def test_service_at_our_name_not_ours(
    aws: Any, svc_handler: ServiceHandler, stage: dict[str, str], tags: dict[str, str] | None
) -> None:
    """A service at our name without our owner tag is observed but not owned."""
    arn = filler(aws, stage, NAME, tags)
    have = svc_handler.observe(svc_desired(svc_props(aws, stage)))
    assert have is not None
    assert have.id == arn
    assert not have.owned_by(OWNER)


@pytest.mark.parametrize(
    ("before", "after", "chunk"),
    [
        pytest.param(3, 2, 0, id="5 services: first chunk"),
        pytest.param(12, 2, 1, id="14 services: second chunk of 10"),
        pytest.param(10, 0, 1, id="11 services: alone in the second chunk"),
        pytest.param(9, 5, 0, id="15 services: last of the first chunk"),
    ],
)
def test_service_found_among_many(
    aws: Any,
    svc_handler: ServiceHandler,
    stage: dict[str, str],
    before: int,
    after: int,
    chunk: int,
) -> None:
    """Among more services than DescribeServices takes at once (10), observe finds ours in its
    chunk of ListServices' sorted ARNs, describing at most 10 and only that chunk."""
    for i in range(before):
        filler(aws, stage, f"a-{i:02d}")  # sorts before ours
    for i in range(after):
        filler(aws, stage, f"z-{i:02d}")  # sorts after
    want = svc_desired(svc_props(aws, stage))
    made = svc_handler.create(want)
    described: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        described.append(list(params["services"]))

    svc_handler.client.meta.events.register("provide-client-params.ecs.DescribeServices", record)
    have = svc_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert svc_handler.diff(want, have) == []
    assert len(described) == 1
    arns = sorted(a for a in described[0])
    assert len(arns) <= 10
    assert made.id in arns
    names = sorted(
        [*(f"a-{i:02d}" for i in range(before)), NAME, *(f"z-{i:02d}" for i in range(after))]
    )
    expected = names[chunk * 10 : chunk * 10 + 10]
    assert [a.rsplit("/", 1)[-1] for a in arns] == expected


def test_service_not_listed_yet_is_described_by_name(
    aws: Any, svc_handler: ServiceHandler, stage: dict[str, str]
) -> None:
    """A service ListServices does not list yet (its read lags the create) is still found: it is
    described by name."""
    for i in range(12):
        filler(aws, stage, f"a-{i:02d}")
    want = svc_desired(svc_props(aws, stage))
    made = svc_handler.create(want)

    def lagging(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("http://sandbox", 200, {}, None), {"serviceArns": []}

    svc_handler.client.meta.events.register("before-call.ecs.ListServices", lagging)
    have = svc_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert svc_handler.diff(want, have) == []


def test_service_delete(aws: Any, svc_handler: ServiceHandler, stage: dict[str, str]) -> None:
    """Delete (forced) takes the service away; deleting it again, or with its cluster gone, is
    still success."""
    want = svc_desired(svc_props(aws, stage))
    have = svc_handler.create(want)
    svc_handler.delete(have)
    assert svc_handler.observe(want) is None
    svc_handler.delete(have)  # twice is fine
    aws.client("ecs").delete_cluster(cluster=CLUSTER)
    svc_handler.delete(have)  # and with the cluster gone


def test_service_list_owned_is_empty(
    aws: Any, svc_handler: ServiceHandler, stage: dict[str, str]
) -> None:
    """ServiceHandler has no tag sweep: list_owned is the contract's default, empty even with
    one of ours running."""
    svc_handler.create(svc_desired(svc_props(aws, stage)))
    assert svc_handler.list_owned(OWNER) == []
