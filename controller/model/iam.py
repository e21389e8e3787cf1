"""IAM policy documents of the model (pure): the task execution role's trust and secrets access."""

from __future__ import annotations

from typing import Any

EXECUTION_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def trust_policy(service: str) -> dict[str, Any]:
    """A trust policy for one AWS service principal."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def secrets_policy(arns: list[str]) -> dict[str, Any] | None:
    """Read access to exactly these Secrets Manager secrets and SSM parameters, or None."""
    statements = []
    sm = sorted(a for a in arns if ":secretsmanager:" in a)
    ssm = sorted(a for a in arns if ":ssm:" in a)
    if sm:
        statements.append(
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": sm}
        )
    if ssm:
        statements.append({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": ssm})
    return {"Version": "2012-10-17", "Statement": statements} if statements else None
