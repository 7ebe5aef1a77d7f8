"""Reading cases as staff see them, and transitions repeated safely with an Idempotency-Key.

Functions take the session and never commit; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, exists, select
from sqlalchemy.orm import Session, selectinload

from services.common.errors import DomainError
from services.common.paging import paged
from services.common.staff_auth import Caller
from services.common.transitions import fingerprint
from services.mediation.cases import access
from services.mediation.cases.commands import (
    Context,
    TransitionCase,
    allowed_actions,
    find_case,
)
from services.mediation.desks.models import DeskSession
from services.mediation.models import Case, CaseHistory, CaseParty, TransitionKey


@dataclass
class CaseView:
    """A case with what its schema shows beside the row: its sessions, parties and history
    (rows with the schema's columns), and the caller's actions."""

    case: Case
    sessions: Sequence[Any]
    parties: Sequence[Any]
    history: Sequence[Any]
    allowed_actions: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.case, name)


# What the answer shows of a case's sessions, parties and history: rows through statements
# built once, not objects (on a staff step the ORM's loading cost more than the reads).
_CASE_ID = bindparam("case_id", type_=Uuid)
_SESSIONS = (
    select(
        DeskSession.id,
        DeskSession.desk_code,
        DeskSession.starts_at,
        DeskSession.ends_at,
        DeskSession.outcome,
        DeskSession.cancelled_at,
    )
    .where(DeskSession.case_id == _CASE_ID)
    .order_by(DeskSession.starts_at, DeskSession.created_at)  # as desks.sessions_of_case
)
_PARTIES = (
    select(CaseParty.name, CaseParty.role, CaseParty.phone)
    .where(CaseParty.case_id == _CASE_ID)
    .order_by(CaseParty.id)  # as Case.parties
)
_HISTORY = (
    select(
        CaseHistory.at,
        CaseHistory.by,
        CaseHistory.action,
        CaseHistory.from_status,
        CaseHistory.to_status,
        CaseHistory.note,
        CaseHistory.detail,
    )
    .where(CaseHistory.case_id == _CASE_ID)
    .order_by(CaseHistory.id)  # as Case.history
)


def view_of(session: Session, *, caller: Caller, case: Case) -> CaseView:
    """The case as `caller` sees it (what this transaction wrote included)."""
    session.flush()  # the reads below go through the connection, past the autoflush
    conn, key = session.connection(), {"case_id": case.id}
    return CaseView(
        case=case,
        sessions=conn.execute(_SESSIONS, key).all(),
        parties=conn.execute(_PARTIES, key).all(),
        history=conn.execute(_HISTORY, key).all(),
        allowed_actions=allowed_actions(session, caller=caller, case=case),
    )


def get_case(session: Session, *, caller: Caller, case_id: uuid.UUID) -> CaseView:
    """One case the caller may see (else a 404), with its sessions and history."""
    return view_of(session, caller=caller, case=find_case(session, caller=caller, case_id=case_id))


def list_cases(
    session: Session,
    *,
    caller: Caller,
    offset: int,
    limit: int,
    status: str | None = None,
    village: str | None = None,
    owner: str | None = None,
    desk: str | None = None,
    due_before: datetime | None = None,
    report_id: uuid.UUID | None = None,
    tracking_code: str | None = None,
) -> tuple[list[Case], int]:
    """The cases the caller may see, soonest due first, one page and the total."""
    query = select(Case).where(access.visible_to(caller))
    for column, value in (
        (Case.status, status),
        (Case.village, village),
        (Case.owner_id, owner),
        (Case.report_id, report_id),
        (Case.tracking_code, tracking_code),
    ):
        if value is not None:
            query = query.where(column == value)
    if desk is not None:
        query = query.where(
            exists().where(DeskSession.case_id == Case.id, DeskSession.desk_code == desk)
        )
    if due_before is not None:
        query = query.where(Case.due_at < due_before)
    return paged(
        session,
        query.options(selectinload(Case.parties)),
        order_by=(Case.due_at.asc().nulls_last(), Case.created_at, Case.id),
        offset=offset,
        limit=limit,
    )


def transition(
    session: Session,
    *,
    caller: Caller,
    case_id: uuid.UUID,
    body: dict[str, Any],
    ctx: Context,
    key: str | None,
    render: Any,
) -> dict[str, Any]:
    """Take one step and answer with the case as it now is (`render` serialises it).

    With an `Idempotency-Key`, the same key and body from the same caller answer the first
    step again and take no second one; the case's row lock serialises repeats.
    """
    fields = {k: v for k, v in body.items() if k != "action"}
    command = TransitionCase(case_id=case_id, caller=caller, action=body["action"], fields=fields)
    digest = fingerprint(body)
    if key is not None:
        session.get(Case, case_id, with_for_update=True)  # repeats wait for the first
        stored = session.get(TransitionKey, (case_id, caller.id, key))
        if stored is not None:
            if stored.fingerprint != digest:
                raise DomainError("this Idempotency-Key was used with another body", status=422)
            return stored.answer
    case = command.run(session, ctx)
    answer: dict[str, Any] = render(view_of(session, caller=caller, case=case))
    if key is not None:
        session.add(
            TransitionKey(
                case_id=case_id,
                key=key,
                staff_id=caller.id,
                fingerprint=digest,
                answer=answer,
                created_at=ctx.now,
            )
        )
    return answer
