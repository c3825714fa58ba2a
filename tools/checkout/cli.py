"""Admin commands: expire unpaid orders now and deliver the mail outbox's due rows (the Swarm `expiry` service runs
`expire-orders` in a loop, which does both)."""


def _expire(args) -> int:
    from omcommerce import outbox

    from functions.checkout import service

    print(f"{service.expire_unpaid()} orders expired")
    print(f"mail outbox: {outbox.sweep()}")
    return 0


def _send_mail(args) -> int:
    from omcommerce import outbox

    print(f"mail outbox: {outbox.sweep()}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("expire-orders", help="cancel unpaid orders past their payment window, then send due mail")
    p.set_defaults(func=_expire)
    p = sub.add_parser("send-mail", help="deliver the mail outbox's pending rows that are due")
    p.set_defaults(func=_send_mail)
