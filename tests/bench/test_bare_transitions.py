"""The staff part's same-writes baseline makes a step's writes, once per row, in one
transaction: what the benchmark compares the services' steps with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import ColumnElement, Engine, Table, func, select

from bench import bare_transitions as bare
from services.common.db import make_engine
from tests import infra

ACCEPT = {"action": "accept", "risk_grade": "B"}
VERIFY = {"action": "verify", "confirmed": True, "severity": "medium"}


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    url = infra.create_database("fengqiao_test_bare_steps")
    monkeypatch.setenv(bare.DATABASE_VARIABLE, url)
    bare._engine.cache_clear()
    made = make_engine(url)
    try:
        bare.create_tables(made)
        yield made
    finally:
        made.dispose()
        bare._engine().dispose()
        bare._engine.cache_clear()
        infra.drop_database(url)


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return bare.app.test_client()


def _count(engine: Engine, table: Table, *where: ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def test_an_accept_changes_the_case_once_with_its_history_and_two_messages(
    engine: Engine, client: FlaskClient
) -> None:
    case_id = uuid.uuid4()
    bare.add_rows(engine, case_ids=[case_id], claim_ids=[])

    first = client.post(f"/v1/cases/{case_id}/transitions", json=ACCEPT)
    again = client.post(f"/v1/cases/{case_id}/transitions", json=ACCEPT)

    assert (first.status_code, first.json) == (
        200,
        {"id": str(case_id), "status": "local_mediation"},
    )
    assert again.status_code == 409  # the guarded UPDATE is the state check
    with engine.connect() as conn:
        case = conn.execute(select(bare.cases).where(bare.cases.c.id == case_id)).one()
    assert (case.status, case.risk_grade) == ("local_mediation", "B")
    assert case.due_kind == "local_mediation" and case.due_at is not None
    assert _count(engine, bare.history, bare.history.c.subject_id == case_id) == 1
    assert _count(engine, bare.outbox) == 2


def test_a_verify_counts_the_envelope_for_the_reporter_and_in_the_month(
    engine: Engine, client: FlaskClient
) -> None:
    claims = [uuid.uuid4(), uuid.uuid4()]
    bare.add_rows(engine, case_ids=[], claim_ids=claims)

    answers = [client.post(f"/v1/claims/{c}/transitions", json=VERIFY) for c in claims]

    assert [a.status_code for a in answers] == [200, 200]
    with engine.connect() as conn:
        reserved = conn.scalar(select(bare.envelope_months.c.reserved_fen))
        months = conn.execute(select(bare.reporter_months)).all()
    assert reserved == 2 * bare.ENVELOPE_FEN["medium"]
    assert sorted((m.envelopes, m.amount_fen) for m in months) == [(1, 1000), (1, 1000)]
    assert _count(engine, bare.history) == 2
    assert _count(engine, bare.outbox) == 4
    refused = client.post(f"/v1/claims/{claims[0]}/transitions", json={"action": "verify"})
    assert refused.status_code == 422
