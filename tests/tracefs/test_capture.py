"""scripts/capture_fixtures.py, run against the committed fixture as if it were `/`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import FIXTURE, REPO


def load_script() -> ModuleType:
    path = REPO / "scripts" / "capture_fixtures.py"
    spec = importlib.util.spec_from_file_location("capture_fixtures", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and path.name != "CAPTURE.json"
    }


def test_recapturing_the_fixture_reproduces_it(tmp_path: Path) -> None:
    out = tmp_path / "again"
    assert load_script().main(["--root", str(FIXTURE), "--out", str(out)]) == 0
    assert files_under(out) == files_under(FIXTURE)
    manifest = json.loads((out / "CAPTURE.json").read_text())
    original = json.loads((FIXTURE / "CAPTURE.json").read_text())
    assert manifest["counts"] == original["counts"]
    # The fixture has no available_filter_functions (EPERM when captured): now it is absent.
    changed = "sys/kernel/tracing/available_filter_functions"
    assert manifest["files"].pop(changed)["errno"] == "ENOENT"
    assert original["files"].pop(changed)["errno"] == "EPERM"
    assert manifest["files"] == original["files"]
    assert manifest["kernel_release"] == original["kernel_release"]


def test_committed_manifest_matches_the_files() -> None:
    manifest = json.loads((FIXTURE / "CAPTURE.json").read_text())
    for relative, entry in manifest["files"].items():
        path = FIXTURE / relative
        if entry["status"] == "ok":
            assert path.stat().st_size == entry["bytes"], relative
        else:
            assert not path.exists(), relative
            assert entry["errno"]
    assert manifest["files"]["sys/kernel/tracing/available_filter_functions"]["errno"] == "EPERM"
    assert manifest["counts"]["available_events"] == 2305
    assert manifest["counts"]["event_format_files"] == 2323
    assert manifest["counts"]["kallsyms_lines"] == 122165


def test_unreadable_files_are_recorded_not_faked(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/osrelease").write_text("9.9.9\n")
    (root / "proc/version").write_text("Linux version 9.9.9\n")
    # Root reads files whatever their mode, but nobody reads a directory as a file.
    (root / "proc/kallsyms").mkdir()
    out = tmp_path / "out"
    assert load_script().main(["--root", str(root), "--out", str(out)]) == 0
    manifest = json.loads((out / "CAPTURE.json").read_text())
    assert manifest["files"]["proc/kallsyms"] == {
        "status": "error",
        "errno": "EISDIR",
        "error": "Is a directory",
    }
    assert manifest["files"]["sys/kernel/tracing/available_events"]["status"] == "missing"
    assert manifest["kernel_release"] == "9.9.9"
    assert not (out / "proc/kallsyms").exists()


def test_refuses_to_replace_a_directory_that_is_not_a_capture(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "keep").write_text("mine")
    with pytest.raises(SystemExit):
        load_script().main(["--root", str(FIXTURE), "--out", str(out), "--force"])
    assert (out / "keep").read_text() == "mine"
