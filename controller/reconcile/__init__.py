"""Reconciliation: the engine that walks a stack, plan rendering, and status."""
