"""The service layer of the stack: the task definition (and its execution role when the spec
gives none), the ECS service attached to the target group (rules 4 and 7), and what the launch
type or Service Connect adds. Pure.

- Fargate: `awsvpc` tasks in the private subnets behind the task security group, no public IP.
- EC2 with a fixed host port (seed 004): `bridge` tasks whose port mapping pins
  `container.hostPort`; no awsvpc configuration (ECS refuses one for bridge tasks); ECS registers
  each task's instance and host port in the `instance` target group. The container instances'
  security groups are not ours: `instance-sg-rules` (kind `ec2.sg_rules`) manages only our own
  tagged rules in them, admitting the host port from the NLB's group (health checks) and from
  the VPC CIDR (the NLB preserves client addresses), as rule 2 says for tasks.
- Service Connect (seed 001): the Cloud Map HTTP namespace (used as it is when it exists), the
  container's port mapping named `PORT_NAME` with its `appProtocol`, and the service's
  serviceConnectConfiguration publishing `discoveryName` on `port`. Client tasks reach the
  server's proxy on the container port (awsvpc: the proxy listens on the named port mapping's
  container port), which the task security group already admits from the VPC CIDR (rule 2); with
  an ALB tier (task group admits only the ALB's group) the VPC CIDR rule is added for that port.
Neighbours: `controller.model.build` (calls `add_service`), `controller.handlers.ecs_*`,
`controller.handlers.ec2_sg_rules`, `controller.handlers.servicediscovery_namespace`.
"""

from __future__ import annotations

from controller.model import iam, kinds, names
from controller.model.common import CONTAINER, extend_ingress, tcp_from
from controller.model.load_balancer import (
    service_dependency_key,
    service_target_group_key,
    task_security_group_key,
)
from controller.model.network import Network
from controller.model.props import (
    Container,
    Namespace,
    PortMapping,
    Role,
    Service,
    ServiceConnect,
    SgRules,
    TaskDefinition,
)
from controller.model.stack import Lazy, Ref, Resource, Stack
from controller.spec.models import PrivateService

PORT_NAME = CONTAINER  # the named port mapping Service Connect publishes
SC_NAMESPACE = "service-connect-namespace"
INSTANCE_RULES = "instance-sg-rules"


def add_service(stack: Stack, ps: PrivateService, net: Network) -> None:
    """Execution role (if needed), task definition, ECS service and what they need around them."""
    ns, nm, spec = ps.metadata.namespace, ps.metadata.name, ps.spec
    c, svc = spec.container, spec.service
    ec2 = svc.launch_type == "EC2"
    sc = svc.service_connect
    port_mapping: PortMapping = {"containerPort": c.port, "protocol": "tcp"}
    if ec2:
        port_mapping["hostPort"] = c.host_port  # seed 004: an NLB has no dynamic port mapping
    if sc is not None:
        port_mapping |= {"name": PORT_NAME, "appProtocol": sc.app_protocol}
    container: Container[Lazy] = {
        "name": CONTAINER,
        "image": c.image,
        "essential": True,
        "portMappings": [port_mapping],
        "command": list(c.command),
        "environment": dict(sorted(c.environment.items())),
        "secrets": dict(sorted(c.secrets.items())),
        "stopTimeout": c.stop_timeout_seconds,
        "logGroup": Ref("log-group", "name"),
    }
    task: TaskDefinition[Lazy] = {
        "family": names.aws_name(ns, nm, "", 255),
        "cpu": str(c.cpu),
        "memory": str(c.memory),
        "networkMode": "bridge" if ec2 else "awsvpc",
        "requiresCompatibilities": [svc.launch_type],
        "executionRoleArn": svc.execution_role_arn or Ref("execution-role", "arn"),
        "taskRoleArn": svc.task_role_arn,
        "container": container,
    }
    if svc.execution_role_arn is None:
        # Fargate pulls images and ships awslogs only with an execution role: make one (on EC2
        # it is what reads `secrets`).
        role: Role = {
            "name": names.aws_name(ns, nm, "exec", 64),
            "trustPolicy": iam.trust_policy("ecs-tasks.amazonaws.com"),
            "managedPolicies": [iam.EXECUTION_MANAGED_POLICY],
            "inlinePolicy": iam.secrets_policy(list(c.secrets.values())),
        }
        stack.add(Resource("execution-role", kinds.IAM_ROLE, "execution-role", role))
    task_paths = {
        "container.image": "container.image",
        "cpu": "container.cpu",
        "memory": "container.memory",
        "container.environment": "container.environment",
        "container.command": "container.command",
    }
    stack.add(
        Resource("task-definition", kinds.ECS_TASK_DEFINITION, "task-definition", task, task_paths)
    )

    dep = svc.deployment
    props: Service[Lazy] = {
        "cluster": Ref("ecs-cluster", "name"),
        "name": names.aws_name(ns, nm, "", 255),
        "taskDefinition": Ref("task-definition", "arn"),
        "desiredCount": svc.desired_count,
        "launchType": svc.launch_type,
        "loadBalancer": {
            "targetGroupArn": Ref(service_target_group_key(ps), "arn"),
            "containerName": CONTAINER,
            "containerPort": c.port,  # bridge too: ECS maps it to the host port it registers
        },
        "healthCheckGracePeriodSeconds": svc.health_check_grace_period_seconds,
        "enableExecuteCommand": svc.enable_execute_command,
        "deployment": {
            "minimumHealthyPercent": dep.minimum_healthy_percent,
            "maximumPercent": dep.maximum_percent,
            "circuitBreaker": {
                "enable": dep.circuit_breaker.enable,
                "rollback": dep.circuit_breaker.rollback,
            },
        },
        "serviceConnect": {"enabled": False},
    }
    paths = {
        "desiredCount": "service.desiredCount",
        "healthCheckGracePeriodSeconds": "service.healthCheckGracePeriodSeconds",
        "enableExecuteCommand": "service.enableExecuteCommand",
        "serviceConnect": "service.serviceConnect",
    }
    task_sg = task_security_group_key(ps)
    if task_sg is not None:  # awsvpc
        props |= {
            "platformVersion": svc.platform_version,
            "subnets": sorted(net.subnet_ids),
            "securityGroups": [Ref(task_sg)],
            "assignPublicIp": "DISABLED",  # rule 4
        }
        paths["platformVersion"] = "service.platformVersion"
    if ec2:
        _add_instance_rules(stack, ps, net)
    if sc is not None:
        props["serviceConnect"] = _service_connect(stack, ps, net)
    stack.add(
        Resource(
            "ecs-service",
            kinds.ECS_SERVICE,
            "ecs-service",
            props,
            paths,
            # ECS refuses a target group that no listener (or ALB rule) uses
            extra_deps=(service_dependency_key(ps),),
        )
    )


def _add_instance_rules(stack: Stack, ps: PrivateService, net: Network) -> None:
    """Our rules in the container instances' groups: the host port from the NLB and the VPC."""
    c, svc = ps.spec.container, ps.spec.service
    assert c.host_port is not None  # spec rules: launchType EC2 needs hostPort
    stack.add(
        Resource(
            INSTANCE_RULES,
            kinds.EC2_SG_RULES,
            INSTANCE_RULES,
            SgRules[Lazy](
                {
                    "cluster": Ref("ecs-cluster", "name"),
                    "groupIds": sorted(svc.instance_security_group_ids),  # empty: from the cluster
                    "ingress": [
                        tcp_from(
                            c.host_port,
                            group=Ref("nlb-sg"),
                            why=f"{ps.owner}: health checks from the NLB",
                        ),
                        tcp_from(
                            c.host_port,
                            cidr=net.cidr,
                            why=f"{ps.owner}: traffic through the NLB (source preserved)",
                        ),
                    ],
                }
            ),
            {
                "groupIds": "service.instanceSecurityGroupIds",
                "ingress": "container.hostPort",
            },
        )
    )


def _service_connect(stack: Stack, ps: PrivateService, net: Network) -> ServiceConnect[Lazy]:
    """The Cloud Map namespace, the client rule the task group may lack, and the service config."""
    sc = ps.spec.service.service_connect
    assert sc is not None
    namespace: Namespace = {"name": sc.namespace, "type": "HTTP"}
    stack.add(
        Resource(
            SC_NAMESPACE,
            kinds.SERVICEDISCOVERY_NAMESPACE,
            SC_NAMESPACE,
            namespace,
            {"name": "service.serviceConnect.namespace"},
        )
    )
    key = task_security_group_key(ps)
    task_sg = stack.resources.get(key) if key is not None else None
    if (
        key is not None
        and task_sg is not None
        and not any(
            r.get("cidr") == net.cidr and r["fromPort"] <= sc.port <= r["toPort"]
            for r in task_sg.props["ingress"]
        )
    ):
        # An ALB tier leaves the task group admitting only the ALB: Service Connect clients
        # (other tasks in the VPC, their proxies connecting straight to ours) need the port.
        extend_ingress(stack, key, tcp_from(sc.port, cidr=net.cidr, why="Service Connect clients"))
    return {
        "enabled": True,
        "namespace": Ref(SC_NAMESPACE, "arn"),
        "services": [
            {
                "portName": PORT_NAME,
                "discoveryName": sc.discovery_name,
                "clientAliases": [{"port": sc.port, "dnsName": sc.discovery_name}],
            }
        ],
    }
