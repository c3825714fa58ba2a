"""The one lock file, `requirements.lock` (uv, hashes on), and the subsets each target installs from it.

Every target runs the same versions: the venv installs the whole file, the Lambda layers and the container image
install the dependency closure of their packages, taken from the same pinned, hashed entries (the ``# via`` lines
uv writes give the dependency graph). Regenerate with `bin/lock` after changing requirements*.txt.

    python infra/lock.py subset pymysql redis          # lock lines (with hashes) of these and their dependencies
    python infra/lock.py subset -r requirements.txt -r swarm-fallback/requirements.txt   # the container image's set
"""
from __future__ import annotations

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = os.path.join(ROOT, "requirements.lock")
# The Lambda python3.12 runtime ships these; layers never carry them.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class Entry:
    def __init__(self, name: str, version: str, text: str, parents: set[str]):
        self.name, self.version, self.text, self.parents = name, version, text, parents


def parse(path: str = LOCK) -> dict[str, Entry]:
    """name → Entry (the requirement line with its hashes, and the packages that require it)."""
    entries: dict[str, Entry] = {}
    current: Entry | None = None
    in_via = False
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^ ;\\]+)", line)
            if m:
                current = Entry(canonical(m.group(1)), m.group(3), line + "\n", set())
                entries[current.name] = current
                in_via = False
                continue
            if current is None:
                continue
            stripped = line.strip()
            if stripped.startswith("--hash="):
                current.text += line + "\n"
            elif stripped.startswith("# via"):
                in_via = True
                rest = stripped[len("# via"):].strip()
                if rest and not rest.startswith("-r"):
                    current.parents.add(canonical(rest.split()[0]))
            elif in_via and stripped.startswith("#"):
                item = stripped.lstrip("#").strip()
                if item and not item.startswith("-r"):
                    current.parents.add(canonical(item.split()[0]))
            else:
                in_via = False
    return entries


def requirement_names(path: str) -> list[str]:
    names = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            names.append(canonical(re.split(r"[<>=!~;\[ ]", line, 1)[0]))
    return names


def closure(roots: list[str], entries: dict[str, Entry] | None = None, *, skip: set[str] = frozenset()) -> list[Entry]:
    """The locked entries of ``roots`` and everything they require, in lock order."""
    entries = entries if entries is not None else parse()
    children: dict[str, set[str]] = {}
    for entry in entries.values():
        for parent in entry.parents:
            children.setdefault(parent, set()).add(entry.name)
    wanted: set[str] = set()
    pending = [canonical(r) for r in roots]
    while pending:
        name = pending.pop()
        if name in wanted or name in skip:
            continue
        if name not in entries:
            raise SystemExit(f"requirements.lock has no entry for {name!r}: run bin/lock")
        wanted.add(name)
        pending.extend(children.get(name, ()))
    return [e for e in entries.values() if e.name in wanted]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    subset = sub.add_parser("subset", help="print the lock lines of packages and their dependencies")
    subset.add_argument("names", nargs="*")
    subset.add_argument("-r", dest="files", action="append", default=[], help="take the names from this file")
    subset.add_argument("--lambda-layer", action="store_true", help="leave out what the Lambda runtime provides")
    args = parser.parse_args(argv)
    names = list(args.names)
    for path in args.files:
        names += requirement_names(path)
    skip = RUNTIME_PROVIDED if args.lambda_layer else set()
    sys.stdout.write("".join(e.text for e in closure(names, skip=skip)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
