"""Admin commands of the catalogue."""


def _load_areas(args) -> int:
    from . import areas

    print(f"{areas.load()} shipping areas loaded")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("load-areas", help="load the Indonesian shipping areas (idempotent)")
    p.set_defaults(func=_load_areas)
