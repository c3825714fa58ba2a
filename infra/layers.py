"""Lambda layers: the four code layers (``layers/<name>/python``) and the third-party layers, installed from the
lock file's pinned, hashed wheels for the runtime's real platform (python3.12 on Amazon Linux 2023, glibc 2.34:
``manylinux_2_28`` wheels) and CPU (arm64 by default, x86_64 on request)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from . import lock
from .template import CODE_LAYERS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What each third-party layer holds (their dependencies come along from the lock file). boto3 is the runtime's.
# No function imports redis-py (omcore's lean client, hiredis-parsed) or PyJWT (omauth.tokens signs HS256 itself).
THIRD_PARTY = {
    "deps": ["pymysql", "hiredis", "bcrypt", "midtransclient"],
    # Lambda allows 5 layers per function: the image converter takes this one instead of "deps"
    "imaging": ["pymysql", "cryptography", "hiredis", "bcrypt", "midtransclient", "pillow"],
}
# Left out of a layer although a dependency would bring it. `cryptography` (PyMySQL[rsa]) is imported by PyMySQL at
# import time (30-60 ms of a cold start, docs/benchmarks.md) and used only for caching_sha2_password's full login
# over a connection *without* TLS; the API functions reach MySQL through RDS Proxy over TLS (DB_SSL_CA), where
# PyMySQL sends the password over the encrypted channel and needs no RSA. The image converter, whose cold start
# nobody waits for, keeps it ("imaging"): tests/infra/test_artifacts.py logs in both ways from the built layers.
WITHOUT = {"deps": {"cryptography"}}
ARCHES = {"arm64": "aarch64", "x86_64": "x86_64"}
GLIBC = (2, 28)  # manylinux_2_28: what the python3.12 runtime (glibc 2.34) runs, with room to spare
PLATFORM = "manylinux_{}_{}_{}"


def machine_arch() -> str:
    import platform

    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def platform_tag(arch: str) -> str:
    return PLATFORM.format(*GLIBC, ARCHES[arch])


def compile_tree(folder: str) -> None:
    """Ship bytecode: Lambda's file system is read-only, so without .pyc files every cold start compiles every
    module again. unchecked-hash pycs stay valid whatever mtimes the unzipped files get."""
    import compileall
    import py_compile

    compileall.compile_dir(folder, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                           workers=0)


def zip_dir(source: str, target: str, prefix: str = "") -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for folder, dirs, files in os.walk(source):
            dirs[:] = sorted(dirs)
            for name in sorted(files):
                full = os.path.join(folder, name)
                arc = os.path.join(prefix, os.path.relpath(full, source))
                info = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if os.access(full, os.X_OK) else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as fh:
                    zf.writestr(info, fh.read())


def requirements_for(layer: str) -> str:
    """The lock lines (with hashes) the layer installs, written to a temp file."""
    fd, path = tempfile.mkstemp(prefix=f"om-{layer}-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(e.text for e in lock.closure(THIRD_PARTY[layer],
                                                     skip=set(lock.RUNTIME_PROVIDED) | WITHOUT.get(layer, set()))))
    return path


def platform_tags(arch: str) -> list[str]:
    """Every manylinux tag a glibc-2.28 system accepts (pip does not expand ``--platform`` itself)."""
    tags = [PLATFORM.format(2, minor, ARCHES[arch]) for minor in range(GLIBC[1], 16, -1)]
    return tags + [f"manylinux2014_{ARCHES[arch]}"]


def pip_platform_args(arch: str) -> list[str]:
    args = []
    for tag in platform_tags(arch):
        args += ["--platform", tag]
    return args + ["--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:"]


def download_wheels(arch: str, dest: str) -> None:
    """Fetch (hash-checked) every wheel the third-party layers need for ``arch`` into ``dest`` (bin/setup does this
    for both CPUs, so tests build layers without reaching a registry)."""
    reqs = requirements_for("imaging")
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                               "--no-deps", "--require-hashes", "-d", dest, *pip_platform_args(arch), "-r", reqs],
                              stderr=subprocess.PIPE, text=True)
    finally:
        os.unlink(reqs)
    if done.returncode != 0:
        sys.stderr.write("\n".join(ln for ln in done.stderr.splitlines() if "is ignored" not in ln) + "\n")
        raise SystemExit(f"downloading the {arch} wheels failed")


def _install_third_party(layer: str, target: str, arch: str, wheelhouse: str | None) -> None:
    reqs = requirements_for(layer)
    source = ["--no-index", "--find-links", os.path.join(wheelhouse, arch)] if wheelhouse else []
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--no-compile", "--no-deps", "--require-hashes", "--target", target, *source,
                               *pip_platform_args(arch), "-r", reqs], stderr=subprocess.PIPE, text=True)
    finally:
        os.unlink(reqs)
    if done.returncode != 0:
        sys.stderr.write("\n".join(ln for ln in done.stderr.splitlines() if "is ignored" not in ln) + "\n")
        raise SystemExit(f"building the {layer} layer for {arch} failed")
    for folder, dirs, _files in os.walk(target):
        for d in list(dirs):
            if d in ("__pycache__", "tests"):
                shutil.rmtree(os.path.join(folder, d))
                dirs.remove(d)


def build(out_dir: str, stage_dir: str, arch: str, wheelhouse: str | None = None) -> None:
    os.makedirs(out_dir, exist_ok=True)
    for layer in CODE_LAYERS:
        staged = os.path.join(stage_dir, layer, "python")
        shutil.rmtree(os.path.dirname(staged), ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "layers", layer, "python"), staged,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        compile_tree(staged)
        zip_dir(os.path.dirname(staged), os.path.join(out_dir, f"{layer}.zip"))
    for layer in THIRD_PARTY:
        target = os.path.join(stage_dir, layer, "python")
        shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        os.makedirs(target)
        _install_third_party(layer, target, arch, wheelhouse)
        compile_tree(target)
        zip_dir(os.path.dirname(target), os.path.join(out_dir, f"{layer}.zip"))
