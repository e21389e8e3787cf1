"""`psctl run` options of the Kubernetes deployment: --leader-election forms and --namespace."""

from __future__ import annotations

import pytest

from controller import cli, cli_run
from controller.runtime.lease import LEASE_NAME


def test_leader_election_forms(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("POD_NAMESPACE", "privateservice-system")
    assert cli_run._leader_election(None) == (None, None)
    assert cli_run._leader_election("dynamodb:psctl-lease") == ("psctl-lease", None)
    assert cli_run._leader_election("lease") == (None, ("privateservice-system", LEASE_NAME))
    assert cli_run._leader_election("lease:ops/psctl") == (None, ("ops", "psctl"))


@pytest.mark.parametrize("value", ["dynamodb", "dynamodb:", "lease:ops", "lease:/x", "etcd:x"])
def test_bad_leader_election_is_refused_before_anything_starts(
    value: str, capsys: pytest.CaptureFixture[str]
):
    assert cli.main(["run", "--source", "specs/", "--leader-election", value]) == 1
    err = capsys.readouterr().err
    assert f"--leader-election {value!r}" in err
    assert "dynamodb:TABLE, lease or lease:NAMESPACE/NAME" in err


def test_namespace_needs_the_kubernetes_source(capsys: pytest.CaptureFixture[str]):
    assert cli.main(["run", "--source", "specs/", "--namespace", "shop"]) == 1
    assert "--namespace applies to --source kubernetes only" in capsys.readouterr().err
