"""Schemathesis over mediation's API, on a database of its own.

The generated requests load calendar dates and create desks; on the shared test database
they would change what other tests book, so this test migrates and seeds a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.bootstrap import bootstrap
from services.common.clock import FrozenClock
from services.mediation import runtime as mediation_runtime
from services.mediation import service as mediation_service
from services.mediation.runtime import MediationRuntime
from tests import infra
from tests.contract.test_openapi import check_every_operation
from tests.mediation.desk_client import client_for, staff_headers

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def own_mediation(redis_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[MediationRuntime]:
    if not infra.postgres_reachable():
        infra.unavailable("PostgreSQL")
    url = infra.create_database("fq_mediation_contract")
    try:
        settings = infra.settings_for(
            "mediation", database_url=url, broker_url=redis_url, var_dir=tmp_path
        )
        runtime = mediation_runtime.build(settings, clock)
        bootstrap(runtime, mediation_service.seed_station)
        yield runtime
        runtime.db.dispose()
    finally:
        infra.drop_database(url)


def test_mediation_answers_as_documented(own_mediation: MediationRuntime) -> None:
    checked = check_every_operation(
        client_for(own_mediation).application, staff_headers(own_mediation, "ops"), examples=40
    )

    assert {
        "GET /v1/desks/{code}/slots",
        "GET /v1/desks/{code}/sessions",
        "GET /v1/calendar/range",
        "PATCH /v1/desks/{code}",
        "PUT /v1/calendar/days",
    } <= set(checked)


def test_mediation_answers_a_leader_as_documented(own_mediation: MediationRuntime) -> None:
    checked = check_every_operation(
        client_for(own_mediation).application, staff_headers(own_mediation, "leader"), examples=25
    )

    assert {
        "GET /v1/cases",
        "POST /v1/cases/{case_id}/transitions",
        "POST /v1/villages",
        "GET /v1/stats",
    } <= set(checked)
