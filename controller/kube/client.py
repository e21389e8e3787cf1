"""The lightkube client and the resource classes the controller uses.

`make_client` reads the configuration the way kubectl does: inside a pod, the service account
(token, CA, namespace); elsewhere `KUBECONFIG` or `~/.kube/config`. `PrivateService` is the
custom resource of `crds/privateservice.yaml` (`PrivateService.Status` is its status
subresource). Neighbours: `source`, `lease` (the only users).
"""

from __future__ import annotations

import os
from pathlib import Path

from lightkube import AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource

from controller.spec.models import KIND

GROUP, VERSION, PLURAL = "privateservice.io", "v1alpha1", "privateservices"
FIELD_MANAGER = "privateservice-controller"
FINALIZER = "privateservice.io/finalizer"
"""Set on every object the controller has reconciled: the object goes only once its AWS
resources are deleted (or kept, under `deletionPolicy: Retain`)."""
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")

PrivateService = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)


def make_client() -> AsyncClient:
    """An asyncio client configured from the pod's service account or the kubeconfig."""
    return AsyncClient(config=KubeConfig.from_env(), field_manager=FIELD_MANAGER)


def own_namespace() -> str:
    """The controller's own namespace (where its Lease lives): `POD_NAMESPACE`, the service
    account's namespace, or `default`."""
    env = os.environ.get("POD_NAMESPACE")
    if env:
        return env
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"
