"""deploy/kubernetes/: every manifest valid against the Kubernetes schemas (offline, strict,
against the oldest and the newest version it supports), a broken copy refused, and what the
schemas cannot see: selectors that match, least privilege, network policies, the probes
and arguments the bpf-mcp command accepts, the probe against a real server, and the shell
the snapshot and central pods run."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import trio
import yaml  # type: ignore[import-untyped]

from bpf_mcp.cli import build_parser, http_options, kernel_config

REPO = Path(__file__).resolve().parent.parent.parent
DEPLOY = REPO / "deploy" / "kubernetes"
FIXTURES = REPO / "fixtures" / "linux-6.18"
NAMESPACE = "bpf-mcp"
CLIENT_LABEL = {"bpf-mcp/client": "true"}
# The oldest Kubernetes the manifests are for: Service.internalTrafficPolicy is GA in 1.26.
OLDEST = "1.26"
VERSIONS = (OLDEST, kubernetes_validate.latest_version())
# The capabilities each container may add to an empty set, and what it runs as.
PRIVILEGES = {
    ("bpf-mcp-node", "bpf-mcp"): ({"SYSLOG"}, 0),
    ("bpf-mcp-snapshot", "snapshot"): (set(), 0),
    ("bpf-mcp-central", "bpf-mcp"): (set(), 65534),
}
HOST_PATHS = {"/sys/kernel/btf", "/sys/kernel/tracing"}
URL = re.compile(rb"serving MCP on http://[^:]+:(\d+)/mcp")


def manifest_files() -> list[Path]:
    return sorted(p for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def objects() -> list[dict[str, Any]]:
    return [doc for path in manifest_files() for doc in load(path)]


def named(kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def workloads() -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects() if o["kind"] in ("DaemonSet", "Deployment")}


def container(workload: str, name: str) -> dict[str, Any]:
    spec = workloads()[workload]["spec"]["template"]["spec"]
    (found,) = [c for c in spec["containers"] if c["name"] == name]
    return dict(found)


def schema_errors(path: Path, version: str) -> list[str]:
    """Every object in `path` against the Kubernetes `version` schemas, unknown fields
    refused; one line per object that fails, or whose kind has no schema."""
    errors = []
    for doc in load(path):
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where}: no schema: {exc.message}")
    return errors


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_is_valid(path: Path, version: str) -> None:
    assert load(path)
    assert schema_errors(path, version) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # A misspelt field (strict validation refuses what the API server would drop).
        ("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", "readOnlyRootFileSystem"),
        # A wrong type.
        ("containerPort: 1337", 'containerPort: "1337"', "containerPort"),
        # A missing required field.
        ("              containerPort: 1337\n", "", "'containerPort' is a required property"),
        # A kind that does not exist.
        ("kind: DaemonSet", "kind: DaemonSett", "no schema"),
    ],
)
def test_a_broken_copy_is_refused(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = (DEPLOY / "node.yaml").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "node.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    errors = schema_errors(broken, VERSIONS[-1])
    assert len(errors) == 1
    assert expected in errors[0]


def test_kustomization_lists_every_manifest() -> None:
    (kustomization,) = load(DEPLOY / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == [p.name for p in manifest_files()]
    # Its image setting reaches every container.
    (image,) = kustomization["images"]
    for workload in workloads().values():
        for box in workload["spec"]["template"]["spec"]["containers"]:
            assert box["image"].partition(":")[0] == image["name"]


def test_every_object_is_in_the_namespace() -> None:
    for obj in objects():
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == NAMESPACE
        else:
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["metadata"]["name"]
    account = named("ServiceAccount", "bpf-mcp")
    assert account["automountServiceAccountToken"] is False
    for workload in workloads().values():
        assert workload["spec"]["template"]["spec"]["serviceAccountName"] == "bpf-mcp"


def _selects(selector: dict[str, str], workload: dict[str, Any]) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector.items())


def test_selectors_match_their_pods() -> None:
    for name, workload in workloads().items():
        assert _selects(workload["spec"]["selector"]["matchLabels"], workload), name
    for service in (o for o in objects() if o["kind"] == "Service"):
        (target,) = [w for w in workloads().values() if _selects(service["spec"]["selector"], w)]
        ports = {
            p["name"]: p["containerPort"]
            for c in target["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, service["metadata"]["name"]
    policies = [o for o in objects() if o["kind"] == "NetworkPolicy"]
    for name, workload in workloads().items():
        selecting = [
            p for p in policies if _selects(p["spec"]["podSelector"]["matchLabels"], workload)
        ]
        assert len(selecting) == 1, name


def test_network_policies_admit_only_labelled_clients() -> None:
    for policy in (o for o in objects() if o["kind"] == "NetworkPolicy"):
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        assert spec["egress"] == []
        for rule in spec["ingress"]:
            for peer in rule["from"]:
                assert peer["podSelector"]["matchLabels"] == CLIENT_LABEL
            assert [p["port"] for p in rule["ports"]] == ["mcp"]


def _security(workload: str, box: dict[str, Any], key: str) -> Any:
    pod = workloads()[workload]["spec"]["template"]["spec"].get("securityContext", {})
    own = box.get("securityContext", {})
    return own[key] if key in own else pod.get(key)


@pytest.mark.parametrize(("workload", "name"), list(PRIVILEGES))
def test_least_privilege(workload: str, name: str) -> None:
    spec = workloads()[workload]["spec"]["template"]["spec"]
    box = container(workload, name)
    capabilities, uid = PRIVILEGES[(workload, name)]
    for host_namespace in ("hostPID", "hostNetwork", "hostIPC"):
        assert not spec.get(host_namespace)
    assert spec["automountServiceAccountToken"] is False
    assert not spec.get("initContainers")
    assert _security(workload, box, "seccompProfile") == {"type": "RuntimeDefault"}
    assert _security(workload, box, "privileged") is False
    assert _security(workload, box, "allowPrivilegeEscalation") is False
    assert _security(workload, box, "readOnlyRootFilesystem") is True
    assert _security(workload, box, "capabilities")["drop"] == ["ALL"]
    assert set(_security(workload, box, "capabilities").get("add", [])) == capabilities
    assert _security(workload, box, "runAsUser") == uid
    assert _security(workload, box, "runAsNonRoot") is (uid != 0)
    for kind in ("requests", "limits"):
        assert set(box["resources"][kind]) == {"cpu", "memory"}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in box.get("volumeMounts", []):
        host = volumes[mount["name"]].get("hostPath")
        if host is not None:
            assert host["path"] in HOST_PATHS
            assert host["path"] == mount["mountPath"]
            assert mount["readOnly"] is True
    assert {v["hostPath"]["path"] for v in volumes.values() if "hostPath" in v} <= HOST_PATHS


def _env(box: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in box.get("env", [])}


def test_the_token_comes_from_the_secret_the_docs_create() -> None:
    refs = {
        (ref["name"], ref["key"])
        for workload, name in PRIVILEGES
        if "BPF_MCP_TOKEN" in _env(box := container(workload, name))
        for ref in [_env(box)["BPF_MCP_TOKEN"]["secretKeyRef"]]
    }
    assert refs == {("bpf-mcp-token", "token")}
    docs = (REPO / "docs" / "fleet.md").read_text(encoding="utf-8")
    assert re.search(r"create secret generic bpf-mcp-token[\s\\]+--from-literal=token=", docs)


def _probe(workload: str, kind: str) -> list[str]:
    command: list[str] = container(workload, "bpf-mcp")[kind]["exec"]["command"]
    return command


def test_both_servers_probe_healthz_the_same_way() -> None:
    probe = _probe("bpf-mcp-node", "readinessProbe")
    assert probe[0] == "python3"
    for workload in ("bpf-mcp-node", "bpf-mcp-central"):
        for kind in ("readinessProbe", "livenessProbe"):
            assert _probe(workload, kind) == probe


def test_no_argument_is_changed_by_kubernetes_expansion() -> None:
    """Kubernetes replaces $(VAR) in command and args for the container's variables; the
    scripts use the shell's $VAR instead, so what they say is what runs."""
    for workload, name in PRIVILEGES:
        box = container(workload, name)
        words = " ".join(box.get("command", []) + box.get("args", []))
        assert "$$" not in words
        for variable in _env(box):
            assert f"$({variable})" not in words


def _clean_env(monkeypatch: pytest.MonkeyPatch, box: dict[str, Any]) -> None:
    for name in list(os.environ):
        if name.startswith("BPF_MCP_"):
            monkeypatch.delenv(name)
    for name, value in _env(box).items():
        monkeypatch.setenv(name, value if isinstance(value, str) else "test-token")


def test_node_arguments_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    box = container("bpf-mcp-node", "bpf-mcp")
    _clean_env(monkeypatch, box)
    args = build_parser().parse_args(box["args"])
    options = http_options(args)
    assert args.http
    assert (options.host, options.port) == ("0.0.0.0", box["ports"][0]["containerPort"])
    assert options.token == "test-token"


def _central_words() -> list[str]:
    """The words after `exec bpf-mcp` in the central server's script, `"$@"` excluded."""
    script = container("bpf-mcp-central", "bpf-mcp")["args"][0]
    (line,) = [line for line in script.splitlines() if line.strip().startswith("exec bpf-mcp")]
    words = shlex.split(line)
    assert words[:2] == ["exec", "bpf-mcp"]
    assert words[-1] == "$@"
    return words[2:-1]


def test_central_arguments_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    box = container("bpf-mcp-central", "bpf-mcp")
    _clean_env(monkeypatch, box)
    options = http_options(build_parser().parse_args(_central_words()))
    assert (options.host, options.port) == ("0.0.0.0", box["ports"][0]["containerPort"])


def test_central_kernel_option_takes_a_snapshot_named_after_its_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_env(monkeypatch, container("bpf-mcp-central", "bpf-mcp"))
    snapshot = tmp_path / "ip-10-0-1-2.ec2.internal.tar.xz"
    with tarfile.open(snapshot, "w:xz") as archive:
        archive.add(FIXTURES / "proc" / "sys" / "kernel" / "osrelease", "osrelease")
    args = build_parser().parse_args(
        [*_central_words(), "--kernel", f"ip-10-0-1-2.ec2.internal={snapshot}"]
    )
    (spec,), _, _ = kernel_config(args)
    assert (spec.name, spec.path, spec.kind) == ("ip-10-0-1-2.ec2.internal", snapshot, "snapshot")


def test_snapshot_command_is_accepted() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "bpf_mcp", "snapshot", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0 or "--out" not in shown.stdout:
        pytest.skip("bpf-mcp has no snapshot subcommand yet (issue 16, being built)")


def _stub(directory: Path) -> dict[str, str]:
    """An environment whose `bpf-mcp` prints its arguments one per line and, for
    `snapshot --out FILE`, writes FILE."""
    stub = directory / "bin" / "bpf-mcp"
    stub.parent.mkdir()
    stub.write_text(
        '#!/bin/sh\nif [ "$1" = snapshot ]; then echo captured > "$3"; fi\n'
        'for word in "$@"; do echo "arg:$word"; done\n'
    )
    stub.chmod(0o755)
    return {"PATH": f"{stub.parent}:{os.environ['PATH']}"}


def _script(workload: str, name: str, snapshots: Path) -> list[str]:
    box = container(workload, name)
    assert box["command"] == ["/bin/sh", "-c"]
    return ["/bin/sh", "-c", box["args"][0].replace("/snapshots", str(snapshots))]


def test_central_script_names_each_snapshot_after_its_node(tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    # A dot-name is a snapshot being written; a kernel name has at most 64 characters and
    # "local" is the server's own: those are left out.
    for name in ("node-b", "node-a.example.com", ".node-c.partial", "n" * 65, "local"):
        (snapshots / f"{name}.tar.xz").write_text("x")
    env = {**os.environ, **_stub(tmp_path)}
    script = _script("bpf-mcp-central", "bpf-mcp", snapshots)
    ran = subprocess.run(script, env=env, capture_output=True, text=True, check=True)
    args = [line[4:] for line in ran.stdout.splitlines() if line.startswith("arg:")]
    assert args == [
        *_central_words(),
        "--kernel",
        f"node-a.example.com={snapshots}/node-a.example.com.tar.xz",
        "--kernel",
        f"node-b={snapshots}/node-b.tar.xz",
    ]
    assert "2 snapshot(s)" in ran.stdout
    assert ran.stdout.count("cannot name a kernel") == 2

    for path in snapshots.iterdir():
        path.unlink()
    ran = subprocess.run(script, env=env, capture_output=True, text=True, check=True)
    assert [line[4:] for line in ran.stdout.splitlines() if line.startswith("arg:")] == [
        *_central_words()
    ]


def test_snapshot_script_renames_a_whole_file_and_stops_on_term(tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    box = container("bpf-mcp-snapshot", "snapshot")
    env = {
        **os.environ,
        **_stub(tmp_path),
        **{k: v for k, v in _env(box).items() if isinstance(v, str)},
    }
    env["NODE_NAME"] = "node-a"
    process = subprocess.Popen(
        _script("bpf-mcp-snapshot", "snapshot", snapshots),
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    # The script reports each snapshot once it is in place, then sleeps.
    assert process.stdout.readline().startswith("arg:snapshot")
    while not (line := process.stdout.readline()).startswith("snapshot of node-a written"):
        assert line, "the script ended before reporting the snapshot"
    assert sorted(p.name for p in snapshots.iterdir()) == ["node-a.tar.xz"]
    assert (snapshots / "node-a.tar.xz").read_text() == "captured\n"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


@asynccontextmanager
async def serving(env: dict[str, str], args: list[str]) -> AsyncIterator[int]:
    """The real bpf-mcp on the fixtures with `args`; yields the port it bound."""
    command = [sys.executable, "-m", "bpf_mcp", "--sysroot", str(FIXTURES), *args]
    process = await trio.lowlevel.open_process(command, env=env, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        seen = b""
        with trio.fail_after(60):
            while (match := URL.search(seen)) is None:
                chunk = await process.stderr.receive_some()
                assert chunk, f"bpf-mcp ended before serving: {seen.decode(errors='replace')}"
                seen += chunk
        yield int(match.group(1))
    finally:
        process.terminate()
        with trio.move_on_after(10):
            await process.wait()
        process.kill()


@pytest.mark.slow
async def test_probe_passes_against_the_server_only_with_the_token() -> None:
    box = container("bpf-mcp-node", "bpf-mcp")
    probe = _probe("bpf-mcp-node", "readinessProbe")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPF_MCP_")}
    env.update(BPF_MCP_BIND="127.0.0.1:0", BPF_MCP_TOKEN="probe-token")
    async with serving(env, box["args"]) as port:
        bound = {**env, "BPF_MCP_BIND": f"127.0.0.1:{port}"}
        probe_command = [sys.executable, *probe[1:]]
        passed = await trio.run_process(probe_command, env=bound, check=False, capture_stderr=True)
        assert passed.returncode == 0, passed.stderr
        wrong = {**bound, "BPF_MCP_TOKEN": "not-the-token"}
        refused = await trio.run_process(probe_command, env=wrong, check=False, capture_stderr=True)
        assert refused.returncode != 0
        assert b"401" in refused.stderr
        # Why the probe is not an httpGet: /healthz needs the token, which a probe's
        # headers cannot take from a Secret (and the pod IP is not an allowed Host).
        async with httpx2.AsyncClient() as http:
            own_host = await http.get(f"http://127.0.0.1:{port}/healthz")
            pod_ip = await http.get(
                f"http://127.0.0.1:{port}/healthz", headers={"host": f"10.0.0.7:{port}"}
            )
        assert (own_host.status_code, pod_ip.status_code) == (401, 421)
