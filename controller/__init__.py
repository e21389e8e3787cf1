"""privateservice-controller: keeps API Gateway -> VPC Link -> NLB -> ECS true to a spec."""

__version__ = "0.1.0"
