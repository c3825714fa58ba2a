"""Admin CLI.

    python -m functions.admin migrate [--create-database]   apply pending SQL migrations, ensure the super admin
    python -m functions.admin create-staff USERNAME --name N [--roles inv_user,sys_admin,fin_user]
                                                            (password from --password-file, STAFF_PASSWORD or a prompt)
    python -m functions.admin demo                          load demo data (idempotent)
    python -m functions.admin routes                        every HTTP route and the function that serves it
"""
from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys

import functions
from omcore import config


def cmd_migrate(args) -> int:
    from omdb import migrate

    if args.create_database:
        migrate.create_database_if_missing()
    applied = migrate.migrate()
    print(f"migrations: {len(applied)} applied, database up to date")
    from functions.staff_auth import service as staff_service

    created = staff_service.ensure_super_admin()
    print("super admin %r %s" % (config.get("ADMIN_USERNAME", "admin"), "created" if created else "already present"))
    return 0


def cmd_create_staff(args) -> int:
    from functions.staff_auth import service as staff_service

    if args.password_file:
        with open(args.password_file, encoding="utf-8") as fh:
            password = fh.read().rstrip("\r\n")
    else:
        password = os.environ.get("STAFF_PASSWORD") or getpass.getpass("password: ")
    roles = {r.strip() for r in (args.roles or "").split(",") if r.strip()}
    unknown = roles - {"fin_user", "inv_user", "sys_admin"}
    if unknown:
        print(f"unknown roles: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    staff = staff_service.create_staff(username=args.username, password=password, name=args.name or args.username,
                                       fin_user="fin_user" in roles, inv_user="inv_user" in roles,
                                       sys_admin="sys_admin" in roles)
    print(f"staff {args.username!r} created with id {staff['id']}")
    return 0


def cmd_demo(args) -> int:
    for name in functions.CAPABILITIES:
        try:
            module = importlib.import_module(f"functions.{name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"functions.{name}.demo":
                raise
            continue
        summary = module.load()
        if summary:
            print(f"demo {name}: {summary}")
    return 0


def cmd_routes(args) -> int:
    for name in functions.CAPABILITIES:
        routes = importlib.import_module(f"functions.{name}.routes").routes
        for path, methods, view in routes.table:
            print(f"{','.join(methods):<18} {path:<55} functions/{name}  {view}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.admin", description="Openmerce admin CLI")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="apply pending migrations and ensure the super admin")
    p.add_argument("--create-database", action="store_true", help="CREATE DATABASE DB_NAME first if missing")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("create-staff", help="create a staff account")
    p.add_argument("username")
    p.add_argument("--name")
    p.add_argument("--roles", help="comma list of fin_user,inv_user,sys_admin")
    p.add_argument("--password-file")
    p.set_defaults(func=cmd_create_staff)
    p = sub.add_parser("demo", help="load demo data")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("routes", help="list every route and its code")
    p.set_defaults(func=cmd_routes)
    for name in functions.CAPABILITIES + ("admin",):
        # a capability adds its own commands in functions/<name>/cli.py: add_commands(subparsers)
        if os.path.exists(os.path.join(os.path.dirname(os.path.dirname(__file__)), name, "cli.py")):
            importlib.import_module(f"functions.{name}.cli").add_commands(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
