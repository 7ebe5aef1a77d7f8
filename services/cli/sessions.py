"""One transaction on a service's database for a CLI command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from services.common.errors import DomainError
from services.common.runtime import Runtime


@contextmanager
def service_transaction(build: Callable[[], Runtime]) -> Iterator[Session]:
    """A transaction on the database of the runtime `build` makes; a refused change is a
    clean CLI error."""
    runtime = build()
    try:
        with runtime.db.transaction() as session:
            yield session
    except DomainError as error:
        raise click.ClickException(error.message) from error
    finally:
        runtime.db.dispose()
