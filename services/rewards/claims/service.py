"""Reading claims as staff see them, and transitions repeated safely with an Idempotency-Key."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from services.common.errors import DomainError, NotFound
from services.common.messaging import Messaging
from services.common.paging import paged
from services.common.staff_auth import Caller
from services.common.transitions import fingerprint
from services.rewards.claims import limits
from services.rewards.claims.commands import Context, TransitionClaim, allowed_actions
from services.rewards.claims.models import ClaimHistory, ClaimTransitionKey, HazardClaim


def list_claims(
    session: Session,
    *,
    offset: int,
    limit: int,
    status: str | None = None,
    reporter: str | None = None,
    report_id: uuid.UUID | None = None,
) -> tuple[list[HazardClaim], int]:
    """Claims, oldest waiting first."""
    query = select(HazardClaim)
    if status:
        query = query.where(HazardClaim.status == status)
    if reporter:
        query = query.where(HazardClaim.reporter_phone == reporter)
    if report_id:
        query = query.where(HazardClaim.report_id == report_id)
    return paged(
        session,
        query,
        order_by=[HazardClaim.created_at, HazardClaim.id],
        offset=offset,
        limit=limit,
    )


_COLUMNS = tuple(HazardClaim.__table__.columns.keys())
# The answer's history: rows through a statement built once, not objects (on a staff step
# the ORM's loading cost more than the read).
_HISTORY = (
    select(
        ClaimHistory.at,
        ClaimHistory.by,
        ClaimHistory.action,
        ClaimHistory.from_status,
        ClaimHistory.to_status,
        ClaimHistory.note,
        ClaimHistory.detail,
    )
    .where(ClaimHistory.claim_id == bindparam("claim_id", type_=Uuid))
    .order_by(ClaimHistory.id)  # as HazardClaim.history
)


def view_of(session: Session, *, caller: Caller, claim: HazardClaim) -> dict[str, Any]:
    """The claim with its history and the actions `caller` may take on it (the console's
    buttons); what this transaction wrote included."""
    session.flush()  # the read below goes through the connection, past the autoflush
    history = session.connection().execute(_HISTORY, {"claim_id": claim.id}).all()
    return {
        **{c: getattr(claim, c) for c in _COLUMNS},
        "history": history,
        "allowed_actions": allowed_actions(caller=caller, claim=claim),
    }


def get_claim(session: Session, *, caller: Caller, claim_id: uuid.UUID) -> dict[str, Any]:
    claim = session.get(HazardClaim, claim_id)
    if claim is None:
        raise NotFound("no such claim")
    return view_of(session, caller=caller, claim=claim)


def transition(
    session: Session,
    *,
    caller: Caller,
    claim_id: uuid.UUID,
    body: dict[str, Any],
    ctx: Context,
    key: str | None,
    render: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """Take one step and answer with the claim as it now is (`render` serialises it).

    With an `Idempotency-Key`, the same key and body from the same caller answer the first
    step again and take no second one; the claim's row lock serialises repeats.
    """
    fields = {k: v for k, v in body.items() if k != "action"}
    command = TransitionClaim(
        claim_id=claim_id, caller=caller, action=body["action"], fields=fields
    )
    digest = fingerprint(body)
    if key is not None:
        session.get(HazardClaim, claim_id, with_for_update=True)  # repeats wait for the first
        stored = session.get(ClaimTransitionKey, (claim_id, caller.id, key))
        if stored is not None:
            if stored.fingerprint != digest:
                raise DomainError("this Idempotency-Key was used with another body", status=422)
            return stored.answer
    claim = command.run(session, ctx)
    answer = render(view_of(session, caller=caller, claim=claim))
    if key is not None:
        session.add(
            ClaimTransitionKey(
                claim_id=claim_id,
                staff_id=caller.id,
                key=key,
                fingerprint=digest,
                answer=answer,
                created_at=ctx.now,
            )
        )
    return answer


def take_step(
    messaging: Messaging,
    *,
    defer: Callable[[Callable[[], object]], None] | None = None,
    ctx: Context,
    **step: Any,
) -> dict[str, Any]:
    """`transition` in a transaction of its own, taken again if the budget went meanwhile.

    An approval reads the month's budget without a lock and takes its envelope as the
    transaction's last statement (`limits`); if other approvals took the budget in between,
    the commit raises `BudgetTaken` and nothing of the step is kept. The second time the
    month's row is locked before the read, so the step is decided on what is left.
    """
    try:
        with messaging.transaction(defer=defer) as session:
            return transition(session, ctx=ctx, **step)
    except limits.BudgetTaken:
        pass
    with messaging.transaction(defer=defer) as session:
        return transition(session, ctx=dataclasses.replace(ctx, budget_locked=True), **step)
