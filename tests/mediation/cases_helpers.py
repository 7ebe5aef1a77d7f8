"""Driving cases through their workflow in tests: open one, act on it as a staff member."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.common.contracts import OPEN_CASE
from services.common.staff_auth import Caller, Role
from services.mediation import service
from services.mediation.cases.commands import Context, TransitionCase
from services.mediation.desks import service as desks
from services.mediation.models import Case
from services.mediation.roster.service import DatabaseDirectory
from services.mediation.runtime import MediationRuntime
from tests import messages
from tests.factories import fresh_number


def caller(runtime: MediationRuntime, staff_id: str, role: str) -> Caller:
    member = DatabaseDirectory(lambda: runtime.db).lookup(staff_id)
    assert member is not None
    return Caller(member=member, role=Role(role))


def open_case(runtime: MediationRuntime, **overrides: Any) -> uuid.UUID:
    """A new dispute in weicun-3 (郭警官's), with party numbers no other test uses."""
    parties = [
        {"name": "陈大哥", "phone": fresh_number(), "role": "claimant"},
        {"name": "陈二弟", "phone": fresh_number(), "role": "respondent"},
    ]
    message = messages.open_case(**{"parties": parties, **overrides})

    def handler(session: Any, msg: dict[str, Any]) -> None:
        service.open_case(
            session,
            report=msg,
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
        )

    assert runtime.messaging.handle_once(OPEN_CASE, message, handler, claim_at_commit=True)
    with runtime.db.sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.report_id == message["report_id"]))
    assert case_id is not None
    return case_id


def act(
    runtime: MediationRuntime,
    case_id: uuid.UUID,
    action: str,
    *,
    by: tuple[str, str] | None = ("officer-guo", "officer"),
    **fields: Any,
) -> Case:
    """Take one step on a case as `by` (staff id, role); None is the deadline sweep."""
    who = caller(runtime, *by) if by else None
    with runtime.db.transaction() as session:  # outbox rows stay for the assertions
        ctx = Context(
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=runtime.clock.now(),
            calendar=desks.working_calendar(session),
        )
        case = TransitionCase(case_id=case_id, caller=who, action=action, fields=fields).run(
            session, ctx
        )
        _ = case.history, case.parties, case.owner
        return case


def load(runtime: MediationRuntime, case_id: uuid.UUID) -> Case:
    with runtime.db.sessions() as session:
        case = session.get_one(Case, case_id)
        _ = case.history, case.parties, case.owner
        return case
