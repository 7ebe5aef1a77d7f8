"""Retention: ended cases lose their personal fields once, and the figures stay the same."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from services.common.clock import FrozenClock
from services.mediation.cases.retention import ERASED, erase_expired
from services.mediation.models import Agreement, OutboxMessage
from services.mediation.runtime import MediationRuntime
from tests.mediation.cases_helpers import act, load, open_case
from tests.mediation.client import as_role, client_for


def _stats(mediation: MediationRuntime, window: dict[str, str]) -> Any:
    answer: Any = client_for(mediation).get(
        "/v1/stats", query_string=window, headers=as_role(mediation, "leader")
    )
    assert answer.status_code == 200, answer.json
    return answer.json


def _outbox_rows(mediation: MediationRuntime) -> int:
    with mediation.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_cases_ended_past_retention_are_erased_once_and_the_stats_stay(
    mediation: MediationRuntime, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=3000 + secrets.randbelow(1000)))  # a window of this test's own
    start = clock.now()
    closed, declined, still_open, recent = (open_case(mediation) for _ in range(4))
    act(mediation, closed, "accept", risk_grade="C")
    clock.advance(timedelta(days=1))
    act(
        mediation,
        closed,
        "record_session",
        outcome="resolved",
        note="陈大哥同意赔偿",
        agreement={
            "facts": "陈大哥的墙被损坏",
            "terms": "陈二弟赔偿陈大哥 500 元",
            "perform_by": date(2040, 1, 1),
        },
    )
    act(mediation, closed, "follow_up", kind="phone", result="stable", note="回访陈大哥：稳定")
    act(mediation, closed, "close", note="结案")
    act(mediation, declined, "decline", party="claimant", reason="陈大哥不愿调解")
    window = {"from": start.isoformat(), "to": (start + timedelta(hours=1)).isoformat()}

    clock.advance(mediation.rules.retention - timedelta(minutes=1))
    act(mediation, recent, "decline", party="claimant", reason="不愿调解")
    before = _stats(mediation, window)
    erase_expired(mediation)
    assert load(mediation, closed).personal_erased_at is None  # not yet: a minute to go

    clock.advance(timedelta(minutes=2))
    outbox = _outbox_rows(mediation)
    erase_expired(mediation)
    erased_at = clock.now()
    clock.advance(timedelta(days=1))
    erase_expired(mediation)  # again: nothing more happens to them

    for case_id in (closed, declined):
        case = load(mediation, case_id)
        assert case.personal_erased_at == erased_at
        assert [(p.name, p.phone) for p in case.parties] == [(ERASED, None), (ERASED, None)]
        assert (case.reporter, case.details, case.summary) == ({}, None, ERASED)
        with mediation.db.sessions() as session:
            kept = session.get(Agreement, case_id)
            assert kept is None or (kept.parties, kept.facts, kept.terms) == ([], ERASED, ERASED)
        assert all(h.note == "" for h in case.history)
        text = repr([h.detail for h in case.history])
        assert "陈" not in text and "500" not in text, text
    assert [h.detail for h in load(mediation, closed).history if h.action == "follow_up"] == [
        {"kind": "phone", "result": "stable"}
    ]
    for case_id in (still_open, recent):
        case = load(mediation, case_id)
        assert case.personal_erased_at is None
        assert all(p.name.startswith("陈") and p.phone for p in case.parties)
    assert _outbox_rows(mediation) == outbox  # intake (and anyone else) is told nothing
    assert _stats(mediation, window) == before
