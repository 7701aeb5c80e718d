"""``make package``: the Django function's Zappa artifact, built by ``zappa package`` and then made
fast to cold-start.

Stock ``zappa package`` output ships the ``__pycache__`` that pip wrote at install time, but writes
every zip entry with the 1980 default date. On Lambda each source then looks changed, so Python
recompiles every module it imports on every cold start (the task root is read-only, the result is never
kept). We rebuild the bytecode as ``unchecked-hash`` .pyc files, which Python trusts without
looking at the source, and we make ``zappa.utilities`` import boto3 only when a deploy-time helper
first needs it: the web request path never does, and importing boto3 would add to every cold
start.

The result stays a normal Zappa package: ``zappa update <stage> --zip build/zappa-<stage>.zip``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.check.config import load_zappa, zappa_stage
from infra.lambda_runtime import RuntimeMismatch, interpreter_version, require_interpreter

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build"
# Hidden, so that zappa's scan of the project for WebSocket handlers skips it.
BUILD_VENV = REPO / ".venv-zappa"
REQUIREMENTS = REPO / "requirements" / "django.txt"
# Build-time only: collectstatic reads settings, which insist on the secrets being set.
BUILD_ENV = {
    "DJANGO_SETTINGS_MODULE": "django_app.config.settings.lambda_",
    "DJANGO_SECRET_KEY": "build-time-only-never-deployed",
    "SSM_PARAMETER_PREFIX": "",
}

COLLECTSTATIC_IGNORED = ["--ignore", "rest_framework", "--ignore", "redoc"]

LAZY_BOTO = '''\
class _ImportOnFirstUse:
    """Stands in for a module until an attribute is read (patched in by infra.package)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        return getattr(importlib.import_module(self._name), attribute)


boto3 = _ImportOnFirstUse("boto3")
botocore = _ImportOnFirstUse("botocore.exceptions")
'''


def zappa_version() -> str:
    return importlib.metadata.version("zappa")


def ensure_build_venv() -> Path:
    """A virtualenv holding only what the Django function ships, plus zappa to package it."""
    # A venv made by another Python (after a runtime change) is made again.
    wanted = hashlib.sha256(
        REQUIREMENTS.read_bytes() + zappa_version().encode() + interpreter_version().encode()
    ).hexdigest()
    stamp = BUILD_VENV / ".requirements-sha256"
    if stamp.exists() and stamp.read_text() == wanted:
        return BUILD_VENV
    shutil.rmtree(BUILD_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(BUILD_VENV)], check=True)
    pip = [str(BUILD_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS), f"zappa=={zappa_version()}"], check=True)
    stamp.write_text(wanted)
    return BUILD_VENV


def collect_static() -> None:
    shutil.rmtree(REPO / "staticfiles", ignore_errors=True)
    subprocess.run(
        # The browsable API is off (JSON only), so DRF's own assets are not shipped, nor Redoc (we
        # serve Swagger UI only). The sidecar's own static folder is excluded from the zip
        # (zappa_settings.json): WhiteNoise serves the collected copy.
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", *COLLECTSTATIC_IGNORED],
        cwd=REPO,
        env={**os.environ, **BUILD_ENV},
        check=True,
    )
    drop_source_maps(REPO / "staticfiles")


def drop_source_maps(static_root: Path) -> int:
    """Deletes collected source maps (Swagger UI's are 2.5 MB): only a developer's browser tools
    ever ask for them, and a missing one is a 404 there. They are collected at all because the
    manifest storage insists that every ``sourceMappingURL`` it rewrites resolves."""
    maps = [path for pattern in ("*.map", "*.map.gz", "*.map.br") for path in static_root.rglob(pattern)]
    for path in maps:
        path.unlink()
    return len(maps)


def zappa_package(*, stage: str, output: Path, settings_file: Path | None = None) -> Path:
    venv = ensure_build_venv()
    env = {
        **os.environ,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }
    env.pop("PYTHONPATH", None)
    command = [str(venv / "bin" / "zappa"), "package", stage, "-o", str(output)]
    if settings_file is not None:
        command += ["-s", str(settings_file)]
    output.unlink(missing_ok=True)
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return output


def patch_lazy_boto(root: Path) -> None:
    utilities = root / "zappa" / "utilities.py"
    source = utilities.read_text()
    eager = "import boto3\nimport botocore\n"
    if eager not in source:
        raise SystemExit(f"{utilities}: zappa changed its imports; update infra/package.py's patch")
    # Annotations such as `session: boto3.Session` must not trigger the import at definition time.
    utilities.write_text("from __future__ import annotations\n" + source.replace(eager, LAZY_BOTO, 1))


# Our code keeps its source (readable tracebacks) beside unchecked-hash bytecode. Third-party code
# ships as bytecode alone ("sourceless" .pyc in place of each .py): it halves its size and Python
# loads such files without any freshness check. Migrations keep their source, as Zappa does, so
# `zappa manage <stage> migrate` finds them the usual way.
LAMBDA_TASK_ROOT = "/var/task"
KEEP_SOURCE_TOP_LEVEL = {
    "django_app",
    "contracts",
    "handler.py",
    "zappa_settings.py",
    "django_zappa_app.py",
    "manage.py",
}


def _keeps_source(path: Path, root: Path) -> bool:
    relative = path.relative_to(root)
    return relative.parts[0] in KEEP_SOURCE_TOP_LEVEL or "migrations" in relative.parts


def recompile(root: Path) -> int:
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache)
    for stray in root.rglob("*.pyc"):
        stray.unlink()
    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
    compiled = 0
    for source in sorted(root.rglob("*.py")):
        # Tracebacks name the file where Lambda will have it, not this temporary folder.
        lambda_path = f"{LAMBDA_TASK_ROOT}/{source.relative_to(root)}"
        if _keeps_source(source, root):
            py_compile.compile(str(source), dfile=lambda_path, doraise=True, invalidation_mode=mode)
        else:
            cfile = str(source) + "c"
            py_compile.compile(str(source), cfile=cfile, dfile=lambda_path, doraise=True, invalidation_mode=mode)
            source.unlink()
        compiled += 1
    return compiled


def prune(root: Path) -> None:
    """Drops what the function never reads: other languages' formats, pip's install records."""
    for locale in (root / "django" / "conf" / "locale").iterdir():
        if locale.is_dir() and not locale.name.startswith("en"):
            shutil.rmtree(locale)
    for record in root.glob("*.dist-info/RECORD"):
        record.unlink()


def write_zip(root: Path, output: Path) -> None:
    output.unlink(missing_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(root)))  # fixed 1980 date: reproducible
            info.create_system = 3
            info.external_attr = 0o755 << 16  # Lambda runs as another user: files must be readable
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)


def optimise(raw: Path, output: Path) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="zappa-optimise-") as temp:
        root = Path(temp)
        with zipfile.ZipFile(raw) as archive:
            archive.extractall(root)
        patch_lazy_boto(root)
        prune(root)
        compiled = recompile(root)
        write_zip(root, output)
    return {"pyc_files": compiled, "bytes": output.stat().st_size}


def build(stage: str) -> Path:
    BUILD.mkdir(exist_ok=True)
    collect_static()
    raw = zappa_package(stage=stage, output=BUILD / f"zappa-{stage}-raw.zip")
    output = BUILD / f"zappa-{stage}.zip"
    stats = optimise(raw, output)
    raw.unlink()
    print(json.dumps({"artifact": str(output.relative_to(REPO)), **stats}))
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    stages = load_zappa(REPO / "zappa_settings.json")
    if args.stage not in stages:
        parser.error(f"zappa_settings.json has no stage {args.stage!r} (it has {', '.join(stages)})")
    # The bytecode is compiled by this interpreter, and .pyc files are specific to one Python
    # version: on another runtime our modules would recompile at every cold start and third-party
    # ones, shipped as bytecode alone, would not import at all.
    try:
        require_interpreter(str(zappa_stage(stages, args.stage).get("runtime", "")))
    except RuntimeMismatch as error:
        print(f"make package: {error}", file=sys.stderr)
        return 2
    build(args.stage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
