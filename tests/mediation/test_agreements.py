"""调解协议书: recorded with a resolved session; the parties reminded of 司法确认 and performing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from services.common.clock import STATION_TZ, FrozenClock
from services.mediation.cases.agreements import remind_agreements
from services.mediation.cases.commands import TransitionRefused
from services.mediation.models import Agreement
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case
from tests.outbox import outbox_where


def sms_about(runtime: MediationRuntime, case: object, template: str) -> list[str]:
    code = case.tracking_code  # type: ignore[attr-defined]
    rows = outbox_where(runtime, "params", "tracking_code", equals=code)
    return sorted(body["recipient"] for _, body in rows if body["template"] == template)


def _resolve(mediation: MediationRuntime, clock: FrozenClock, *, perform_in: int) -> object:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    perform_by = (clock.now() + timedelta(days=perform_in)).astimezone(STATION_TZ).date()
    act(
        mediation,
        case_id,
        "record_session",
        outcome="resolved",
        note="双方同意",
        agreement={
            "facts": "排水沟堵塞，水漫邻院",
            "terms": "共同清理排水沟，费用各半",
            "perform_by": perform_by.isoformat(),
        },
    )
    return load(mediation, case_id)


def test_the_agreement_is_stored_and_each_reminder_goes_once(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    made_at = clock.now()
    case = _resolve(mediation, clock, perform_in=20)
    phones = sorted(p.phone for p in case.parties)  # type: ignore[attr-defined]
    with mediation.db.sessions() as session:
        stored = session.get_one(Agreement, case.id)  # type: ignore[attr-defined]
    assert (stored.facts, stored.terms) == ("排水沟堵塞，水漫邻院", "共同清理排水沟，费用各半")
    assert stored.parties == [p.name for p in case.parties]  # type: ignore[attr-defined]
    assert stored.confirm_by == made_at + timedelta(days=30)

    clock.advance(timedelta(days=16))
    remind_agreements(mediation)
    assert sms_about(mediation, case, "agreement_perform_reminder") == []

    clock.advance(timedelta(days=2))  # three days before performing is due
    remind_agreements(mediation)
    remind_agreements(mediation)
    assert sms_about(mediation, case, "agreement_perform_reminder") == phones
    assert sms_about(mediation, case, "judicial_confirmation_reminder") == []

    clock.advance(timedelta(days=5, hours=1))  # a week before the 30 days are up
    remind_agreements(mediation)
    clock.advance(timedelta(days=1))
    remind_agreements(mediation)
    assert sms_about(mediation, case, "judicial_confirmation_reminder") == phones
    assert sms_about(mediation, case, "agreement_perform_reminder") == phones
    rows = outbox_where(mediation, "template", equals="judicial_confirmation_reminder")
    mine = [body for _, body in rows if body["recipient"] in phones]
    assert {b["params"]["by"] for b in mine} == {
        (made_at + timedelta(days=30)).astimezone(STATION_TZ).date().isoformat()
    }
    assert {b["priority"] for b in mine} == {"normal"}  # notify holds it over quiet hours


def test_a_station_may_leave_out_the_reminder_to_perform(
    mediation: MediationRuntime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        mediation, "rules", dataclasses.replace(mediation.rules, perform_reminder_before=None)
    )
    case = _resolve(mediation, clock, perform_in=5)
    clock.advance(timedelta(days=29))
    remind_agreements(mediation)

    assert sms_about(mediation, case, "agreement_perform_reminder") == []
    assert len(sms_about(mediation, case, "judicial_confirmation_reminder")) == 2


def test_an_agreement_without_its_terms_is_refused(mediation: MediationRuntime) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")

    with pytest.raises(TransitionRefused) as refused:
        act(
            mediation,
            case_id,
            "record_session",
            outcome="resolved",
            note="ok",
            agreement={"facts": "排水沟堵塞", "perform_by": "2027-01-01"},
        )
    assert refused.value.status == 422
    assert refused.value.problems.fields == {
        "agreement.terms": ["Missing data for required field."]
    }
