"""The long-running controller: asyncio workers per spec, drift policy, health, metrics, status."""
