"""The deadline sweep (首问必果): every breached due date is acted on once.

- acceptance overdue → the duty leader owns the case until someone accepts (both told);
- local mediation past its window → booked at the mediation room (escalate);
- a failed session not followed within N working days → the session is pulled forward to
  an earlier free slot if one has opened, and owner and leader are told;
- a session past its end with no outcome, a follow-up past due → owner and leader told.

Each case is handled in its own transaction under its row lock (SKIP LOCKED, so two
sweeps share the work instead of queueing), and the breached `due_at` is stored in
`breach_handled`: a second sweep, or the next run, finds it handled and does nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from services.common.contracts import TimelineEvent
from services.mediation import service
from services.mediation.cases import flows
from services.mediation.cases.commands import (
    SYSTEM,
    Context,
    TransitionCase,
    TransitionRefused,
    active_session,
)
from services.mediation.cases.workflow import Action, DueKind
from services.mediation.desks import service as desks
from services.mediation.models import Case, CaseHistory
from services.mediation.runtime import MediationRuntime

log = logging.getLogger(__name__)

BATCH = 200
_OVERDUE_WORDS = {
    DueKind.SESSION: "调解结果登记",
    DueKind.SECOND_SESSION: "再次调解",
    DueKind.FOLLOW_UP: "回访",
}


def _breached(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Case.due_at.is_not(None),
        Case.due_at <= now,
        or_(Case.breach_handled.is_(None), Case.breach_handled != Case.due_at),
    )


def sweep_deadlines(runtime: MediationRuntime, *, max_rounds: int = 50) -> int:
    """Act on every breached deadline not yet acted on; returns how many were handled.

    Works in batches; a handled case leaves the breached set (its new due date is ahead),
    so the rounds end. `max_rounds` bounds one run; the next run goes on.
    """
    now = runtime.clock.now()
    handled = 0
    for _ in range(max_rounds):
        with runtime.db.sessions() as session:
            ids = list(
                session.scalars(
                    select(Case.id).where(*_breached(now)).order_by(Case.due_at).limit(BATCH)
                )
            )
        handled += sum(1 for case_id in ids if _handle(runtime, case_id, now))
        if len(ids) < BATCH:
            break
    return handled


def _handle(runtime: MediationRuntime, case_id: uuid.UUID, now: datetime) -> bool:
    with runtime.messaging.transaction() as session:
        case = session.scalar(
            select(Case)
            .where(Case.id == case_id, *_breached(now))
            .with_for_update(skip_locked=True)
        )
        if case is None:  # another sweep has it, or it moved on meanwhile
            return False
        breached, kind = case.due_at, DueKind(case.due_kind or DueKind.ACCEPTANCE)
        ctx = Context(
            messaging=runtime.messaging,
            rules=runtime.rules,
            now=now,
            calendar=desks.working_calendar(session),
        )
        if kind == DueKind.ACCEPTANCE:
            _act(session, ctx, case, Action.TAKE_OVER, {})
        elif kind == DueKind.LOCAL_MEDIATION:
            _act(session, ctx, case, Action.ESCALATE, {"desk": runtime.rules.overdue_desk})
        elif kind == DueKind.SECOND_SESSION:
            _second_session_overdue(session, ctx, case)
        else:
            _tell_overdue(session, ctx, case, kind)
        case.breach_handled = breached
        log.info("case %s: %s deadline breached and handled", case.id, kind)
        return True


def _act(
    session: Session, ctx: Context, case: Case, action: Action, fields: dict[str, object]
) -> None:
    try:
        TransitionCase(case_id=case.id, caller=None, action=action, fields=fields).run(session, ctx)
    except TransitionRefused as refused:  # e.g. the desk is full for a year: tell people
        log.warning("case %s: the sweep could not %s: %s", case.id, action, refused.message)
        _tell_overdue(session, ctx, case, DueKind(case.due_kind or DueKind.LOCAL_MEDIATION))


def _second_session_overdue(session: Session, ctx: Context, case: Case) -> None:
    """No session within the working days after a failed one: pull it forward, tell people.

    A slot freed since the booking (a reschedule, a decline) may now be earlier than the
    one the case holds; the case moves there. Either way the owner and the duty leader are
    told, and the case then waits for the outcome of the session it holds.
    """
    booked = active_session(session, case)
    if booked is not None:
        earlier = desks.free_slots(
            session,
            desk_code=booked.desk_code,
            # the parties need notice: at least the last reminder's lead
            start=ctx.now + min(ctx.rules.reminders, default=timedelta(hours=2)),
            end=booked.starts_at,
            calendar=ctx.calendar,
        )
        if earlier:
            fields = {"starts_at": earlier[0].starts_at, "note": "pulled forward by the sweep"}
            reschedule = TransitionCase(
                case_id=case.id, caller=None, action=Action.RESCHEDULE, fields=fields
            )
            try:
                reschedule.run(session, ctx)
            except TransitionRefused as refused:  # taken meanwhile: the case keeps its slot
                log.warning("case %s: could not pull the session forward: %s", case.id, refused)
    _tell_overdue(session, ctx, case, DueKind.SECOND_SESSION)
    booked = active_session(session, case)
    case.second_session_by = None
    if booked is not None:
        case.due_kind, case.due_at = DueKind.SESSION.value, booked.ends_at


def _tell_overdue(session: Session, ctx: Context, case: Case, kind: DueKind) -> None:
    """No step to take by itself: the owner and the duty leader are told (连带责任)."""
    leader = service.duty_leader(session)
    village = service.village_name(session, case.village)
    what = _OVERDUE_WORDS.get(kind, "办理")
    for phone in dict.fromkeys([case.owner.phone, leader.phone]):
        flows.send_sms(
            session,
            ctx.messaging,
            case=case,
            key=f"case-overdue:{case.id}:{kind}:{case.due_at and case.due_at.isoformat()}",
            recipient=phone,
            template="case_overdue",
            params={"village": village, "what": what},
            urgent=True,
        )
    session.add(
        CaseHistory(
            case_id=case.id,
            at=ctx.now,
            by=SYSTEM,
            action="deadline_breached",
            from_status=case.status,
            to_status=case.status,
            note=f"{kind} overdue; the owner and the duty leader were told",
            detail={"due_kind": kind.value},
        )
    )
    flows.tell_partner(
        session,
        ctx.messaging,
        case=case,
        event=TimelineEvent.DEADLINE_BREACHED,
        detail=f"{kind.value.replace('_', ' ')} overdue; the station's duty leader is told",
        now=ctx.now,
    )
