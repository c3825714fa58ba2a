"""Admin command: expire unpaid orders now (the Swarm `expiry` service runs it in a loop)."""


def _expire(args) -> int:
    from functions.checkout import service

    print(f"{service.expire_unpaid()} orders expired")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("expire-orders", help="cancel unpaid orders past their payment window")
    p.set_defaults(func=_expire)
