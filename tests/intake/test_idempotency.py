"""`Idempotency-Key`: one report per key and body, the first answer replayed, races safe."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.common.clock import FrozenClock
from services.intake import idempotency, service
from services.intake.auth import authenticate
from services.intake.models import Report
from services.intake.runtime import IntakeRuntime
from tests import factories
from tests.intake.client import client_for
from tests.races import errors_in, run_together


def post(runtime: IntakeRuntime, key: str, idem: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return client_for(runtime).post("/v1/reports", json=body, headers=headers)


def reports_of(runtime: IntakeRuntime, summary: str) -> int:
    with runtime.db.sessions() as session:
        return session.scalar(select(func.count()).where(Report.summary == summary)) or 0


def unique_dispute() -> dict[str, Any]:
    return factories.dispute(summary=f"boundary {uuid.uuid4()}")


def test_the_same_key_and_body_get_the_first_answer_and_one_report(intake: IntakeRuntime) -> None:
    key, body, idem = factories.agency_key(intake), unique_dispute(), str(uuid.uuid4())

    first = post(intake, key, idem, body)
    reordered = dict(reversed(list(body.items())))  # the same JSON, keys in another order
    second = post(intake, key, idem, reordered)

    assert first.status_code == second.status_code == 202
    assert second.json == first.json
    assert second.headers["Location"] == first.headers["Location"]
    assert reports_of(intake, body["summary"]) == 1


def test_the_same_key_with_another_body_is_422(intake: IntakeRuntime) -> None:
    key, idem = factories.agency_key(intake), str(uuid.uuid4())
    post(intake, key, idem, unique_dispute())

    answer = post(intake, key, idem, unique_dispute())

    assert answer.status_code == 422
    assert "different body" in answer.json["message"]


def test_keys_belong_to_one_agency(intake: IntakeRuntime) -> None:
    idem, body = str(uuid.uuid4()), unique_dispute()
    post(intake, factories.agency_key(intake), idem, body)

    other = post(intake, factories.agency_key(intake), idem, body)

    assert other.status_code == 202
    assert reports_of(intake, body["summary"]) == 2


def test_a_key_in_flight_is_409_and_a_dead_requests_key_is_taken_over(
    intake: IntakeRuntime, clock: FrozenClock
) -> None:
    key, idem, body = factories.agency_key(intake), str(uuid.uuid4()), unique_dispute()
    # A first request that locked the key and then died before answering:
    with intake.db.autocommit() as connection:
        caller = authenticate(connection, f"Bearer {key}")
    assert caller is not None
    locked = idempotency.begin(
        intake.db,
        agency_id=caller.agency_id,
        key=idem,
        body_fingerprint=idempotency.fingerprint(body),
        rules=intake.rules,
        now=clock.now(),
    )
    assert locked is None

    assert post(intake, key, idem, body).status_code == 409
    clock.advance(intake.rules.idempotency_lease + timedelta(seconds=1))
    assert post(intake, key, idem, body).status_code == 202
    assert reports_of(intake, body["summary"]) == 1


def test_keys_expire_after_their_time(intake: IntakeRuntime, clock: FrozenClock) -> None:
    key, idem, body = factories.agency_key(intake), str(uuid.uuid4()), unique_dispute()
    first = post(intake, key, idem, body)

    clock.advance(intake.rules.idempotency_ttl + timedelta(seconds=1))
    assert idempotency.purge_expired(intake.db, now=clock.now()) == 1
    again = post(intake, key, idem, body)

    assert again.status_code == 202
    assert again.json["id"] != first.json["id"]


def test_a_rejected_body_does_not_use_up_the_key(intake: IntakeRuntime) -> None:
    key, idem, body = factories.agency_key(intake), str(uuid.uuid4()), unique_dispute()

    assert post(intake, key, idem, {**body, "parties": []}).status_code == 422
    assert post(intake, key, idem, body).status_code == 202


@pytest.mark.parametrize("idem", ["", "k" * 256])
def test_a_key_of_the_wrong_length_is_400(intake: IntakeRuntime, idem: str) -> None:
    answer = post(intake, factories.agency_key(intake), idem, unique_dispute())
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json["message"]


def test_racing_requests_with_one_key_create_one_report(intake: IntakeRuntime) -> None:
    key, idem, body = factories.agency_key(intake), str(uuid.uuid4()), unique_dispute()

    def request() -> tuple[int, Any]:
        answer = post(intake, key, idem, body)
        return answer.status_code, answer.json

    answers = run_together(request, request, request, request)
    assert errors_in(answers) == []

    assert reports_of(intake, body["summary"]) == 1
    # The first to take the key made the report. Each other one came either while it was
    # in flight (409) or after it, and then got the first answer again.
    assert {status for status, _ in answers} <= {202, 409}
    first_answers = [answer for status, answer in answers if status == 202]
    assert first_answers, answers
    assert all(answer == first_answers[0] for answer in first_answers)


def test_a_request_that_fails_frees_its_key_at_once(
    intake: IntakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, idem, body = factories.agency_key(intake), str(uuid.uuid4()), unique_dispute()
    real_run = service.SubmitReport.run

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process hit a bug")

    monkeypatch.setattr(service.SubmitReport, "run", failing)
    assert post(intake, key, idem, body).status_code == 500
    monkeypatch.setattr(service.SubmitReport, "run", real_run)

    assert post(intake, key, idem, body).status_code == 202  # no 409, no waiting
    assert reports_of(intake, body["summary"]) == 1


def test_a_request_still_running_keeps_its_key_past_the_lease(
    intake: IntakeRuntime, clock: FrozenClock
) -> None:
    rules = replace(intake.rules, idempotency_lease=timedelta(seconds=0.6))
    idem, body = str(uuid.uuid4()), unique_dispute()
    with intake.db.transaction() as session:
        agency_id = service.create_agency(session, name=idem, kind="grid", now=clock.now()).id
    begin = functools.partial(
        idempotency.begin,
        intake.db,
        agency_id=agency_id,
        key=idem,
        body_fingerprint=idempotency.fingerprint(body),
        rules=rules,
    )
    assert begin(now=clock.now()) is None

    with idempotency.kept(
        intake.db, agency_id=agency_id, key=idem, lease=rules.idempotency_lease, clock=clock
    ):
        clock.advance(timedelta(seconds=2))  # long past the lease it began with
        time.sleep(0.6)  # three renewals' time
        with pytest.raises(idempotency.KeyInFlight):
            begin(now=clock.now())

    # Once the request is gone nobody renews: the lease runs out and the key is free.
    clock.advance(timedelta(seconds=1))
    assert begin(now=clock.now()) is None
