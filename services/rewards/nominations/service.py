"""Opening, reading and stepping nominations; the year's roll of honours.

Functions take the session and never commit; the caller owns the transaction.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.common.clock import STATION_TZ, to_station_time
from services.common.contracts import TimelineEvent
from services.common.errors import DomainError, NotFound
from services.common.paging import paged
from services.common.staff_auth import Caller
from services.common.transitions import FieldsRefused, Problems, fingerprint
from services.rewards.nominations import access, flows
from services.rewards.nominations.commands import (
    Context,
    TransitionNomination,
    add_history,
    allowed_actions,
    set_due,
)
from services.rewards.nominations.models import Nomination, NominationTransitionKey
from services.rewards.nominations.workflow import SYSTEM, Kind, NominationStatus

_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as intake's tracking codes


@dataclass
class NominationView:
    """A nomination with the actions its caller may take."""

    nomination: Nomination
    allowed_actions: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.nomination, name)


def _open(
    session: Session,
    ctx: Context,
    *,
    nomination: Nomination,
    by: str,
    tell: list[str],
) -> Nomination:
    """Store a new nomination, late ones refused at once, and tell everyone."""
    late = ctx.now - nomination.act_at > ctx.rules.nomination_window
    nomination.status = (NominationStatus.REJECTED if late else NominationStatus.SUBMITTED).value
    if late:  # nominated more than a year after the act: refused, 复核 may still be asked
        nomination.decided_by, nomination.decided_at = SYSTEM, ctx.now
    set_due(nomination, ctx.rules)
    session.add(nomination)
    session.flush()
    award = flows.AWARD_NAMES[nomination.kind]
    window = ctx.rules.nomination_window.days
    add_history(
        session,
        nomination=nomination,
        at=ctx.now,
        by=by,
        action="nominate",
        before=None,
        note=f"the act is more than {window} days old" if late else "",
    )
    due = to_station_time(nomination.decide_by)
    events = [(TimelineEvent.NOMINATION_OPENED, f"nominated for a {award}; decision due by {due}")]
    if late:
        refusal = f"not accepted: a {award} is nominated within {window} days of the act"
        events.append((TimelineEvent.NOMINATION_REJECTED, refusal))
    for event, detail in events:
        flows.tell_partner(
            session, ctx.messaging, nomination=nomination, event=event, detail=detail, now=ctx.now
        )
    # 确认不收费: the applicant pays nothing, and hears so (against fraudsters asking fees).
    step = (
        f"推荐须在事迹发生后{window}日内提出，未予受理"
        if late
        else "推荐已受理，评审全程不收取任何费用"
    )
    for phone in tell:
        flows.send_sms(
            session,
            ctx.messaging,
            nomination=nomination,
            key=f"nomination-opened:{nomination.id}",
            recipient=phone,
            template="nomination_step",
            params={"step": step},
        )
    return nomination


def open_nomination(session: Session, ctx: Context, *, report: dict[str, Any]) -> Nomination:
    """A brave act or good deed arrived from intake (a partner agency nominated it).

    A report has one nomination: the same report sent again finds it.
    """
    existing = session.scalar(select(Nomination).where(Nomination.report_id == report["report_id"]))
    if existing is not None:
        return existing
    nominee = report["nominee"] or {}
    nomination = Nomination(
        id=uuid.uuid4(),
        report_id=report["report_id"],
        tracking_code=report["tracking_code"],
        kind=report["kind"],
        nominee=nominee,
        nominator=report["reporter"],
        nominator_relation="agency",
        summary=report["summary"],
        details=report.get("details"),
        village=report["location"]["village"],
        act_at=report["occurred_at"],
        decide_by=ctx.now + ctx.rules.decision_window,
        test=report["test"],
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    # The reporter has intake's acknowledgement already; the nominee hears it from us.
    tell = [str(nominee["phone"])] if nominee.get("phone") else []
    return _open(session, ctx, nomination=nomination, by="intake", tell=tell)


def new_tracking_code() -> str:
    """A code for a nomination staff put forward (NM + 8 Crockford characters)."""
    return "NM" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def create_nomination(
    session: Session, ctx: Context, *, caller: Caller, data: dict[str, Any]
) -> Nomination:
    """A nomination staff put forward; a brave act within a year of the act only."""
    problems = Problems()
    if data["act_at"] > ctx.now:
        problems.field("act_at", "is in the future")
    elif ctx.now - data["act_at"] > ctx.rules.nomination_window:
        days = ctx.rules.nomination_window.days
        problems.field("act_at", f"a nomination is made within {days} days of the act")
    if not access.may_see_village(caller, data["village"]):
        problems.field("village", f"{data['village']!r} is not one of your villages")
    if problems:
        raise FieldsRefused(problems)
    nominator = dict(data["nominator"])
    nomination = Nomination(
        id=uuid.uuid4(),
        report_id=None,
        tracking_code=new_tracking_code(),
        kind=data["kind"],
        nominee=data["nominee"],
        nominator={k: v for k, v in nominator.items() if k != "relation"},
        nominator_relation=nominator["relation"],
        summary=data["summary"],
        details=data["details"],
        village=data["village"],
        act_at=data["act_at"],
        decide_by=ctx.now + ctx.rules.decision_window,
        test=False,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    return _open(
        session, ctx, nomination=nomination, by=caller.id, tell=flows.people_phones(nomination)
    )


def view_of(*, caller: Caller, nomination: Nomination) -> NominationView:
    return NominationView(
        nomination=nomination,
        allowed_actions=allowed_actions(caller=caller, nomination=nomination),
    )


def find_nomination(session: Session, *, caller: Caller, nomination_id: uuid.UUID) -> Nomination:
    """A nomination the caller may see, else a 404."""
    found = session.scalar(
        select(Nomination)
        .where(Nomination.id == nomination_id, access.visible_to(caller))
        .options(selectinload(Nomination.history), selectinload(Nomination.objections))
    )
    if found is None:
        raise NotFound("no such nomination")
    return found


def get_nomination(session: Session, *, caller: Caller, nomination_id: uuid.UUID) -> NominationView:
    return view_of(
        caller=caller,
        nomination=find_nomination(session, caller=caller, nomination_id=nomination_id),
    )


def list_nominations(
    session: Session,
    *,
    caller: Caller,
    offset: int,
    limit: int,
    status: str | None = None,
    kind: str | None = None,
    village: str | None = None,
    due_before: datetime | None = None,
    report_id: uuid.UUID | None = None,
    tracking_code: str | None = None,
) -> tuple[list[Nomination], int]:
    """The nominations the caller may see, soonest due first, one page and the total."""
    query = select(Nomination).where(access.visible_to(caller))
    for column, value in (
        (Nomination.status, status),
        (Nomination.kind, kind),
        (Nomination.village, village),
        (Nomination.report_id, report_id),
        (Nomination.tracking_code, tracking_code),
    ):
        if value is not None:
            query = query.where(column == value)
    if due_before is not None:
        query = query.where(Nomination.due_at < due_before)
    return paged(
        session,
        query,
        order_by=(Nomination.due_at.asc().nulls_last(), Nomination.created_at, Nomination.id),
        offset=offset,
        limit=limit,
    )


def honours(session: Session, *, year: int) -> list[Nomination]:
    """The good neighbours (魏村好人) honoured in `year` (station time), in order."""
    # A range on the indexed column, from the station's New Year to the next.
    start = datetime(year, 1, 1, tzinfo=STATION_TZ)
    end = datetime(year + 1, 1, 1, tzinfo=STATION_TZ)
    return list(
        session.scalars(
            select(Nomination)
            .where(
                Nomination.kind == Kind.GOOD_DEED,
                Nomination.status == NominationStatus.HONOURED,
                Nomination.honoured_at >= start,
                Nomination.honoured_at < end,
            )
            .order_by(Nomination.honoured_at, Nomination.id)
        ).all()
    )


def transition(
    session: Session,
    ctx: Context,
    *,
    caller: Caller,
    nomination_id: uuid.UUID,
    body: dict[str, Any],
    key: str | None,
    render: Any,
) -> dict[str, Any]:
    """Take one step and answer with the nomination as it now is (`render` serialises it).

    With an `Idempotency-Key`, the same key and body from the same caller answer the first
    step again and take no second one; the nomination's row lock serialises repeats.
    """
    fields = {k: v for k, v in body.items() if k != "action"}
    command = TransitionNomination(
        nomination_id=nomination_id, caller=caller, action=body["action"], fields=fields
    )
    digest = fingerprint(body)
    if key is not None:
        session.get(Nomination, nomination_id, with_for_update=True)  # repeats wait
        stored = session.get(NominationTransitionKey, (nomination_id, caller.id, key))
        if stored is not None:
            if stored.fingerprint != digest:
                raise DomainError("this Idempotency-Key was used with another body", status=422)
            return stored.answer
    nomination = command.run(session, ctx)
    answer: dict[str, Any] = render(view_of(caller=caller, nomination=nomination))
    if key is not None:
        session.add(
            NominationTransitionKey(
                nomination_id=nomination_id,
                staff_id=caller.id,
                key=key,
                fingerprint=digest,
                answer=answer,
                created_at=ctx.now,
            )
        )
    return answer
