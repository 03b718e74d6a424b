"""The mypyc-compiled extractor (monitor/extract/native.py): used only while it matches its
sources, and extracting exactly what the plain Python modules extract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.extract import native

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "corpus"


def compiled_paths() -> dict[str, Path]:
    paths, why = native.check()
    if paths is None:
        pytest.skip(f"the extractor is not compiled here: {why}")
    return paths


def run_python(code: str, pure: bool) -> str:
    env = dict(os.environ)
    env.pop(native.PURE_ENV, None)
    if pure:
        env[native.PURE_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_compiled_modules_are_what_imports_load() -> None:
    paths = compiled_paths()
    code = (
        "import json, monitor.extract.extractor as e, monitor.extract.native as n;"
        "import monitor.extract.rules as r;"
        "print(json.dumps([n.status(), e.__loader__.__class__.__name__,"
        " r.__loader__.__class__.__name__]))"
    )
    status, extractor_loader, rules_loader = json.loads(run_python(code, pure=False))
    assert status == "compiled (mypyc)"
    assert extractor_loader == rules_loader == "ExtensionFileLoader"
    assert all(path.parent == native.NATIVE_DIR for path in paths.values())
    status, extractor_loader, _ = json.loads(run_python(code, pure=True))
    assert status.startswith("pure Python") and native.PURE_ENV in status
    assert extractor_loader == "SourceFileLoader"


def test_compiled_and_plain_extract_the_same_facts_and_evidence() -> None:
    compiled_paths()
    code = f"""
import json
from pathlib import Path
from monitor.extract import Extractor, default_watchlist
from monitor.extract.corpus import read_items_jsonl

extractor = Extractor(default_watchlist())
out = []
for path in sorted(Path({str(CASES)!r}).glob("*.jsonl")):
    for item, _gold, _story in read_items_jsonl(path):
        facts = extractor.extract(item)
        out.append([item.extra["id"], sorted(
            (f.entity, f.kind, f.value, f.status, f.evidence.field, f.evidence.start,
             f.evidence.end) for f in facts
        )])
print(json.dumps(out))
"""
    compiled = json.loads(run_python(code, pure=False))
    plain = json.loads(run_python(code, pure=True))
    assert len(compiled) >= 200 and sum(len(facts) for _id, facts in plain) >= 300
    assert compiled == plain


def point_at(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setattr(native, "NATIVE_DIR", folder)
    monkeypatch.setattr(native, "MANIFEST", folder / "manifest.json")
    monkeypatch.delenv(native.PURE_ENV, raising=False)


def write_build(folder: Path, sources: dict[str, str]) -> None:
    """A stand-in build: the manifest and (empty) files under the expected names."""
    folder.mkdir(exist_ok=True)
    manifest = native.expected_manifest() | {"sources": sources}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    suffix = str(manifest["suffix"])
    for name in [*native.COMPILED, f"{native.GROUP}__mypyc"]:
        (folder / f"{name}{suffix}").write_bytes(b"")


def test_a_build_is_used_only_while_every_source_matches_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, tmp_path / "_native")
    assert native.check() == (None, "pure Python (not compiled: make compile)")
    write_build(tmp_path / "_native", native.source_hashes())
    paths, status = native.check()
    assert status == "compiled (mypyc)" and paths is not None
    assert set(paths) == {f"monitor.extract.{n}" for n in native.COMPILED} | {
        "monitor_extract__mypyc"
    }
    edited = native.source_hashes() | {"rules": "0" * 64}  # rules.py changed since the build
    write_build(tmp_path / "_native", edited)
    assert native.check() == (
        None,
        "pure Python (compiled files older than the sources: make compile)",
    )


def test_a_missing_file_an_unreadable_manifest_or_the_switch_mean_plain_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "_native"
    point_at(monkeypatch, folder)
    write_build(folder, native.source_hashes())
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.check() == (None, f"pure Python ({native.PURE_ENV} is set)")
    monkeypatch.delenv(native.PURE_ENV)
    next(folder.glob("rules*")).unlink()
    paths, status = native.check()
    assert paths is None and "compiled file missing: rules" in status
    (folder / "manifest.json").write_text("{not json")
    assert native.check() == (None, "pure Python (compiled manifest unreadable: make compile)")


def test_the_build_fails_in_one_line_without_a_compiler(tmp_path: Path) -> None:
    env = dict(os.environ, CC=str(tmp_path / "no-such-cc"), PATH=os.environ.get("PATH", ""))
    before = native.MANIFEST.read_bytes() if native.MANIFEST.is_file() else None
    done = subprocess.run(
        [sys.executable, "-m", "monitor.extract.build_native"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "extractor not compiled, it runs as plain Python" in lines[0]
    after = native.MANIFEST.read_bytes() if native.MANIFEST.is_file() else None
    assert after == before  # a failed build leaves the last good one alone


def test_a_current_build_is_not_built_again() -> None:
    compiled_paths()
    before = native.MANIFEST.stat().st_mtime_ns
    done = subprocess.run(
        [sys.executable, "-m", "monitor.extract.build_native", "--if-stale"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and not done.stdout and not done.stderr
    assert native.MANIFEST.stat().st_mtime_ns == before
