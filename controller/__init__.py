"""privateservice-controller: reconciles API Gateway -> VPC Link -> NLB -> ECS to a PrivateService."""

__version__ = "0.1.0"
