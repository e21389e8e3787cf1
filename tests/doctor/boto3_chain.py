"""A chain built without psctl, with plain boto3 (as Terraform or the console would): REST API ->
VPC Link -> internal NLB -> target group (ip) -> Fargate service, whose task security group
admits nothing (field report 000's first trap). Used by the doctor tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PORT = 8080


@dataclass(frozen=True)
class Chain:
    """The ids of what `build` created."""

    api_id: str
    stage: str
    vpc_link_id: str
    nlb_arn: str
    nlb_name: str
    tg_arn: str
    listener_arn: str
    cluster: str
    service: str
    service_arn: str
    task_sg: str


def build(aws: Any, name: str = "tf-orders") -> Chain:
    """Create the chain on the sandbox `aws` (a `SandboxAccess`)."""
    net = aws.network
    ec2, elb, ecs = aws.client("ec2"), aws.client("elbv2"), aws.client("ecs")
    apigw = aws.client("apigateway")
    subnets = list(net.private_subnet_ids)
    task_sg = ec2.create_security_group(
        GroupName=f"{name}-tasks", Description="tasks", VpcId=net.vpc_id
    )["GroupId"]
    lb = elb.create_load_balancer(
        Name=f"{name}-nlb", Subnets=subnets, Scheme="internal", Type="network"
    )["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=f"{name}-tg",
        Protocol="TCP",
        Port=PORT,
        VpcId=net.vpc_id,
        TargetType="ip",
        HealthCheckProtocol="HTTP",
        HealthCheckPath="/healthz",
    )["TargetGroups"][0]
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="TCP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )["Listeners"][0]
    ecs.create_cluster(clusterName=name)
    td = ecs.register_task_definition(
        family=name,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "portMappings": [{"containerPort": PORT, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]
    svc = ecs.create_service(
        cluster=name,
        serviceName=name,
        taskDefinition=td["taskDefinitionArn"],
        desiredCount=1,
        launchType="FARGATE",
        loadBalancers=[
            {"targetGroupArn": tg["TargetGroupArn"], "containerName": "app", "containerPort": PORT}
        ],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [task_sg],
                "assignPublicIp": "DISABLED",
            }
        },
    )["service"]
    link = apigw.create_vpc_link(name=f"{name}-link", targetArns=[lb["LoadBalancerArn"]])
    api = apigw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})
    root = next(r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"])
    apigw.put_method(
        restApiId=api["id"], resourceId=root, httpMethod="ANY", authorizationType="NONE"
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=root,
        httpMethod="ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri=f"http://{lb['DNSName']}:80/",
        connectionType="VPC_LINK",
        connectionId=link["id"],
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    return Chain(
        api_id=api["id"],
        stage="prod",
        vpc_link_id=link["id"],
        nlb_arn=lb["LoadBalancerArn"],
        nlb_name=lb["LoadBalancerName"],
        tg_arn=tg["TargetGroupArn"],
        listener_arn=listener["ListenerArn"],
        cluster=name,
        service=name,
        service_arn=svc["serviceArn"],
        task_sg=task_sg,
    )
