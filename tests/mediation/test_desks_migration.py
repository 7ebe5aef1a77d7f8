"""Migration 0004 keeps the desks a station already has, on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from services.common.db import make_engine
from services.common.migrations import alembic_config
from tests import infra

DESK_ROWS = [
    ("mediation_room", "魏民调解室", "working_days", "[]", "09:00", "17:00", 60, 2),
    ("broken_desk", "旧数据", "daily", "[]", "19:00", "20:30", 0, 0),
]


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mediation.db'}"
        return
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    url = infra.create_database("fq_desks_migration")
    try:
        yield url
    finally:
        infra.drop_database(url)


def test_upgrading_to_0004_keeps_the_desks_and_mends_unusable_ones(database_url: str) -> None:
    config = alembic_config("mediation", database_url)
    command.upgrade(config, "0002")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        for row in DESK_ROWS:
            conn.execute(
                text(
                    "INSERT INTO desks (code, name, calendar, weekdays, opens, closes,"
                    " session_minutes, parallel) VALUES (:c, :n, :k, :w, :o, :x, :m, :p)"
                ),
                dict(zip("cnkwoxmp", row, strict=True)),
            )

    command.upgrade(config, "0004")

    with engine.connect() as conn:
        desks = conn.execute(
            text("SELECT code, name, session_minutes, parallel FROM desks ORDER BY code")
        ).all()
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert [tuple(d) for d in desks] == [
        ("broken_desk", "旧数据", 60, 1),
        ("mediation_room", "魏民调解室", 60, 2),
    ]
    assert {"desk_sessions", "calendar_days"} <= tables
    command.downgrade(config, "0002")
