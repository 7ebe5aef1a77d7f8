"""`fengqiao staff token`: tokens for station staff (ops, officers, desks, leaders, reviewers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from services.common.config import SCHEDULER, load_settings
from services.common.staff_auth import ROLES, issue, staff_secret


@click.group()
def staff() -> None:
    """Station staff and their API tokens."""


@staff.command("token")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366))
def token(name: str, role: str, days: int) -> None:
    """Issue a token for NAME acting as ROLE; it is printed alone on the last line."""
    secret = staff_secret(load_settings(SCHEDULER).var_dir)
    value = issue(
        secret, name=name, role=role, now=datetime.now(UTC), valid_for=timedelta(days=days)
    )
    click.echo(f"A {role} token for {name!r}, valid {days} days. Send it as a Bearer token:")
    click.echo(value)
