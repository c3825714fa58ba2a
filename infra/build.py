"""Build every deployable artefact for AWS from scratch, and the SAM template that ties them together.

    python infra/build.py                  # layers (arm64) + one Chalice package per capability + template + report
    python infra/build.py --arch x86_64    # the same for x86_64 functions
    python infra/build.py --wheelhouse .cache/wheels   # third-party layers from downloaded wheels (no registry)
    python infra/build.py --template-only  # regenerate infra/template.yaml and docs/configuration.md only
    python infra/build.py --check          # fail if the template or docs/configuration.md is not what the code makes
    python infra/build.py --download-wheels .cache/wheels   # fetch the layers' wheels for both CPUs (bin/setup)
    python infra/build.py --layers-only --arch arm64 --wheelhouse .cache/wheels --out /tmp/x   # just the layers

The modules beside this one hold the parts: units.py (what is deployed), template.py, layers.py, packages.py,
lock.py (the lock file's subsets), configdoc.py (docs/configuration.md).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # `python infra/build.py` from a checkout; the layers come from the editable install

from infra import configdoc, layers, packages, template  # noqa: E402
from infra.units import functions_of, load_spec  # noqa: E402

BUILD = os.path.join(ROOT, "build")
TEMPLATE_PATH = os.path.join(ROOT, "infra", "template.yaml")
# Lambda limits: 50 MB zipped direct upload, 250 MB unzipped for function + layers.
LIMIT_UNZIPPED = 250 * 1024 * 1024
LIMIT_ZIPPED = 50 * 1024 * 1024


def _unzipped_size(path: str) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def size_report(build_dir: str, fns) -> str:
    lines = ["| function | package (zipped) | package + layers (unzipped) | limit |", "|---|---:|---:|---|"]
    for fn in fns:
        pkg = os.path.join(build_dir, "functions", fn.capability, "deployment.zip")
        unzipped = _unzipped_size(pkg) + sum(_unzipped_size(os.path.join(build_dir, "layers", f"{layer}.zip"))
                                             for layer in fn.settings["layers"])
        zipped = os.path.getsize(pkg)
        ok = "ok" if unzipped <= LIMIT_UNZIPPED and zipped <= LIMIT_ZIPPED else "OVER"
        lines.append(f"| {fn.logical} | {zipped / 1024:.0f} KiB | {unzipped / 1024 / 1024:.1f} MiB | {ok} |")
    return "\n".join(lines) + "\n"


def _generated() -> dict[str, str]:
    spec = load_spec()
    return {TEMPLATE_PATH: template.render(spec), configdoc.PATH: configdoc.render(),
            os.path.join(ROOT, "infra", "edge-template.yaml"): template.render_edge()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template-only", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--arch", choices=sorted(layers.ARCHES), default="arm64")
    parser.add_argument("--wheelhouse", help="install the third-party layers from DIR/<arch> (no registry)")
    parser.add_argument("--download-wheels", metavar="DIR", help="fetch the layers' wheels for both CPUs into DIR")
    parser.add_argument("--out", default=BUILD, help="build folder (default build/)")
    parser.add_argument("--layers-only", action="store_true", help="build the layers only")
    args = parser.parse_args(argv)
    if args.download_wheels:
        for arch in layers.ARCHES:
            dest = os.path.join(args.download_wheels, arch)
            os.makedirs(dest, exist_ok=True)
            layers.download_wheels(arch, dest)
        return 0
    generated = _generated()
    if args.check:
        stale = []
        for path, text in generated.items():
            with open(path, encoding="utf-8") as fh:
                if fh.read() != text:
                    stale.append(os.path.relpath(path, ROOT))
        if stale:
            print(f"out of date: {', '.join(stale)}: run `python infra/build.py --template-only`", file=sys.stderr)
            return 1
        print("infra/template.yaml and docs/configuration.md are up to date")
        return 0
    for path, text in generated.items():
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    if args.template_only:
        print("wrote infra/template.yaml and docs/configuration.md")
        return 0
    build_dir = os.path.abspath(args.out)
    shutil.rmtree(build_dir, ignore_errors=True)
    wheelhouse = os.path.abspath(args.wheelhouse) if args.wheelhouse else None
    layers.build(os.path.join(build_dir, "layers"), os.path.join(build_dir, "layer-src"), args.arch, wheelhouse)
    if args.layers_only:
        print(f"built the layers for {args.arch} in {build_dir}")
        return 0
    fns = functions_of()
    packages.build(build_dir, fns)
    with open(os.path.join(build_dir, "ARCH"), "w") as fh:
        fh.write(args.arch + "\n")
    report = size_report(build_dir, fns)
    with open(os.path.join(build_dir, "package-report.md"), "w", encoding="utf-8") as fh:
        fh.write(report)
    print(f"built for {args.arch} in {os.path.relpath(build_dir, ROOT)}/\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
