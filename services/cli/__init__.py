"""The `fengqiao` command: set up databases, manage agencies, run the system, play the demo.

The CLI is a composition root, like the beat scheduler: it may use every service's code.
The services themselves never import each other.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from services.common.bootstrap import bootstrap
from services.common.config import SERVICES
from services.common.logging import configure_logging


@click.group()
def main() -> None:
    """Fengqiao: community policing services (intake, mediation, rewards, notify)."""
    configure_logging("cli", level="WARNING")


def bootstrap_service(service: str) -> int:
    """Migrate one service's database and seed the demo station if it is empty."""
    runtime: Any = importlib.import_module(f"services.{service}.runtime").build()
    seed = importlib.import_module(f"services.{service}.service").seed_station
    try:
        return bootstrap(runtime, seed)
    finally:
        runtime.db.dispose()


@main.command()
@click.option("--service", "only", type=click.Choice((*SERVICES, "console")), help="Only this one.")
def migrate(only: str | None) -> None:
    """Bring databases to the newest schema and load the demo station into empty ones."""
    if only in (None, "console"):
        from services.console.settings import load_console_settings
        from services.console.setup import migrate as migrate_console

        migrate_console(load_console_settings())
        click.echo("console: migrated")
    for service in [only] if only in SERVICES else [] if only else SERVICES:
        added = bootstrap_service(service)
        click.echo(f"{service}: migrated" + (f", seeded {added} rows" if added else ""))


def _register_subcommands() -> None:
    from services.cli.agency import agency
    from services.cli.demo import demo
    from services.cli.desks import calendar, desks
    from services.cli.messages import messages
    from services.cli.payouts import budget, payouts
    from services.cli.roster import officers, villages
    from services.cli.run import run
    from services.cli.staff import staff
    from services.cli.stats import demo_year, stats

    main.add_command(agency)
    main.add_command(officers)
    main.add_command(villages)
    main.add_command(staff)
    main.add_command(demo)
    main.add_command(demo_year)
    main.add_command(stats)
    main.add_command(payouts)
    main.add_command(budget)
    main.add_command(messages)
    main.add_command(run)
    main.add_command(desks)
    main.add_command(calendar)


_register_subcommands()
