"""`fengqiao officers …` and `fengqiao villages …`: the station's roster in mediation's database."""

from __future__ import annotations

from contextlib import AbstractContextManager

import click
from sqlalchemy.orm import Session

from services.cli.sessions import service_transaction
from services.common.phones import mask_phone
from services.common.staff_auth import ROLES, StaffMember
from services.mediation import runtime as mediation_runtime
from services.mediation.roster import service


def mediation_session() -> AbstractContextManager[Session]:
    """One transaction on mediation's database; a refused change is a clean CLI error."""
    return service_transaction(mediation_runtime.build)


def roster_member(staff_id: str) -> StaffMember | None:
    """A staff member of mediation's roster (staff added with the CLI or the API)."""
    with mediation_session() as session:
        staff = service.find_staff(session, staff_id)
        return service.member_of(session, staff) if staff and staff.active else None


@click.group()
def officers() -> None:
    """Officers, leaders and desk staff (the station's roster)."""


@officers.command("list")
def list_officers() -> None:
    """Officers and leaders with their villages (phones masked)."""
    with mediation_session() as session:
        for o in service.list_officers(session):
            state = "" if o.active else "  (left)"
            click.echo(
                f"{o.id:<16} {o.name:<8} {mask_phone(o.phone)}  {','.join(o.roles):<14} "
                f"{','.join(o.villages)}{state}"
            )


@officers.command("add")
@click.argument("staff_id")
@click.option("--name", required=True)
@click.option("--phone", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--desk", help="The desk code, for desk staff.")
def add_officer(
    staff_id: str, name: str, phone: str, roles: tuple[str, ...], desk: str | None
) -> None:
    """Add STAFF_ID to the roster."""
    with mediation_session() as session:
        if service.find_staff(session, staff_id) is not None:
            raise click.ClickException(f"{staff_id} is already on the roster")
        service.save_staff(
            session,
            staff_id=staff_id,
            changes={"name": name, "phone": phone, "roles": list(roles), "desk_code": desk},
        )
    click.echo(f"{staff_id} added")


@officers.command("leave")
@click.argument("staff_id")
def leave(staff_id: str) -> None:
    """Take STAFF_ID off duty for good: their tokens stop working at once."""
    with mediation_session() as session:
        service.get_staff(session, staff_id)
        service.save_staff(session, staff_id=staff_id, changes={"active": False})
    click.echo(f"{staff_id} left the roster")


@click.group()
def villages() -> None:
    """Villages and the officer who owns their cases (分片包村)."""


@villages.command("list")
def list_villages() -> None:
    """Every village and its officer."""
    with mediation_session() as session:
        for v in service.list_villages(session):
            click.echo(f"{v.code:<16} {v.name:<10} {v.officer_id}")


@villages.command("set")
@click.argument("code")
@click.option("--name", help="The name residents use (魏村三组).")
@click.option("--officer", help="The officer who owns the village's new cases.")
def set_village(code: str, name: str | None, officer: str | None) -> None:
    """Add village CODE or change its name or officer."""
    with mediation_session() as session:
        village = service.save_village(session, code=code, name=name, officer_id=officer)
        click.echo(f"{village.code} {village.name}: {village.officer_id}")
