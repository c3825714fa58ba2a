"""Run every benchmark and write bench/results/report.md (and print it).

    make bench            # or: .venv/bin/python bench/run.py [--only cold_start,webp,...]

Each figure is a ratio against a baseline measured in the same run on the same machine; nothing here is a pass/fail
test. The machine's facts head the report.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import RESULTS, ROOT, apply_env, machine_facts  # noqa: E402

BENCHMARKS = ["cold_start", "warm", "http_profile", "http_server", "checkout_contention", "sale", "soak", "cost", "webp",
              "parsers"]


def prepare_database() -> None:
    """A fresh benchmark database (om_bench, or BENCH_DB_NAME) and Redis DB 14 (BENCH_REDIS_DB) for every run."""
    import pymysql

    from omcore import kv
    from omdb import db, migrate

    conn = pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"],
                           password=os.environ["DB_PASS"])
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{os.environ['DB_NAME']}`")
    conn.close()
    kv.client().flushdb()
    kv.cache_client().flushdb()
    db.reset()
    migrate.create_database_if_missing()
    migrate.migrate(echo=lambda *_: None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="comma list of: " + ",".join(BENCHMARKS))
    args = parser.parse_args(argv)
    wanted = args.only.split(",") if args.only else BENCHMARKS
    apply_env()
    prepare_database()
    import functions

    sections = []
    for name in wanted:
        module = importlib.import_module(name)
        started = time.time()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            section = module.run(list(functions.CAPABILITIES))
        except Exception as exc:  # a broken benchmark must not hide the others' figures
            from common import Section

            section = Section(name, f"**failed**: {type(exc).__name__}: {exc}")
        section.notes.append(f"measured in {time.time() - started:.0f} s")
        sections.append(section)
    report = ["# Openmerce benchmark report", "", f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", ""]
    report += [f"- {fact}" for fact in machine_facts()] + [""]
    if RESULTS.get("summary"):
        report += ["## Targets (issue 13), each measured against its baseline in this run", "",
                   "| figure | this run | target | verdict |", "|---|---|---|---|"]
        report += ["| " + " | ".join(row) + " |" for row in RESULTS["summary"]] + [""]
    report += [s.markdown() for s in sections]
    out_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "report.md")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(report))
    if not args.only:
        with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w", encoding="utf-8") as fh:
            fh.write("\n".join(report).replace("# Openmerce benchmark report",
                                               "# Benchmarks (the latest full `make bench` run)", 1))
    print("\n".join(report))
    print(f"\nreport written to {os.path.relpath(path, ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
