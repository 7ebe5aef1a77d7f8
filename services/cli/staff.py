"""`fengqiao staff token`: tokens for the station's staff, by id and role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from sqlalchemy.exc import SQLAlchemyError

from services.common.config import SCHEDULER, load_settings
from services.common.staff_auth import ROLES, StaffMember, StationDirectory, issue, staff_secret
from services.common.station import load_station


def find_member(staff_id: str) -> StaffMember | None:
    """The staff member with this id: mediation's roster (kept with `fengqiao officers` and
    the API), else the station file."""
    from services.cli.roster import roster_member

    try:
        member = roster_member(staff_id)
    except (click.ClickException, SQLAlchemyError):  # mediation's database not set up yet
        member = None
    station = load_station(load_settings(SCHEDULER).station_file)
    return member or StationDirectory(station).lookup(staff_id)


@click.group()
def staff() -> None:
    """Station staff and their API tokens."""


@staff.command("token")
@click.argument("staff_id")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366))
def token(staff_id: str, role: str, days: int) -> None:
    """Issue a token for STAFF_ID acting as ROLE; it is printed alone on the last line."""
    member = find_member(staff_id)
    if member is None:
        raise click.ClickException(f"the station has no staff member {staff_id!r}")
    if role not in member.roles:
        held = ", ".join(sorted(member.roles)) or "none"
        raise click.ClickException(f"{staff_id} does not hold the role {role} (holds: {held})")
    secret = staff_secret(load_settings(SCHEDULER).var_dir)
    value = issue(
        secret, staff_id=staff_id, role=role, now=datetime.now(UTC), valid_for=timedelta(days=days)
    )
    click.echo(f"A {role} token for {member.name} ({staff_id}), valid {days} days.")
    click.echo("Send it as a Bearer token:")
    click.echo(value)


@staff.command("password")
@click.argument("staff_id")
@click.password_option(prompt="New console password", help="Read from the prompt if not given.")
def password(staff_id: str, password: str) -> None:
    """Set STAFF_ID's password for signing in to the console."""
    from services.common.db import Database
    from services.console.passwords import set_password
    from services.console.settings import load_console_settings
    from services.console.setup import migrate

    if find_member(staff_id) is None:
        raise click.ClickException(f"the station has no staff member {staff_id!r}")
    settings = load_console_settings()
    migrate(settings)
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            set_password(session, staff_id=staff_id, password=password, now=datetime.now(UTC))
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.dispose()
    click.echo(f"The console password of {staff_id} is set.")
