"""Cloud Map over HTTP: a namespace name is taken once; creation is an asynchronous operation."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError


def test_second_http_namespace_of_the_same_name_is_refused(aws):
    """AWS CreateHttpNamespace: "NamespaceAlreadyExists: The namespace that you're trying to
    create already exists."; moto would create a duplicate."""
    sd = aws.client("servicediscovery")
    sd.create_http_namespace(Name="shop.internal", CreatorRequestId="one")
    time.sleep(0.6)  # created (the operation succeeded)
    with pytest.raises(ClientError) as caught:
        sd.create_http_namespace(Name="shop.internal", CreatorRequestId="two")
    assert caught.value.response["Error"]["Code"] == "NamespaceAlreadyExists"
    assert [n["Name"] for n in sd.list_namespaces()["Namespaces"]] == ["shop.internal"]


def test_other_names_are_free(aws):
    """Different names coexist."""
    sd = aws.client("servicediscovery")
    sd.create_http_namespace(Name="a.internal", CreatorRequestId="a")
    sd.create_http_namespace(Name="b.internal", CreatorRequestId="b")
    time.sleep(0.6)
    assert sorted(n["Name"] for n in sd.list_namespaces()["Namespaces"]) == [
        "a.internal",
        "b.internal",
    ]


def test_creation_is_submitted_then_succeeds(aws):
    """AWS: CreateHttpNamespace returns an operation; the namespace exists once it succeeded."""
    from controller.sandbox.fidelity.servicediscovery_namespaces import TIMING

    sd = aws.client("servicediscovery")
    operation_id = sd.create_http_namespace(Name="slow.internal", CreatorRequestId="s")[
        "OperationId"
    ]
    operation = sd.get_operation(OperationId=operation_id)["Operation"]
    assert operation["Status"] == "SUBMITTED"
    assert sd.list_namespaces()["Namespaces"] == []
    with pytest.raises(ClientError) as caught:
        sd.create_http_namespace(Name="slow.internal", CreatorRequestId="again")
    assert caught.value.response["Error"]["Code"] == "NamespaceAlreadyExists"
    time.sleep(TIMING.seconds + 0.1)
    operation = sd.get_operation(OperationId=operation_id)["Operation"]
    assert operation["Status"] == "SUCCESS"
    (namespace,) = sd.list_namespaces()["Namespaces"]
    assert namespace["Id"] == operation["Targets"]["NAMESPACE"]
