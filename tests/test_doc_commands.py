"""What the README and docs/ tell a person to type exists: every `just` recipe they name is
in the Justfile, every command of their shell blocks names files, recipes and bpf-mcp
options that exist after the README's two set-up commands, the image they run is the one
their build command tags, and their links lead somewhere."""

from __future__ import annotations

import json
import re
import shlex
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpf_mcp.cli import build_call_parser, build_parser, parse_bind

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
BUILD_SCRIPT = (REPO / "scripts" / "container_build.sh").read_text()

FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```$", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"`([^`\n]+)`")
JUST = re.compile(r"(?<![\w/-])(?:\.venv/bin/)?just ([a-z][\w-]*)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
RECIPE = re.compile(r"^([a-z][\w-]*)(?: [^:\n]*)?:(?!=)", re.MULTILINE)
DEFAULT = re.compile(r"^(\w+)=\$\{\w+:-([^}]+)\}$", re.MULTILINE)

VENV_TOOLS = {"pytest": "pytest", "just": "rust-just", "ruff": "ruff", "mypy": "mypy"}
"""Programs in .venv/bin other than bpf-mcp and pip, and the dev requirement providing each."""
PODMAN_VALUE_OPTIONS = {"-v", "-p", "-e", "--name", "--cap-add", "--cap-drop", "--runtime"}
"""Options of `podman run` that take a value, among those the docs use."""
HOST_COMMANDS = {"curl", "npx", "claude"}
"""Programs the docs use that do not come from this checkout."""
KUBERNETES = REPO / "deploy" / "kubernetes"


def name(path: Path) -> str:
    return str(path.relative_to(REPO))


def blocks(language: str) -> Iterator[tuple[Path, str]]:
    """(document, body) of every fenced block in `language`."""
    for document in DOCUMENTS:
        for match in FENCE.finditer(document.read_text()):
            if match[2] == language:
                yield document, textwrap.dedent(match[3])


def commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a shell block, each as its words: lines joined at
    backslashes, split at `&&`, `;`, `|` and parentheses, leading variable assignments
    dropped."""
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token.strip(";&|()"):
                words.append(token)
                continue
            while words and re.fullmatch(r"\w+=\S*", words[0]):
                words = words[1:]
            if words:
                yield words
            words = []


def recipes() -> dict[str, str]:
    """The Justfile's recipes, each with its body."""
    text = (REPO / "Justfile").read_text()
    found = {}
    for match in RECIPE.finditer(text):
        body = re.match(r"(?:(?:    |\t)[^\n]*\n)*", text[match.end() :].partition("\n")[2])
        found[match[1]] = body[0] if body else ""
    return found


def script_default(variable: str) -> str:
    """The default of `variable` in scripts/container_build.sh (`VAR=${ENV:-default}`)."""
    defaults: dict[str, str] = dict(DEFAULT.findall(BUILD_SCRIPT))
    return defaults[variable]


def dev_requirements() -> set[str]:
    extras = PYPROJECT["project"]["optional-dependencies"]["dev"]
    return {re.split(r"[<>=\[ ]", req, maxsplit=1)[0] for req in extras}


def check_bpf_mcp(argv: list[str], where: str) -> None:
    """`argv` (after the program name) parses as bpf-mcp's own options."""
    if argv[:1] in (["--help"], ["--version"]):
        return
    call = argv[:1] == ["call"]
    parser = build_call_parser() if call else build_parser()
    try:
        args, extra = parser.parse_known_args(argv[1:] if call else argv)
    except SystemExit:
        pytest.fail(f"{where}: bpf-mcp {shlex.join(argv)} is refused by bpf-mcp's parser")
    assert not extra, f"{where}: bpf-mcp does not know {extra}"
    if not call:
        parse_bind(args.bind)


def check_venv_program(program: str, where: str) -> None:
    """`.venv/bin/<program>` is made by the README's set-up commands."""
    if program == "bpf-mcp":
        assert "bpf-mcp" in PYPROJECT["project"]["scripts"], where
    elif program != "pip":
        assert VENV_TOOLS.get(program) in dev_requirements(), (
            f"{where}: no dev extra gives {program}"
        )
    if sys.prefix != sys.base_prefix:  # the tests run in the venv those commands made
        assert (Path(sys.prefix) / "bin" / program).exists(), f"{where}: .venv/bin/{program}"


def check_podman_run(argv: list[str], where: str) -> None:
    """`podman run ...`: the image is the one the build tags; bpf-mcp's options parse."""
    words = iter(argv)
    for word in words:
        if word in PODMAN_VALUE_OPTIONS:
            next(words)
        elif not word.startswith("-"):
            assert word == script_default("IMAGE"), f"{where}: runs {word}, not the built image"
            check_bpf_mcp(list(words), where)
            return
    pytest.fail(f"{where}: podman run without an image")


def check_podman_build(argv: list[str], where: str) -> None:
    """`podman build ...`: the tag the run commands use, a base that exists or is made."""
    assert argv[argv.index("-t") + 1] == script_default("IMAGE"), where
    for value in (argv[i + 1] for i, w in enumerate(argv) if w == "--build-arg"):
        if value.startswith("BASE="):
            assert value == f"BASE={script_default('BASE')}", f"{where}: nothing makes {value}"
    if "-f" in argv:
        assert (REPO / argv[argv.index("-f") + 1]).is_file(), where
    assert (REPO / argv[-1]).is_dir(), f"{where}: the build context {argv[-1]}"


def check_kubectl(argv: list[str], where: str) -> None:
    """`kubectl ...`: the files, namespace, objects and labels it names are deploy/kubernetes/'s."""
    import yaml  # type: ignore[import-untyped]

    docs = [d for p in KUBERNETES.glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    objects = {f"{d['kind'].lower()}/{d['metadata']['name']}" for d in docs if "metadata" in d}
    labels = {
        f"{key}={value}"
        for d in docs
        if d["kind"] in ("DaemonSet", "Deployment")
        for key, value in d["spec"]["template"]["metadata"]["labels"].items()
    }
    words = iter(argv)
    for word in words:
        if word in ("-f", "-k"):
            path = next(words)
            assert path == "-" or (REPO / path).exists(), f"{where}: {path}"
        elif word == "-n":
            assert next(words) == "bpf-mcp", where
        elif word == "-l":
            assert next(words) in labels, f"{where}: no pod has that label"
        elif re.fullmatch(r"(daemonset|deployment|service)/\S+", word):
            assert word in objects, f"{where}: deploy/kubernetes/ has no {word}"


def check_command(words: list[str], where: str) -> None:
    program, argv = words[0], words[1:]
    if program.startswith(".venv/bin/"):
        program = program.removeprefix(".venv/bin/")
        check_venv_program(program, where)
    if program == "python3":
        assert argv[:2] in (["-m", "venv"], ["-c", argv[1]]), where
    elif program == "pip":
        editable = argv[argv.index("-e") + 1]
        path, _, extras = editable.partition("[")
        assert (REPO / path).is_dir(), where
        for extra in filter(None, extras.rstrip("]").split(",")):
            assert extra in PYPROJECT["project"]["optional-dependencies"], f"{where}: [{extra}]"
    elif program == "bpf-mcp":
        check_bpf_mcp(argv, where)
    elif program == "just":
        assert argv[0].startswith("-") or argv[0] in recipes(), f"{where}: just {argv[0]}"
    elif program == "podman":
        check = {"run": check_podman_run, "build": check_podman_build}.get(argv[0])
        if check is not None:
            check(argv[1:], where)
    elif program == "kubectl":
        check_kubectl(argv, where)
    elif program == "export":
        _, _, value = argv[0].partition("=")
        if value.startswith("$PWD/"):
            assert (REPO / value.removeprefix("$PWD/")).exists(), f"{where}: {value}"
    elif program not in ("pytest", *HOST_COMMANDS):
        pytest.fail(f"{where}: {program} is not a command this test knows how to check")


@pytest.mark.parametrize("document", DOCUMENTS, ids=name)
def test_every_just_recipe_named_exists(document: Path) -> None:
    text = document.read_text()
    code = [m[1] for m in INLINE.finditer(text)] + [m[3] for m in FENCE.finditer(text)]
    named = {recipe for snippet in code for recipe in JUST.findall(snippet)}
    missing = named - set(recipes())
    assert not missing, f"{name(document)} names recipes the Justfile lacks: {missing}"


def test_every_shell_command_refers_to_what_exists() -> None:
    checked = 0
    for document, body in blocks("sh"):
        for words in commands(body):
            check_command(words, f"{name(document)}: {shlex.join(words)}")
            checked += 1
    assert checked >= 5


def test_the_readme_names_the_command_that_makes_just() -> None:
    readme = (REPO / "README.md").read_text()
    setup = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'"
    assert setup in readme
    assert ".venv/bin/just" in readme
    assert "rust-just" in dev_requirements()


def test_client_configurations_run_what_exists() -> None:
    seen = set()
    for document, body in blocks("json"):
        servers = json.loads(body)
        for server in {**servers.get("mcpServers", {}), **servers.get("servers", {})}.values():
            command = server.get("command")
            where = f"{name(document)}: {command}"
            if command == "podman":
                assert server["args"][0] == "run", where
                check_podman_run(server["args"][1:], where)
                seen.add("podman")
            elif command is not None and command.startswith(".venv/bin/"):
                check_venv_program(command.removeprefix(".venv/bin/"), where)
                check_bpf_mcp(server.get("args", []), where)
    assert "podman" in seen


def test_the_container_recipes_agree() -> None:
    found = recipes()
    assert "scripts/container_build.sh" in found["container-build"]
    assert "scripts/container_test.sh" in found["container-test"]
    test_script = (REPO / "scripts" / "container_test.sh").read_text()
    assert "scripts/container_build.sh" in test_script
    assert f"BPF_MCP_IMAGE:-{script_default('IMAGE')}" in test_script
    assert script_default("IMAGE") == "localhost/bpf-mcp:latest"


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = FENCE.sub("", document.read_text())
    return {slug(m[1]) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("document", DOCUMENTS, ids=name)
def test_every_relative_link_resolves(document: Path) -> None:
    for target in LINK.findall(FENCE.sub("", document.read_text())):
        if re.match(r"\w+://", target):
            continue
        path, _, anchor = target.partition("#")
        goal = (document.parent / path).resolve() if path else document
        assert goal.exists(), f"{name(document)}: {target}"
        if anchor:
            assert anchor in anchors(goal), f"{name(document)}: no heading for {target}"


def test_pointers_from_scripts_name_real_sections() -> None:
    pointer = re.compile(r"(docs/\w+\.md), \"([^\"]+)\"")
    found = 0
    for source in [*(REPO / "scripts").iterdir(), REPO / "Containerfile", REPO / "Justfile"]:
        if source.is_file():
            for document, section in pointer.findall(source.read_text()):
                assert slug(section) in anchors(REPO / document), f"{source.name}: {section}"
                found += 1
    assert found


def test_the_architecture_names_modules_that_exist() -> None:
    text = (REPO / "docs" / "architecture.md").read_text()
    named = {
        span for span in INLINE.findall(text) if re.fullmatch(r"[\w/]+\.(py|md|json|sh)|\w+/", span)
    }
    assert len(named) > 20
    missing = [
        span
        for span in named
        if not any((root / span).exists() for root in (REPO, REPO / "src" / "bpf_mcp"))
    ]
    assert not missing, f"docs/architecture.md names what does not exist: {missing}"


def test_the_architecture_layer_table_is_the_enforced_one() -> None:
    from .test_layers import LAYERS

    text = (REPO / "docs" / "architecture.md").read_text()
    section = text.partition("## Layer rules")[2].partition("\n## ")[0]
    rows = [line.split("|")[2] for line in section.splitlines() if line.startswith("|")][2:]
    documented = [name for row in rows for name in INLINE.findall(row)]
    assert documented == [name for layer in LAYERS for name in layer]


def test_the_justfile_parses() -> None:
    import shutil
    import subprocess

    just = shutil.which("just") or str(Path(sys.executable).parent / "just")
    if not Path(just).exists():
        pytest.skip("just is not installed (the dev extra installs it)")
    done = subprocess.run(
        [just, "--justfile", str(REPO / "Justfile"), "--list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
