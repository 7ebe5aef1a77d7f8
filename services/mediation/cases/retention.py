"""Personal data kept no longer than needed: ended cases lose their personal fields.

A case that ended (closed, or declined by a party) longer ago than the retention period
(`MEDIATION_RETENTION_DAYS`) has its parties' names and phones, the reporter, the details,
the summary and every free-text note and field of its history erased. What the figures
are made of stays: statuses, times, desks, who acted, rebound links (GET /v1/stats gives
the same answer before and after). Each case is erased once (`personal_erased_at`), in
its own transaction under its row lock; nothing is published: intake is told nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from services.mediation.cases.workflow import CaseStatus
from services.mediation.models import Agreement, Case, CaseHistory, TransitionKey
from services.mediation.runtime import MediationRuntime

log = logging.getLogger(__name__)

BATCH = 200
ERASED = "（已删除）"
ENDED = (CaseStatus.CLOSED, CaseStatus.DECLINED)
# History fields that name no one and say how the case went; everything else is erased.
KEPT_DETAIL = frozenset({"due_kind", "outcome", "desk", "risk_grade", "kind", "result"})


def _ended_before(cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    ended_at = (
        select(func.max(CaseHistory.at))
        .where(CaseHistory.case_id == Case.id, CaseHistory.to_status.in_(ENDED))
        .scalar_subquery()
    )
    return (Case.status.in_(ENDED), Case.personal_erased_at.is_(None), ended_at <= cutoff)


def erase_expired(runtime: MediationRuntime, *, max_rounds: int = 50) -> int:
    """Erase the personal fields of cases ended before the retention period; how many."""
    now = runtime.clock.now()
    cutoff = now - runtime.rules.retention
    erased = 0
    for _ in range(max_rounds):
        with runtime.db.sessions() as session:
            ids = list(session.scalars(select(Case.id).where(*_ended_before(cutoff)).limit(BATCH)))
        erased += sum(1 for case_id in ids if _erase_one(runtime, case_id, cutoff, now))
        if len(ids) < BATCH:
            break
    return erased


def _erase_one(
    runtime: MediationRuntime, case_id: uuid.UUID, cutoff: datetime, now: datetime
) -> bool:
    with runtime.db.transaction() as session:
        case = session.scalar(
            select(Case)
            .where(Case.id == case_id, *_ended_before(cutoff))
            .with_for_update(skip_locked=True)
        )
        if case is None:  # another run has it, or it is done
            return False
        erase_case(session, case, now=now)
    log.info("case %s: personal fields erased after the retention period", case_id)
    return True


def erase_case(session: Session, case: Case, *, now: datetime) -> None:
    """Blank every personal field of `case` (the caller holds its row lock)."""
    for party in case.parties:
        party.name, party.phone = ERASED, None
    case.reporter = {}
    case.details = None
    case.summary = ERASED
    for step in case.history:
        step.note = ""
        step.detail = _kept(step.detail)
    agreement = session.get(Agreement, case.id)
    if agreement is not None:  # its dates stay; who agreed to what goes
        agreement.parties, agreement.facts, agreement.terms = [], ERASED, ERASED
    # Stored answers to repeated requests hold the case as staff saw it.
    session.execute(delete(TransitionKey).where(TransitionKey.case_id == case.id))
    case.personal_erased_at = case.updated_at = now


def _kept(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in detail.items() if k in KEPT_DETAIL and isinstance(v, str | int)}
