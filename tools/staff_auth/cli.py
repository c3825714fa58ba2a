"""Admin command: the recovery path for a staff password, the super admin's included.

    python -m tools.admin reset-password USER             # the new password from stdin (first line) or a prompt
    python -m tools.admin reset-password USER --generate  # a random one, printed once to the operator

Only someone who can run the admin CLI against the database can use it, so no attacker on the web can trigger it.
Every session of the member ends and its failed-login ceiling is cleared. Nothing secret is logged; with
``--generate`` the password is printed once, to this terminal only.
"""
import getpass
import secrets
import string
import sys


def _generated() -> str:
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(18))
    # the password rule: a lowercase and an uppercase letter, a digit and a special character
    return core + secrets.choice(string.ascii_lowercase) + secrets.choice(string.ascii_uppercase) + \
        secrets.choice(string.digits) + secrets.choice("#%+-=@^_")


def _read_password() -> str | None:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        print("the two passwords differ", file=sys.stderr)
        return None
    return first


def _reset_password(args) -> int:
    from omcore.errors import ApiError

    from functions.staff_auth import service

    password = _generated() if args.generate else _read_password()
    if not password:
        print("error: no password given", file=sys.stderr)
        return 2
    try:
        service.operator_reset_password(args.username, password)
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"password of {args.username!r} reset; every session of it ended")
    if args.generate:
        print(f"new password (shown once): {password}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("reset-password", help="set a staff member's password (the super admin's recovery path)")
    p.add_argument("username")
    p.add_argument("--generate", action="store_true", help="generate a random password and print it once")
    p.set_defaults(func=_reset_password)
