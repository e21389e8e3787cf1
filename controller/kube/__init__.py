"""Kubernetes: the client, the PrivateService resource, the Lease backend and the spec source.

Everything that talks to a Kubernetes API server lives here and goes through lightkube's
asyncio client (`client.make_client`). Neighbours: `controller.sources` (the source protocol),
`controller.runtime` (the controller that uses the source and the lease).
"""
