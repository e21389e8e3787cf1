"""Fixtures for tests that need a Kubernetes API server.

- `kube_api` (function): a started `FakeApiServer` (see `apiserver`) serving the project's CRD
  (`crds/privateservice.yaml`), core v1 Events and coordination.k8s.io/v1 Leases; stopped after
  the test. Connect with `KubeConfig.from_file(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))`.
  Tests outside `tests/kube` can use it with `from kube.conftest import kube_api`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .apiserver import FakeApiServer

CRD_PATH = Path(__file__).resolve().parents[2] / "crds" / "privateservice.yaml"


@functools.cache
def project_crd() -> dict[str, Any]:
    """The project's CustomResourceDefinition, parsed once per process."""
    loaded: dict[str, Any] = yaml.safe_load(CRD_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def kube_api() -> Iterator[FakeApiServer]:
    """A running fake API server with the PrivateService CRD registered."""
    server = FakeApiServer()
    server.register_crd(project_crd())
    with server:
        yield server
