"""deploy/kubernetes: the kustomize base and the example overlay, rendered and checked offline.

No kubectl is needed. `render()` below is the subset of kustomize these manifests use:

- `resources:` entries that are YAML files (every document is an object) or directories holding
  a kustomization.yaml (rendered recursively, first);
- `namespace:` sets metadata.namespace on namespaced objects. kustomize also renames bindings'
  ServiceAccount subjects and other references when the namespace changes; that is not modelled,
  so `render()` refuses to move an object or a subject from one namespace to another;
- `images:` (name, newName, newTag, digest) on the containers and initContainers of pod templates;
- `replicas:` (name, count) on Deployments, StatefulSets and ReplicaSets.

A kustomization with any other field makes `render()` fail, so a new kustomize feature in
deploy/kubernetes forces a change here. When `kubectl` is on PATH, `kubectl kustomize` renders the
same directories too and the objects must be equal.

Then every rendered object passes `kubernetes-validate --strict` (the schemas ship with the
package), checkov passes with its download features off, and the security properties of the
install are asserted one by one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE_ROOT = ROOT / "deploy" / "kubernetes"
BASE = KUSTOMIZE_ROOT / "base"
OVERLAY = KUSTOMIZE_ROOT / "overlays" / "example"
BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.30.0"

NAMESPACE = "privateservice-system"
NAME = "privateservice-controller"
IMAGE = "ghcr.io/privateservice/controller:0.1.0"
GROUP = "privateservice.io"

Obj = dict[str, Any]

# --- the subset of kustomize these manifests use ----------------------------------------------

_KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas"}
_CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
}
_SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet"}
_IMAGE_RE = re.compile(r"^(?P<name>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>.+))?$")


def _kustomization(directory: Path) -> Obj:
    doc = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(doc) - _KUSTOMIZATION_FIELDS
    if unknown:
        raise NotImplementedError(f"{directory}: kustomize fields not modelled: {sorted(unknown)}")
    return doc


def _set_namespace(obj: Obj, namespace: str) -> None:
    if obj["kind"] in _CLUSTER_SCOPED:
        return
    meta = obj["metadata"]
    if meta.get("namespace", namespace) != namespace:
        raise NotImplementedError(f"moving {obj['kind']}/{meta['name']} between namespaces")
    meta["namespace"] = namespace


def _check_subjects(obj: Obj, namespace: str) -> None:
    for subject in obj.get("subjects", []) if obj["kind"].endswith("RoleBinding") else []:
        if subject.get("kind") == "ServiceAccount" and subject.get("namespace") != namespace:
            raise NotImplementedError(f"{obj['metadata']['name']}: subject namespace rewriting")


def _pod_containers(obj: Obj) -> list[Obj]:
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _set_image(container: Obj, rule: Obj) -> None:
    match = _IMAGE_RE.match(container["image"])
    assert match, container["image"]
    if match["name"] != rule["name"]:
        return
    name = rule.get("newName", match["name"])
    if "digest" in rule:
        container["image"] = f"{name}@{rule['digest']}"
    elif "newTag" in rule:
        container["image"] = f"{name}:{rule['newTag']}"
    else:
        tag = f":{match['tag']}" if match["tag"] else ""
        digest = f"@{match['digest']}" if match["digest"] else ""
        container["image"] = f"{name}{tag}{digest}"


def render(directory: Path) -> list[Obj]:
    """The objects `kustomize build directory` emits (order aside), for the modelled subset."""
    kustomization = _kustomization(directory)
    objects: list[Obj] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects.extend(render(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    namespace = kustomization.get("namespace")
    for obj in objects:
        if namespace:
            _set_namespace(obj, namespace)
            _check_subjects(obj, namespace)
        for rule in kustomization.get("images", []):
            for container in _pod_containers(obj):
                _set_image(container, rule)
        for rule in kustomization.get("replicas", []):
            if obj["kind"] in _SCALABLE and obj["metadata"]["name"] == rule["name"]:
                obj["spec"]["replicas"] = rule["count"]
    return objects


# --- helpers ----------------------------------------------------------------------------------


def _key(obj: Obj) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def _by_key(objects: list[Obj]) -> dict[tuple[str, str, str, str], Obj]:
    keyed = {_key(obj): obj for obj in objects}
    assert len(keyed) == len(objects), "two objects share apiVersion/kind/namespace/name"
    return keyed


def _one(objects: list[Obj], kind: str, name: str | None = None) -> Obj:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _write_documents(objects: list[Obj], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, obj in enumerate(objects):
        path = directory / f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(obj, sort_keys=False))
        paths.append(path)
    return paths


def _skip_annotations(obj: Obj) -> dict[str, str]:
    annotations = obj["metadata"].get("annotations") or {}
    return {k: v for k, v in annotations.items() if k.startswith("checkov.io/skip")}


@pytest.fixture(scope="module")
def base() -> list[Obj]:
    return render(BASE)


@pytest.fixture(scope="module")
def overlay() -> list[Obj]:
    return render(OVERLAY)


@pytest.fixture(scope="module")
def deployment(base: list[Obj]) -> Obj:
    return _one(base, "Deployment", NAME)


@pytest.fixture(scope="module")
def container(deployment: Obj) -> Obj:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["controller"]
    return containers[0]


# --- the CRD copy and the renderer ------------------------------------------------------------


def test_base_crd_is_the_generated_crd_byte_for_byte() -> None:
    """kustomize cannot reach crds/ from the base; the copy must never drift from `psctl crd`."""
    generated = (ROOT / "crds" / "privateservice.yaml").read_bytes()
    assert (BASE / "crd.yaml").read_bytes() == generated, (
        "deploy/kubernetes/base/crd.yaml differs from crds/privateservice.yaml: "
        "cp crds/privateservice.yaml deploy/kubernetes/base/crd.yaml"
    )


def test_every_base_file_is_a_listed_resource() -> None:
    listed = set(_kustomization(BASE)["resources"])
    on_disk = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
@pytest.mark.parametrize("directory", [BASE, OVERLAY], ids=["base", "overlay"])
def test_renderer_agrees_with_kubectl_kustomize(directory: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl
    built = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    expected = _by_key([doc for doc in yaml.safe_load_all(built) if doc])
    actual = _by_key(render(directory))
    assert sorted(actual) == sorted(expected)
    for key, obj in actual.items():
        assert obj == expected[key], key


def test_renderer_refuses_unmodelled_kustomize_fields(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nnamePrefix: x-\n")
    with pytest.raises(NotImplementedError, match="namePrefix"):
        render(tmp_path)


def test_renderer_refuses_to_move_namespaces(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(f"resources: [{BASE}]\nnamespace: elsewhere\n")
    with pytest.raises(NotImplementedError, match="between namespaces"):
        render(tmp_path)


# --- schema validation and checkov ------------------------------------------------------------


def _kubernetes_validate(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "kubernetes-validate"),
            "--strict",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_rendered_object_passes_kubernetes_validate_strict(
    base: list[Obj], overlay: list[Obj], tmp_path: Path
) -> None:
    """Including the CustomResourceDefinition itself (PrivateService objects are not validated)."""
    paths = _write_documents(base, tmp_path / "base") + _write_documents(overlay, tmp_path / "ov")
    assert "CustomResourceDefinition" in {o["kind"] for o in base}
    result = _kubernetes_validate(paths)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if " passed for resource " in line]
    assert len(passed) == len(paths), result.stdout + result.stderr


def test_kubernetes_validate_strict_rejects_unknown_fields(deployment: Obj, tmp_path: Path) -> None:
    """The control for the test above: a misspelt field fails, so the validator is not a no-op."""
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    result = _kubernetes_validate(_write_documents([broken], tmp_path))
    assert result.returncode != 0
    assert "readinesProbe" in result.stdout + result.stderr


def test_checkov_passes_on_the_rendered_manifests(
    base: list[Obj], overlay: list[Obj], tmp_path: Path
) -> None:
    """Offline (no policy download, no Bridgecrew ID mapping); skips are exactly the annotated."""
    _write_documents(base, tmp_path / "base")
    _write_documents(overlay, tmp_path / "overlay")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(
        [
            str(BIN / "checkov"),
            "--directory",
            str(tmp_path),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["failed"] == 0
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0
    skipped = {(c["check_id"], c["resource"]) for c in report["results"]["skipped_checks"]}
    annotated = {
        (value.split("=", 1)[0], f"{obj['kind']}.{obj['metadata']['namespace']}.{name}")
        for obj in base
        for name in [obj["metadata"]["name"]]
        for value in _skip_annotations(obj).values()
    }
    assert skipped == annotated


def test_every_checkov_skip_has_a_written_reason(base: list[Obj]) -> None:
    skips = [value for obj in base for value in _skip_annotations(obj).values()]
    assert skips, "expected the documented skips"
    for value in skips:
        # checkov splits on every "=", so the reason must not contain one.
        check_id, sep, reason = value.partition("=")
        assert re.fullmatch(r"CKV2?_K8S_\d+", check_id), value
        assert sep
        assert "=" not in reason, value
        assert len(reason.split()) >= 12, f"{check_id}: the reason is too thin: {reason!r}"
    assert {v.partition("=")[0] for v in skips} == {"CKV_K8S_15", "CKV_K8S_38", "CKV_K8S_43"}


# --- the install's properties -----------------------------------------------------------------


def test_kinds_and_namespace(base: list[Obj]) -> None:
    assert sorted(o["kind"] for o in base) == sorted(
        [
            "CustomResourceDefinition",
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            "NetworkPolicy",
        ]
    )
    assert _one(base, "Namespace")["metadata"]["name"] == NAMESPACE
    for obj in base:
        if obj["kind"] not in _CLUSTER_SCOPED:
            assert obj["metadata"]["namespace"] == NAMESPACE, _key(obj)


def test_service_account_carries_the_irsa_role(base: list[Obj]) -> None:
    account = _one(base, "ServiceAccount", NAME)
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        "arn:aws:iam::ACCOUNT_ID:role/privateservice-controller"
    )


def test_deployment_runs_the_controller(deployment: Obj, container: Obj) -> None:
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == NAME
    assert pod["automountServiceAccountToken"] is True
    assert container["image"] == IMAGE
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["args"] == [
        "run",
        "--source",
        "kubernetes",
        "--leader-election",
        "lease",
        "--listen",
        "0.0.0.0:8080",
    ]
    assert container["ports"] == [
        {"name": "http-metrics", "containerPort": 8080, "protocol": "TCP"}
    ]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_deployment_probes(container: Obj) -> None:
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}


def test_deployment_resources(container: Obj) -> None:
    for section in ("requests", "limits"):
        assert set(container["resources"][section]) == {"cpu", "memory"}


def test_pod_security(deployment: Obj, container: Obj) -> None:
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(host_namespace), host_namespace
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == 10001
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc.get("privileged", False) is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    # Nothing secret reaches the container through its environment.
    for env in container.get("env", []):
        assert "secretKeyRef" not in env.get("valueFrom", {}), env["name"]
    assert "envFrom" not in container


def test_metrics_service_and_pdb_select_the_pods(base: list[Obj], deployment: Obj) -> None:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = _one(base, "Service")
    assert service["spec"]["ports"] == [
        {"name": "http-metrics", "port": 8080, "targetPort": "http-metrics", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = _one(base, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    policy = _one(base, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()


def _rules(obj: Obj) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in obj["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_rbac_is_least_privilege(base: list[Obj]) -> None:
    roles = [o for o in base if o["kind"] in {"ClusterRole", "Role"}]
    for role in roles:
        for rule in role["rules"]:
            assert "resourceNames" not in rule or rule["resourceNames"]
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], (role["metadata"]["name"], field)
            assert "nonResourceURLs" not in rule
    cluster = _one(base, "ClusterRole", NAME)
    # exactly what the controller calls (tests/kube/test_kube_processes checks the calls it made)
    expected = {(GROUP, "privateservices", v) for v in ("list", "watch", "patch")}
    expected |= {(GROUP, "privateservices/status", "patch")}
    expected |= {("", "events", v) for v in ("create", "patch")}
    assert _rules(cluster) == expected
    role = _one(base, "Role")
    assert role["metadata"]["namespace"] == NAMESPACE
    leases = {("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")}
    assert _rules(role) == leases
    # Leases only through the namespaced Role; no secrets, no pods/exec, no escalation anywhere.
    for group, resource, verb in _rules(cluster) | _rules(role):
        if resource == "leases":
            assert (group, resource, verb) in _rules(role)
            assert (group, resource, verb) not in _rules(cluster)
        assert resource not in {"secrets", "pods/exec", "roles", "clusterroles", "serviceaccounts"}
        assert verb not in {"escalate", "bind", "impersonate", "delete", "deletecollection"}


def test_bindings_grant_the_roles_to_the_controller_only(base: list[Obj]) -> None:
    subject = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    cluster_binding = _one(base, "ClusterRoleBinding")
    assert cluster_binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": NAME,
    }
    assert cluster_binding["subjects"] == subject
    binding = _one(base, "RoleBinding")
    assert binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"]["kind"] == "Role"
    assert binding["roleRef"]["name"] == _one(base, "Role")["metadata"]["name"]
    assert binding["subjects"] == subject


def test_overlay_changes_only_the_image_and_the_replica_count(
    base: list[Obj], overlay: list[Obj]
) -> None:
    base_keyed, overlay_keyed = _by_key(base), _by_key(overlay)
    assert sorted(base_keyed) == sorted(overlay_keyed)
    for key, obj in overlay_keyed.items():
        if obj["kind"] != "Deployment":
            assert obj == base_keyed[key], key
    deployment = _one(overlay, "Deployment", NAME)
    assert deployment["spec"]["replicas"] == 3
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com/mirror/privateservice-controller:0.1.0"
    expected = json.loads(json.dumps(_one(base, "Deployment", NAME)))
    expected["spec"]["replicas"] = 3
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = container["image"]
    assert deployment == expected
