"""Run the containers of deploy/kubernetes/ under podman as Kubernetes would run them, and
check them over HTTP. Called by scripts/container_test.sh (`just container-test`).

Nothing about the pods is written here: user, capabilities, read-only root, seccomp,
host mounts, volumes, environment (the Secret's token, the downward API's node name),
resources, ports, command and arguments (with Kubernetes' `$(VAR)` expansion) are read
from the manifests and turned into `podman run` options, and the probes are the
manifests' own exec commands, run with `podman exec`. Then, for the node DaemonSet:
its capability sets and mounts as seen from inside, both probes, `/healthz` with and
without the token, tools/list and three tool calls over Streamable HTTP with the token.
The snapshot DaemonSet runs where the image has `bpf-mcp snapshot`; the central
Deployment loads what it wrote (or serves its local kernel alone when there is none).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import trio
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes"
PODMAN = ["podman", "--runtime", "runc"]

# Capability bits (linux/capability.h) for the capabilities the manifests may add.
CAPABILITY_BITS = {
    "DAC_READ_SEARCH": 2,
    "SYS_PTRACE": 19,
    "SYS_ADMIN": 21,
    "SYSLOG": 34,
    "PERFMON": 38,
    "BPF": 39,
}


class ManifestError(Exception):
    """The manifests ask for something this runner cannot reproduce under podman."""


def documents() -> list[dict[str, Any]]:
    """Every Kubernetes object in deploy/kubernetes/*.yaml (the Kustomization excluded)."""
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") != "Kustomization":
                found.append(doc)
    return found


def workload(kind: str, name: str) -> dict[str, Any]:
    """The pod spec of the DaemonSet or Deployment `name`."""
    for doc in documents():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            spec: dict[str, Any] = doc["spec"]["template"]["spec"]
            return spec
    raise ManifestError(f"no {kind} {name} in {MANIFESTS}")


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' expansion of `$(VAR)` in command and args: a defined variable is
    replaced, `$$` is a literal `$`, anything else is kept as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$" or i + 1 == len(text):
            out.append(text[i])
            i += 1
        elif text[i + 1] == "$":
            out.append("$")
            i += 2
        elif text[i + 1] == "(" and ")" in text[i + 2 :]:
            end = text.index(")", i + 2)
            name = text[i + 2 : end]
            out.append(env.get(name, f"$({name})"))
            i = end + 1
        else:
            out.append(text[i : i + 2])
            i += 2
    return "".join(out)


def _memory(quantity: str) -> str:
    """A Kubernetes memory quantity (512Mi, 1Gi) as podman's --memory value."""
    for suffix, unit in (("Ki", "k"), ("Mi", "m"), ("Gi", "g")):
        if quantity.endswith(suffix):
            return quantity[: -len(suffix)] + unit
    if quantity.isdigit():
        return quantity
    raise ManifestError(f"memory quantity {quantity!r}: use Ki, Mi or Gi")


def _cpus(quantity: str) -> str:
    return str(int(quantity[:-1]) / 1000) if quantity.endswith("m") else quantity


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Pod:
    """One container of a manifest's pod spec, as `podman run` options.

    `secrets` maps (Secret name, key) to the value, `fields` a downward-API fieldPath to
    its value, `claims` a PersistentVolumeClaim name to the host directory standing in
    for it. `env` holds the container's variables; podman gets them by name (`-e NAME`),
    so no value (the token) appears on a command line.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        container: str,
        *,
        secrets: dict[tuple[str, str], str],
        fields: dict[str, str],
        claims: dict[str, Path],
    ) -> None:
        matches = [c for c in spec["containers"] if c["name"] == container]
        if not matches:
            raise ManifestError(f"no container {container!r} in the pod spec")
        self.spec = spec
        self.container: dict[str, Any] = matches[0]
        self.env = self._env(secrets, fields)
        self.ports: dict[int, int] = {}
        self.options = self._options(claims)

    def security(self, key: str, default: Any = None) -> Any:
        """A securityContext field: the container's, else the pod's."""
        own = self.container.get("securityContext", {})
        return own[key] if key in own else self.spec.get("securityContext", {}).get(key, default)

    def _env(self, secrets: dict[tuple[str, str], str], fields: dict[str, str]) -> dict[str, str]:
        env: dict[str, str] = {}
        for var in self.container.get("env", []):
            if "value" in var:
                env[var["name"]] = expand(var["value"], env)
                continue
            source = var["valueFrom"]
            if "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                env[var["name"]] = secrets[(ref["name"], ref["key"])]
            elif "fieldRef" in source and source["fieldRef"]["fieldPath"] in fields:
                env[var["name"]] = fields[source["fieldRef"]["fieldPath"]]
            else:
                raise ManifestError(f"env {var['name']}: cannot reproduce {source}")
        return env

    def _options(self, claims: dict[str, Path]) -> list[str]:
        spec, options = self.spec, []
        if self.security("privileged", False):
            raise ManifestError("securityContext.privileged is set: not reproduced")
        if spec.get("hostPID"):
            options += ["--pid", "host"]
        if spec.get("hostNetwork"):
            options += ["--network", "host"]
        uid, gid = self.security("runAsUser"), self.security("runAsGroup")
        if self.security("runAsNonRoot") and not uid:
            raise ManifestError("runAsNonRoot needs a runAsUser other than 0 here")
        if uid is not None:
            options += ["--user", f"{uid}:{gid if gid is not None else uid}"]
        if self.security("readOnlyRootFilesystem"):
            # Kubernetes gives a read-only root no tmpfs of its own; podman would.
            options += ["--read-only", "--read-only-tmpfs=false"]
        if self.security("allowPrivilegeEscalation") is False:
            options += ["--security-opt", "no-new-privileges"]
        seccomp = (self.security("seccompProfile") or {}).get("type")
        if seccomp != "RuntimeDefault":  # podman's default profile is the runtime default
            raise ManifestError(f"seccompProfile {seccomp!r}: only RuntimeDefault is reproduced")
        capabilities = self.security("capabilities") or {}
        for name in capabilities.get("drop", []):
            options += ["--cap-drop", name]
        for name in capabilities.get("add", []):
            options += ["--cap-add", name]
        limits = self.container.get("resources", {}).get("limits", {})
        if "memory" in limits:
            options += ["--memory", _memory(limits["memory"])]
        if "cpu" in limits:
            options += ["--cpus", _cpus(limits["cpu"])]
        options += self._volumes(claims)
        for port in self.container.get("ports", []):
            self.ports[port["containerPort"]] = free_port()
            options += [
                "-p",
                f"127.0.0.1:{self.ports[port['containerPort']]}:{port['containerPort']}",
            ]
        for name in self.env:
            options += ["-e", name]
        if "command" in self.container:
            command = [expand(word, self.env) for word in self.container["command"]]
            options += ["--entrypoint", json.dumps(command)]
        return options

    def _volumes(self, claims: dict[str, Path]) -> list[str]:
        volumes = {v["name"]: v for v in self.spec.get("volumes", [])}
        options = []
        for mount in self.container.get("volumeMounts", []):
            volume, target = volumes[mount["name"]], mount["mountPath"]
            read_only = bool(mount.get("readOnly"))
            if "hostPath" in volume:
                source = Path(volume["hostPath"]["path"])
                if volume["hostPath"].get("type") == "Directory" and not source.is_dir():
                    raise ManifestError(f"hostPath {source} is not a directory on this host")
            elif "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]
                source = claims[claim["claimName"]]
                read_only = read_only or bool(claim.get("readOnly"))
            elif "emptyDir" in volume:
                size = volume["emptyDir"].get("sizeLimit")
                options += ["--tmpfs", target + (f":size={_memory(size)}" if size else "")]
                continue
            else:
                raise ManifestError(f"volume {mount['name']}: only hostPath, PVC, emptyDir")
            options += ["-v", f"{source}:{target}" + (":ro" if read_only else "")]
        return options

    def args(self) -> list[str]:
        return [expand(word, self.env) for word in self.container.get("args", [])]

    def probe(self, kind: str) -> list[str] | None:
        """The exec command of the container's `kind` probe (readinessProbe ...)."""
        probe = self.container.get(kind)
        if probe is None:
            return None
        if "exec" not in probe:
            raise ManifestError(f"{kind}: only exec probes are reproduced")
        command: list[str] = probe["exec"]["command"]
        return command


@contextmanager
def running(pod: Pod, image: str, name: str) -> Iterator[str]:
    """Start the pod's container detached; stop and remove it on exit."""
    environ = {**os.environ, **pod.env}
    argv = [*PODMAN, "run", "-d", "--name", name, *pod.options, image, *pod.args()]
    started = subprocess.run(argv, env=environ, capture_output=True, text=True, check=False)
    if started.returncode != 0:  # podman may have created the container all the same
        subprocess.run([*PODMAN, "rm", "-f", name], capture_output=True, check=False)
        raise SystemExit(f"{name}: podman run failed: {started.stderr.strip()}")
    try:
        yield name
    finally:
        subprocess.run([*PODMAN, "rm", "-f", "-t", "2", name], capture_output=True, check=False)


def exec_in(name: str, command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PODMAN, "exec", name, *command], capture_output=True, text=True, check=False
    )


def wait_ready(pod: Pod, name: str, timeout: float = 90) -> float:
    """Run the readiness probe until it passes; the seconds it took."""
    command = pod.probe("readinessProbe")
    if command is None:
        raise ManifestError("the container has no readiness probe")
    start = time.monotonic()
    while True:
        result = exec_in(name, command)
        if result.returncode == 0:
            return time.monotonic() - start
        state = subprocess.run(
            [*PODMAN, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if not state.startswith("running") or time.monotonic() - start > timeout:
            logs = subprocess.run([*PODMAN, "logs", name], capture_output=True, text=True)
            raise SystemExit(
                f"{name}: not ready after {time.monotonic() - start:.0f} s (state {state}):"
                f" probe said {result.stderr.strip()[-400:]!r}\nlogs:\n{logs.stderr[-1500:]}"
            )
        time.sleep(1)


def check_inside(pod: Pod, name: str) -> None:
    """The container's capability sets and mounts, from inside, equal the manifest's."""
    add = (pod.security("capabilities") or {}).get("add", [])
    if (pod.security("capabilities") or {}).get("drop") != ["ALL"]:
        raise ManifestError("expected capabilities.drop [ALL]")
    expected = sum(1 << CAPABILITY_BITS[cap.removeprefix("CAP_")] for cap in add)
    status = exec_in(name, ["cat", "/proc/1/status"]).stdout
    caps = {
        k: int(v, 16)
        for k, v in (line.split(":\t") for line in status.splitlines() if line.startswith("Cap"))
    }
    for key in ("CapEff", "CapPrm", "CapBnd"):
        if caps[key] != expected:
            raise SystemExit(f"{name}: {key} is {caps[key]:#x}, the manifest gives {expected:#x}")
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    mountinfo = exec_in(name, ["cat", "/proc/1/mountinfo"]).stdout.splitlines()
    options = {line.split()[4]: line.split()[5].split(",") for line in mountinfo}
    for mount in pod.container.get("volumeMounts", []):
        target = mount["mountPath"]
        if target not in options:
            raise SystemExit(f"{name}: {target} is not mounted")
        if mount.get("readOnly") and "ro" not in options[target]:
            raise SystemExit(f"{name}: {target} is mounted read-write")
    if pod.security("readOnlyRootFilesystem") and "ro" not in options["/"]:
        raise SystemExit(f"{name}: the root file system is writable")
    held = f"{'+'.join(add)} only" if add else "none"
    mounts = ", ".join(
        f"{m['mountPath']}{' (ro)' if m.get('readOnly') else ''}"
        for m in pod.container.get("volumeMounts", [])
    )
    print(f"  inside: uid {uid}; capabilities {held}; mounts {mounts}")


async def mcp_calls(
    url: str, token: str, calls: list[tuple[str, dict[str, Any]]]
) -> tuple[list[str], list[tuple[str, bool, Any]]]:
    """tools/list and `calls` over Streamable HTTP with the bearer token."""
    with trio.fail_after(120):
        authorized = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"})
        async with (
            authorized,
            Client(streamable_http_client(url, http_client=authorized), mode="legacy") as client,
        ):
            tools = [t.name for t in (await client.list_tools()).tools]
            results = []
            for tool, arguments in calls:
                if tool not in tools:
                    continue
                result = await client.call_tool(tool, arguments)
                results.append((tool, bool(result.is_error), result.structured_content))
            return tools, results


def check_http(pod: Pod, name: str, token: str, calls: list[tuple[str, dict[str, Any]]]) -> Any:
    """/healthz without and with the token, then tools/list and `calls`; their answers."""
    container_port = pod.container["ports"][0]["containerPort"]
    base = f"http://127.0.0.1:{pod.ports[container_port]}"
    # Without the token, under a Host the server knows as its own: refused for the token.
    own = {"host": f"127.0.0.1:{container_port}"}
    refused = httpx2.get(f"{base}/healthz", headers=own, timeout=10)
    health = httpx2.get(f"{base}/healthz", headers={"authorization": f"Bearer {token}"}, timeout=10)
    if refused.status_code != 401 or health.status_code != 200:
        raise SystemExit(
            f"{name}: /healthz answered {refused.status_code} without the token (want 401)"
            f" and {health.status_code} with it (want 200)"
        )
    states = {s["source"]: s["state"] for s in health.json()["sources"]}
    print(f"  /healthz: 401 without the token; with it 200, status {health.json()['status']}")
    print(f"  sources: {', '.join(f'{k} {v}' for k, v in states.items())}")
    tools, results = trio.run(mcp_calls, f"{base}/mcp", token, calls)
    print(f"  tools/list over HTTP with the token: {len(tools)} tools")
    failed = [(tool, answer) for tool, is_error, answer in results if is_error]
    if not tools or failed:
        raise SystemExit(f"{name}: tools/list gave {len(tools)} tools; failed calls: {failed}")
    return {tool: answer for tool, _, answer in results}


def memory_usage(name: str) -> str:
    stats = subprocess.run(
        [*PODMAN, "stats", "--no-stream", "--format", "{{.MemUsage}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return stats.stdout.strip() or "unknown"


def check_node(image: str, token: str) -> None:
    print("DaemonSet bpf-mcp-node (node.yaml), container bpf-mcp:")
    pod = Pod(
        workload("DaemonSet", "bpf-mcp-node"),
        "bpf-mcp",
        secrets={("bpf-mcp-token", "token"): token},
        fields={"spec.nodeName": socket.gethostname()},
        claims={},
    )
    print(f"  podman run {' '.join(pod.options)} IMAGE {' '.join(pod.args())}")
    with running(pod, image, f"bpf-mcp-fleet-node-{os.getpid()}") as name:
        took = wait_ready(pod, name)
        print(f"  readiness probe (the manifest's exec command) passed after {took:.1f} s")
        liveness = pod.probe("livenessProbe")
        if liveness is None or exec_in(name, liveness).returncode != 0:
            raise SystemExit(f"{name}: the liveness probe fails")
        print("  liveness probe passed")
        check_inside(pod, name)
        answers = check_http(
            pod,
            name,
            token,
            [
                ("list_kernel_functions", {"pattern": "vfs_read", "limit": 1}),
                ("list_tracepoints", {"pattern": "sched_switch", "limit": 1}),
                ("describe_btf_type", {"name": "task_struct"}),
            ],
        )
        functions = answers["list_kernel_functions"]
        if functions["addresses_hidden"]:
            raise SystemExit(f"{name}: kallsyms addresses are hidden despite CAP_SYSLOG")
        address = functions["items"][0]["address"]
        count = answers["list_tracepoints"]["total"]
        print(f"  vfs_read at {address} (CAP_SYSLOG); sched_switch tracepoints: {count}")
        print(f"  memory in use: {memory_usage(name)}")


def snapshot_supported(image: str) -> bool:
    result = subprocess.run(
        [*PODMAN, "run", "--rm", "--entrypoint", "bpf-mcp", image, "snapshot", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    # `--help` ends parsing before an unknown word is refused: look for the subcommand's own.
    return result.returncode == 0 and "--out" in result.stdout


def check_snapshot(image: str, claim: Path) -> None:
    print("DaemonSet bpf-mcp-snapshot (snapshots.yaml), container snapshot:")
    if not snapshot_supported(image):
        # The central server still gets a kernel to load: this node's BTF under the name a
        # snapshot would have (bpf-mcp tells a snapshot from BTF by content, not name).
        stand_in = claim / f"{socket.gethostname()}.tar.xz"
        shutil.copyfile("/sys/kernel/btf/vmlinux", stand_in)
        print("  skipped: this image has no `bpf-mcp snapshot` subcommand yet;")
        print(f"  standing in for the snapshot: this node's BTF as /snapshots/{stand_in.name}")
        return
    pod = Pod(
        workload("DaemonSet", "bpf-mcp-snapshot"),
        "snapshot",
        secrets={},
        fields={"spec.nodeName": socket.gethostname()},
        claims={"bpf-mcp-snapshots": claim},
    )
    with running(pod, image, f"bpf-mcp-fleet-snapshot-{os.getpid()}") as name:
        took = wait_ready(pod, name, timeout=300)
        check_inside(pod, name)
    for path in sorted(claim.iterdir()):
        print(f"  {path.name}: {path.stat().st_size} bytes, ready after {took:.1f} s")


def check_central(image: str, token: str, claim: Path) -> None:
    print("Deployment bpf-mcp-central (central.yaml), container bpf-mcp:")
    pod = Pod(
        workload("Deployment", "bpf-mcp-central"),
        "bpf-mcp",
        secrets={("bpf-mcp-token", "token"): token},
        fields={},
        claims={"bpf-mcp-snapshots": claim},
    )
    with running(pod, image, f"bpf-mcp-fleet-central-{os.getpid()}") as name:
        took = wait_ready(pod, name)
        print(f"  readiness probe passed after {took:.1f} s")
        logs = subprocess.run([*PODMAN, "logs", name], capture_output=True, text=True)
        for line in (logs.stdout + logs.stderr).splitlines()[:4]:
            print(f"  log: {line}")
        check_inside(pod, name)
        kernels = [path.name.removesuffix(".tar.xz") for path in claim.glob("*.tar.xz")]
        calls: list[tuple[str, dict[str, Any]]] = [("list_kernels", {})]
        calls += [("describe_btf_type", {"name": "task_struct", "kernel": k}) for k in kernels]
        answers = check_http(pod, name, token, calls)
        listed = {k["name"]: k for k in answers["list_kernels"]["items"]}
        if set(kernels) - set(listed):
            raise SystemExit(f"{name}: list_kernels lacks {set(kernels) - set(listed)}")
        for kernel in listed.values():
            print(f"  kernel {kernel['name']}: {json.dumps(kernel)[:200]}")
        if kernels:
            size = answers["describe_btf_type"]["size"]
            print(f"  task_struct on kernel {kernels[-1]} (loaded on first use): {size} bytes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "scripts" / "containers.conf"))
    token = secrets.token_urlsafe(32)
    start = time.monotonic()
    check_node(args.image, token)
    with tempfile.TemporaryDirectory(prefix="bpf-mcp-snapshots.") as claim:
        Path(claim).chmod(0o755)  # a volume the central server (uid 65534) can read
        check_snapshot(args.image, Path(claim))
        check_central(args.image, token, Path(claim))
    print(f"fleet checks passed in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ManifestError as exc:
        sys.exit(f"fleet_check: {exc}")
