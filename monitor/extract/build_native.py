"""Compile the extractor's hot modules with mypyc: ``python -m monitor.extract.build_native``.

Needs mypy (a test dependency) and a C compiler with the Python headers. The sources are
copied to a temporary folder and compiled there, so nothing is written beside them; the
extension files and a manifest of the copied sources' hashes go to ``_native/``
(``native.py`` uses them only while the hashes match). Any failure leaves the extractor on
plain Python and exits 1 with one line saying why (``make`` carries on).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from monitor.extract import native

_SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="monitor-extract-native",
    packages=[],
    ext_modules=mypycify({paths!r}, group_name={group!r}, opt_level="3"),
)
"""
_MYPY_INI = "[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n"


def build(verbose: bool = False) -> Path:
    try:
        import mypyc.build  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("mypy is not installed (pip install -e '.[test]')") from exc
    package_root = native.HERE.parent  # .../monitor
    with tempfile.TemporaryDirectory(prefix="monitor-native-") as tmp:
        work = Path(tmp)
        shutil.copytree(
            package_root,
            work / "monitor",
            ignore=shutil.ignore_patterns("_native", "__pycache__", "*.so", "*.pyd", "data"),
        )
        # the manifest holds the hashes of the copies compiled, not of the sources now
        manifest = native.expected_manifest(work / "monitor" / "extract")
        paths = [f"monitor/extract/{name}.py" for name in native.COMPILED]
        (work / "setup.py").write_text(_SETUP.format(paths=paths, group=native.GROUP))
        (work / "mypy.ini").write_text(_MYPY_INI)
        done = subprocess.run(
            [sys.executable, "setup.py", "build_ext", "--inplace"],
            cwd=work,
            capture_output=not verbose,
            text=True,
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"mypyc build failed: {tail[0]}")
        suffix = manifest["suffix"]
        built = {name: work / "monitor" / "extract" / f"{name}{suffix}" for name in native.COMPILED}
        built[f"{native.GROUP}__mypyc"] = work / f"{native.GROUP}__mypyc{suffix}"
        missing = [p.name for p in built.values() if not p.is_file()]
        if missing:
            raise RuntimeError(f"mypyc build made no {missing[0]}")
        target = native.NATIVE_DIR
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        for path in built.values():
            shutil.copy2(path, target / path.name)
        native.MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show the compiler's output")
    parser.add_argument(
        "--if-stale", action="store_true", help="build only if the last build no longer matches"
    )
    args = parser.parse_args(argv)
    if args.if_stale and native.check()[0] is not None:
        return 0  # the compiled files match every source: nothing to do
    try:
        target = build(verbose=args.verbose)
    except (RuntimeError, OSError) as exc:
        print(f"monitor: extractor not compiled, it runs as plain Python: {exc}", file=sys.stderr)
        return 1
    print(f"monitor: extractor compiled with mypyc into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
