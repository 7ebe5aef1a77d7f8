"""`fengqiao agency …`: register partner agencies, issue, list and revoke their keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import runtime as intake_runtime
from services.intake import service
from services.intake.auth import issue_key, revoke_key
from services.intake.models import Agency, ApiKey
from services.intake.runtime import IntakeRuntime


@contextmanager
def intake_session() -> Iterator[tuple[IntakeRuntime, Session]]:
    """Intake's runtime and one transaction, for a command."""
    runtime = intake_runtime.build()
    try:
        with runtime.db.transaction() as session:
            yield runtime, session
    finally:
        runtime.db.dispose()


def create_agency_with_key(name: str, kind: str) -> str:
    """Register an agency and return its first key (shown once, stored hashed)."""
    with intake_session() as (runtime, session):
        agency = service.create_agency(session, name=name, kind=kind, now=runtime.clock.now())
        return issue_key(session, agency=agency, now=runtime.clock.now())


def _agency(session: Session, name: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        raise click.ClickException(f"no agency named {name!r}")
    return agency


def _print_key_then(message: str, key: str) -> None:
    click.echo(f"{message} It is shown once; store it now:")
    click.echo(key)


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
    _print_key_then(f"Agency {name!r} ({kind}) created.", key)


@agency.command("add-key")
@click.argument("name")
@click.option("--test", "kind", flag_value="test", help="A test key: routed, never sent or paid.")
@click.option("--live", "kind", flag_value="live", default=True, help="A live key (default).")
@click.option("--label", help="What the key is for, e.g. the system that holds it.")
def add_key(name: str, kind: str, label: str | None) -> None:
    """Issue another key to agency NAME (for rotation, or a test key)."""
    with intake_session() as (runtime, session):
        key = issue_key(
            session, agency=_agency(session, name), now=runtime.clock.now(), kind=kind, label=label
        )
    _print_key_then(f"A {kind} key for {name!r} issued.", key)


@agency.command("keys")
@click.argument("name")
def list_keys(name: str) -> None:
    """List agency NAME's keys by id (secrets are never stored, so never shown)."""
    with intake_session() as (_, session):
        keys = session.scalars(
            select(ApiKey)
            .where(ApiKey.agency == _agency(session, name))
            .order_by(ApiKey.created_at)
        ).all()
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}Z" if key.revoked_at else "live"
            click.echo(f"{key.id}  {key.kind:<4}  {state:<24}  {key.label or ''}".rstrip())


@agency.command("revoke-key")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key at once, given its id (or the whole key)."""
    with intake_session() as (runtime, session):
        try:
            key = revoke_key(session, key_id=key_id, now=runtime.clock.now())
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"key {key.id} of {key.agency.name!r} revoked")
