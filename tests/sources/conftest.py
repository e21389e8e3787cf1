"""Fixtures of the spec source tests: PrivateService YAML documents to put in files and objects."""

from __future__ import annotations

from collections.abc import Callable

import pytest

TEMPLATE = """\
apiVersion: privateservice.io/v1alpha1
kind: PrivateService
metadata:
  name: {name}
  namespace: {namespace}
spec:
  network:
    vpcId: vpc-0abc
    subnetIds: [subnet-0a, subnet-0b]
  container:
    image: {image}
    port: 8080
  service:
    cluster: shop
  loadBalancer:
    targetGroup:
      deregistrationDelaySeconds: {delay}
      healthCheck:
        path: /healthz
{extra}"""
BROKEN_RULE = "        timeoutSeconds: 10\n        intervalSeconds: 5\n"

MakeDoc = Callable[..., str]


def make_doc(
    name: str,
    *,
    namespace: str = "shop",
    image: str = "nginx:1.27",
    delay: int = 30,
    broken_rule: bool = False,
) -> str:
    """One valid document; `delay` above 60 adds a warning, `image=""` a structural error and
    `broken_rule` a cross-field error (the model parses: the owner is known)."""
    extra = BROKEN_RULE if broken_rule else ""
    return TEMPLATE.format(name=name, namespace=namespace, image=image, delay=delay, extra=extra)


@pytest.fixture
def doc() -> MakeDoc:
    """`doc(name, **options)` -> the YAML text of one document (see `make_doc`)."""
    return make_doc
