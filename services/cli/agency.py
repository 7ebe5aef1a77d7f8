"""`fengqiao agency …`: register partner agencies and issue their keys."""

from __future__ import annotations

import click

from services.intake import runtime as intake_runtime
from services.intake import service
from services.intake.auth import issue_key


def create_agency_with_key(name: str, kind: str) -> str:
    """Register an agency and return its first key (shown once, stored hashed)."""
    runtime = intake_runtime.build()
    try:
        with runtime.db.transaction() as session:
            agency = service.create_agency(session, name=name, kind=kind, now=runtime.clock.now())
            return issue_key(session, agency=agency, now=runtime.clock.now())
    finally:
        runtime.db.dispose()


@click.group()
def agency() -> None:
    """Partner agencies (五联动 and volunteer leagues)."""


@agency.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(service.AGENCY_KINDS))
def create(name: str, kind: str) -> None:
    """Register agency NAME; its key is printed alone on the last line, once."""
    try:
        key = create_agency_with_key(name, kind)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Agency {name!r} ({kind}) created. Its key is shown once; store it now:")
    click.echo(key)
