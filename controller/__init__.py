"""privateservice-controller: reconciles API Gateway -> VPC Link -> NLB -> ECS toward a PrivateService."""

__version__ = "0.1.0"
