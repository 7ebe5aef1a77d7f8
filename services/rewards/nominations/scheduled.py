"""The nominations' deadline sweep: every breached due date is acted on once.

- the public notice's seven days are over → awaiting approval (`end_notice`);
- a decision (30 days, or 60 once extended) or a 复核 decision overdue → the station's
  leaders are told by SMS, and the partner sees the breach;
- the 复核 window closed → noted; the decision is final.

Each nomination is handled in its own transaction under its row lock (SKIP LOCKED, so
two sweeps share the work instead of queueing), and the breached `due_at` is stored in
`breach_handled`: a second sweep, or the next run, finds it handled and does nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from services.common.contracts import TimelineEvent
from services.common.station import Station, load_station
from services.rewards.nominations import flows
from services.rewards.nominations.commands import Context, TransitionNomination, add_history
from services.rewards.nominations.models import Nomination
from services.rewards.nominations.workflow import SYSTEM, Action, DueKind
from services.rewards.runtime import RewardsRuntime

log = logging.getLogger(__name__)

BATCH = 200
_OVERDUE_WORDS = {DueKind.DECISION: "审批", DueKind.APPEAL_DECISION: "复核决定"}


def _breached(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Nomination.due_at.is_not(None),
        Nomination.due_at <= now,
        or_(Nomination.breach_handled.is_(None), Nomination.breach_handled != Nomination.due_at),
    )


def sweep_nominations(runtime: RewardsRuntime, *, max_rounds: int = 50) -> int:
    """Act on every breached deadline not yet acted on; returns how many were handled."""
    now = runtime.clock.now()
    station = load_station(runtime.settings.station_file)
    handled = 0
    for _ in range(max_rounds):
        with runtime.db.sessions() as session:
            ids = list(
                session.scalars(
                    select(Nomination.id)
                    .where(*_breached(now))
                    .order_by(Nomination.due_at)
                    .limit(BATCH)
                )
            )
        handled += sum(1 for nomination_id in ids if _handle(runtime, station, nomination_id, now))
        if len(ids) < BATCH:
            break
    return handled


def _handle(
    runtime: RewardsRuntime, station: Station, nomination_id: uuid.UUID, now: datetime
) -> bool:
    with runtime.messaging.transaction() as session:
        nomination = session.scalar(
            select(Nomination)
            .where(Nomination.id == nomination_id, *_breached(now))
            .with_for_update(skip_locked=True)
        )
        if nomination is None:  # another sweep has it, or it moved on meanwhile
            return False
        breached, kind = nomination.due_at, DueKind(nomination.due_kind or DueKind.DECISION)
        ctx = Context(messaging=runtime.messaging, rules=runtime.rules, now=now)
        if kind == DueKind.NOTICE_END:
            TransitionNomination(
                nomination_id=nomination.id, caller=None, action=Action.END_NOTICE, fields={}
            ).run(session, ctx)
        elif kind == DueKind.APPEAL_WINDOW:
            _note(session, ctx, nomination, "appeal_window_closed", "复核 was not asked in time")
        else:
            _tell_overdue(session, ctx, station, nomination, kind)
        nomination.breach_handled = breached
        log.info("nomination %s: %s deadline reached and handled", nomination.id, kind)
        return True


def _note(session: Session, ctx: Context, nomination: Nomination, action: str, note: str) -> None:
    add_history(
        session,
        nomination=nomination,
        at=ctx.now,
        by=SYSTEM,
        action=action,
        before=nomination.status,
        note=note,
    )


def _tell_overdue(
    session: Session, ctx: Context, station: Station, nomination: Nomination, kind: DueKind
) -> None:
    """No step to take by itself: the station's leaders are told (连带责任)."""
    for phone in flows.leader_phones(station):
        flows.send_sms(
            session,
            ctx.messaging,
            nomination=nomination,
            key=f"nomination-overdue:{nomination.id}:{kind}:{nomination.due_at}",
            recipient=phone,
            template="nomination_overdue",
            params={"what": _OVERDUE_WORDS.get(kind, "办理")},
            urgent=True,
        )
    _note(session, ctx, nomination, "deadline_breached", f"{kind} overdue; the leaders were told")
    flows.tell_partner(
        session,
        ctx.messaging,
        nomination=nomination,
        event=TimelineEvent.DEADLINE_BREACHED,
        detail=f"{kind.value.replace('_', ' ')} overdue; the station's leader is told",
        now=ctx.now,
    )
