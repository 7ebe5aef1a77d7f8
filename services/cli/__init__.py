"""The `fengqiao` command: set up databases, manage agencies, run the system, play the demo.

The CLI is a composition root, like the beat scheduler: it may use every service's code.
The services themselves never import each other.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from services.common.config import SERVICES
from services.common.logging import configure_logging

# Each subcommand's module is imported only when that command runs (or help lists it):
# `fengqiao run` then supervises the system in a small process, without every service's
# code loaded (docs/capacity.md, memory).
SUBCOMMANDS = {
    "agency": "services.cli.agency:agency",
    "officers": "services.cli.roster:officers",
    "villages": "services.cli.roster:villages",
    "staff": "services.cli.staff:staff",
    "demo": "services.cli.demo:demo",
    "demo-year": "services.cli.stats:demo_year",
    "stats": "services.cli.stats:stats",
    "payouts": "services.cli.payouts:payouts",
    "budget": "services.cli.payouts:budget",
    "messages": "services.cli.messages:messages",
    "run": "services.cli.run:run",
    "desks": "services.cli.desks:desks",
    "calendar": "services.cli.desks:calendar",
}


class LazyGroup(click.Group):
    """A group whose subcommands in `SUBCOMMANDS` are imported when looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *SUBCOMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = SUBCOMMANDS[cmd_name].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup)
def main() -> None:
    """Fengqiao: community policing services (intake, mediation, rewards, notify)."""
    configure_logging("cli", level="WARNING")


def bootstrap_service(service: str) -> int:
    """Migrate one service's database and seed the demo station if it is empty."""
    from services.common.bootstrap import bootstrap

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
