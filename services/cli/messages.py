"""`fengqiao messages …`: the messages services parked (dead letters), and sending them again.

A consumer parks a message that fails its contract or whose handler keeps failing; it waits
in that service's `dead_letters` table until someone has fixed the cause and replays it.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from services.common.clock import to_station_time
from services.common.config import SERVICES
from services.common.logging import mask_personal_data
from services.common.messaging import DeadLetterMixin, Messaging


@contextmanager
def messaging_of(service: str) -> Iterator[Messaging]:
    """One service's messaging, built from the environment, for a command."""
    runtime: Any = importlib.import_module(f"services.{service}.runtime").build()
    try:
        yield runtime.messaging
    finally:
        runtime.db.dispose()


def describe_dead_letter(service: str, row: DeadLetterMixin) -> str:
    """One parked message for the terminal, personal data masked."""
    payload = mask_personal_data(json.dumps(row.payload, ensure_ascii=False, sort_keys=True))
    first, last = to_station_time(row.first_failed_at), to_station_time(row.last_failed_at)
    return "\n".join(
        [
            f"{row.message_id}  {service}  {row.task}  {row.status}",
            f"  tries {row.attempts}, first failed {first}, last {last}",
            f"  error: {row.error.splitlines()[0] if row.error else ''}",
            f"  payload: {payload}",
        ]
    )


@click.group()
def messages() -> None:
    """Messages the services could not handle: list them, send them again."""


@messages.command()
@click.argument("service", required=False, type=click.Choice(SERVICES))
@click.option("--replayed", is_flag=True, help="Also list the ones already replayed.")
def dead(service: str | None, replayed: bool) -> None:
    """List parked messages (of SERVICE, or of every service), oldest first."""
    total = 0
    for name in [service] if service else SERVICES:
        with messaging_of(name) as messaging:
            rows = messaging.parked(include_replayed=replayed)
        for row in rows:
            click.echo(describe_dead_letter(name, row))
        total += len(rows)
    click.echo(f"{total} parked message{'' if total == 1 else 's'}", err=True)


@messages.command()
@click.argument("message_id", required=False, type=click.UUID)
@click.option("--all", "replay_all", is_flag=True, help="Every waiting message.")
@click.option("--service", type=click.Choice(SERVICES), help="Only this service's messages.")
def replay(message_id: uuid.UUID | None, replay_all: bool, service: str | None) -> None:
    """Send parked messages again through their service's outbox: MESSAGE_ID, or --all."""
    if (message_id is None) == (not replay_all):
        raise click.UsageError("give one MESSAGE_ID or --all")
    ids = None if message_id is None else [message_id]
    total = 0
    for name in [service] if service else SERVICES:
        with messaging_of(name) as messaging:
            replayed = messaging.replay(message_ids=ids)
        for replayed_id in replayed:
            click.echo(f"{replayed_id}  {name}  replayed")
        total += len(replayed)
    if message_id is not None and total == 0:
        raise click.ClickException(f"no waiting parked message {message_id}")
    click.echo(f"{total} message{'' if total == 1 else 's'} replayed", err=True)
