"""What each test starts from: the databases emptied and seeded as bootstrap seeds them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from services.common.config import SERVICES
from services.common.contracts import RECORD_REPORT_EVENT
from services.common.runtime import Runtime
from tests import infra, messages


def rows_per_table(runtime: Runtime) -> dict[str, int]:
    with runtime.db.engine.connect() as conn:
        tables = conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename NOT LIKE 'alembic_version%'"
            )
        ).all()
        return {
            table: conn.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0 for table in tables
        }


def used_sequences(runtime: Runtime) -> list[str]:
    with runtime.db.engine.connect() as conn:
        return list(
            conn.scalars(
                text(
                    "SELECT sequencename FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                )
            )
        )


def use_every_sequence(runtime: Runtime) -> None:
    with runtime.db.engine.begin() as conn:
        conn.execute(
            text(
                "SELECT nextval(sequencename::regclass) FROM pg_sequences"
                " WHERE schemaname = current_schema()"
            )
        )


@pytest.mark.parametrize("service", SERVICES)
def test_a_reset_leaves_only_the_seeded_station(
    service: str, make_runtime: Callable[[str], Any], service_databases: infra.ServiceDatabases
) -> None:
    runtime: Runtime = make_runtime(service)
    message = messages.report_event(uuid.uuid4(), "case_opened", runtime.clock.now())
    assert runtime.messaging.handle_once(RECORD_REPORT_EVENT, message, lambda s, m: None)
    use_every_sequence(runtime)

    seeded = service_databases.reset(service)

    assert rows_per_table(runtime) == service_databases.bootstrapped[service]
    assert sum(rows_per_table(runtime).values()) == seeded
    assert used_sequences(runtime) == []
