"""`insert_on_conflict`: one `INSERT … ON CONFLICT` on both databases the services run on.

Each dialect is imported on its first use (tests/test_worker_imports.py checks which one a
process loads); this checks that both still build statements that do what their callers
need: claim a key once, and count up a row that is there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select

from services.common.db import insert_on_conflict, make_engine

METADATA = MetaData()
COUNTS = Table(
    "insert_on_conflict_counts",
    METADATA,
    Column("subject", String(40), primary_key=True),
    Column("hits", Integer, nullable=False),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'counts.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_urls")["intake"]
    engine = make_engine(url)
    METADATA.create_all(engine)
    try:
        yield engine
    finally:
        METADATA.drop_all(engine)
        engine.dispose()


def test_a_key_is_claimed_once_and_a_row_counted_up(engine: Engine) -> None:
    claims = []
    with engine.begin() as conn:
        for _ in range(2):
            claim = (
                insert_on_conflict(conn.dialect, COUNTS)
                .values(subject="key", hits=1)
                .on_conflict_do_nothing(index_elements=["subject"])
                .returning(COUNTS.c.subject)
            )
            claims.append(conn.execute(claim).first())
        counted = [
            conn.execute(
                insert_on_conflict(conn.dialect, COUNTS)
                .values(subject="agency", hits=1)
                .on_conflict_do_update(index_elements=["subject"], set_={"hits": COUNTS.c.hits + 1})
                .returning(COUNTS.c.hits)
            ).scalar_one()
            for _ in range(3)
        ]
        rows = conn.execute(select(COUNTS.c.subject, COUNTS.c.hits).order_by("subject")).all()

    assert [claim is not None for claim in claims] == [True, False]
    assert counted == [1, 2, 3]
    assert [tuple(row) for row in rows] == [("agency", 3), ("key", 1)]
