"""Parties are reminded a day and two hours before their session, each reminder once."""

from __future__ import annotations

from datetime import timedelta

from services.common.clock import FrozenClock
from services.mediation.cases.reminders import remind_sessions
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case
from tests.mediation.test_case_workflow import escalated_sessions
from tests.outbox import outbox_where


def reminders_for(runtime: MediationRuntime, code: str) -> list[str]:
    rows = outbox_where(runtime, "params", "tracking_code", equals=code)
    return [body["idempotency_key"] for _, body in rows if body["template"] == "session_reminder"]


def test_a_day_and_two_hours_before_each_once(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    clock.advance(timedelta(days=3))
    act(mediation, case_id, "escalate", desk="lawyer_desk")
    [booked] = escalated_sessions(mediation, case_id)
    code = load(mediation, case_id).tracking_code
    assert booked.starts_at - clock.now() > timedelta(days=1)  # booked ahead of both

    clock.advance(booked.starts_at - timedelta(days=1, minutes=1) - clock.now())
    remind_sessions(mediation)
    assert reminders_for(mediation, code) == []

    clock.advance(timedelta(minutes=2))
    remind_sessions(mediation)
    remind_sessions(mediation)
    assert len(reminders_for(mediation, code)) == 2  # both parties, once

    clock.advance(booked.starts_at - timedelta(hours=2) - clock.now())
    remind_sessions(mediation)
    remind_sessions(mediation)
    keys = reminders_for(mediation, code)
    assert len(keys) == 4 and len(set(keys)) == 4
    assert sum(":120:" in key for key in keys) == 2
