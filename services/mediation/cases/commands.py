"""A case's transitions as commands: `validate()` gathers every problem, `run()` does the step.

`TransitionCase(...).run(session, ...)` locks the case row (`SELECT … FOR UPDATE`), so two
staff acting on one case at once are served one after the other: the second sees the
first's result and, if its action no longer applies, gets a 409; no update is lost. The
step changes the case, appends its history row and writes the outbox messages (the
partner's timeline, SMS) in the caller's one transaction.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Select, Uuid, bindparam, insert, select
from sqlalchemy.orm import Session, selectinload

from services.common.clock import STATION_TZ, to_station_time
from services.common.contracts import TimelineEvent
from services.common.errors import DomainError, NotFound
from services.common.messaging import Messaging
from services.common.staff_auth import Caller, Role
from services.common.transitions import Problems, flat_messages, jsonable
from services.common.transitions import TransitionRefused as TransitionRefused  # re-exported
from services.mediation import service
from services.mediation.calendar import WorkingCalendar
from services.mediation.cases import access, agreements, flows
from services.mediation.cases.schemas import FIELDS_OF
from services.mediation.cases.workflow import (
    HOME_VISIT_GRADES,
    Action,
    Actor,
    CaseStatus,
    DueKind,
    Transition,
    transitions_from,
)
from services.mediation.desks import service as desks
from services.mediation.desks.models import Desk, DeskSession
from services.mediation.models import Case, CaseHistory, Staff, Village
from services.mediation.rules import MediationRules

SYSTEM = "system"
ACTION_NAMES = frozenset(a.value for a in Action)
# One schema of each action's fields, made once: loading keeps no state between calls.
FIELD_SCHEMAS = {action: schema() for action, schema in FIELDS_OF.items()}
# 首问必果: who is told to take which route when mediation ends without agreement.
OTHER_ROUTES = "litigation (向法院起诉) or petition (信访)"
_ADD_HISTORY = insert(CaseHistory)  # built once


@functools.cache
def _locking(role: Role | None, *, has_desk: bool) -> Select[Case, str]:
    """`_lock`'s statement for one kind of caller (`access.visibility_of`; None: the
    system), built once: on a staff step, building it cost as much as running it."""
    query = (
        select(Case, Village.name)
        .outerjoin(Village, Village.code == Case.village)
        .where(Case.id == bindparam("case_id", type_=Uuid))
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)
    )
    if role is None:
        return query
    return query.where(access.visibility_of(role, has_desk=has_desk))


@dataclass(frozen=True)
class Step:
    """What the step did, for the partner and the history row."""

    event: TimelineEvent
    detail: str
    note: str = ""


def _actors_of(session: Session, *, caller: Caller | None, case: Case) -> set[Actor]:
    """Which of the table's actors the caller is, for this case."""
    if caller is None:
        return {Actor.SYSTEM}
    if caller.role == Role.LEADER:
        return {Actor.LEADER}
    if caller.role == Role.OFFICER and case.owner_id == caller.id:
        return {Actor.OWNER}
    if caller.role == Role.DESK and caller.member.desk:
        active = active_session(session, case)
        if active is not None and active.desk_code == caller.member.desk:
            return {Actor.DESK}
    return set()


def active_session(session: Session, case: Case) -> DeskSession | None:
    """The case's booked, not yet held session, if any."""
    booked = [
        s
        for s in desks.sessions_of_case(session, case.id)
        if s.cancelled_at is None and s.outcome is None
    ]
    return booked[-1] if booked else None


def allowed_actions(session: Session, *, caller: Caller | None, case: Case) -> list[str]:
    """The actions `caller` may take on `case` now (the console's buttons)."""
    actors = _actors_of(session, caller=caller, case=case)
    return list(
        dict.fromkeys(
            t.action.value
            for t in transitions_from(CaseStatus(case.status))
            if t.actors & actors and t.action != Action.TAKE_OVER
        )
    )


@dataclass
class Context:
    """What a step needs besides the session."""

    messaging: Messaging
    rules: MediationRules
    now: datetime
    calendar: WorkingCalendar | None = None

    def working_calendar(self, session: Session) -> WorkingCalendar:
        """The calendar, loaded on first use: only the steps that book or count days need it."""
        if self.calendar is None:
            self.calendar = desks.working_calendar(session)
        return self.calendar


class TransitionCase:
    """One action on one case, by a staff member (or the deadline sweep, `caller=None`)."""

    def __init__(
        self, *, case_id: uuid.UUID, caller: Caller | None, action: str, fields: dict[str, Any]
    ) -> None:
        self.case_id, self.caller, self.action_name, self.raw = case_id, caller, action, fields
        self.case: Case | None = None
        self.village_name: str | None = None  # read with the lock
        self.data: dict[str, Any] = {}
        self.transition: Transition | None = None

    @property
    def by(self) -> str:
        return self.caller.id if self.caller else SYSTEM

    def _lock(self, session: Session) -> Case:
        """The case, locked, if the caller may see it (else a 404), with its village's name.

        One statement: the lock, the visibility check and the name every step's messages
        use. Only the case's row is locked (`FOR UPDATE OF cases`).
        """
        params: dict[str, Any] = {"case_id": self.case_id}
        if self.caller is None:
            query = _locking(None, has_desk=False)
        else:
            query = _locking(self.caller.role, has_desk=self.caller.member.desk is not None)
            params.update(access.viewer_params(self.caller))
        found = session.execute(query, params).first()
        if found is None:
            raise NotFound("no such case")
        case, self.village_name = found
        return case

    def validate(self, session: Session, ctx: Context) -> None:
        """Lock the case and gather every problem (state, role, identity, fields) at once."""
        case = self.case = self._lock(session)
        status = CaseStatus(case.status)
        problems = Problems()
        action = Action(self.action_name) if self.action_name in ACTION_NAMES else None
        rows = transitions_from(status, action) if action else []
        if action is None:
            problems.field("action", f"unknown action {self.action_name!r}")
        elif not rows:
            problems.state.append(f"{action} is not allowed from {status}")
        else:
            actors = _actors_of(session, caller=self.caller, case=case)
            if not any(t.actors & actors for t in rows):
                roles = sorted({r for t in rows for r in t.roles})
                if self.caller is None or self.caller.role not in roles:
                    problems.access.append(f"{action} needs the role {' or '.join(roles)}")
                else:
                    problems.access.append(
                        f"{action} is for the case's owner, the staff of its desk or a leader"
                    )
        if action is not None:
            try:
                self.data = FIELD_SCHEMAS[action].load(self.raw)
            except ValidationError as error:
                for name, messages in flat_messages(error.messages).items():
                    for message in messages:
                        problems.field(name, message)
            if not problems.fields and rows:
                self._check_fields(session, ctx, case, action, problems)
                self.transition = self._pick(session, ctx, case, action, rows)
        if problems:
            raise TransitionRefused(
                status=status,
                action=self.action_name,
                allowed=allowed_actions(session, caller=self.caller, case=case),
                problems=problems,
            )

    def _check_fields(
        self, session: Session, ctx: Context, case: Case, action: Action, problems: Problems
    ) -> None:
        d = self.data
        if action == Action.REASSIGN:
            officer = session.get(Staff, d["officer"])
            if officer is None or not officer.active or Role.OFFICER not in officer.roles:
                problems.field("officer", f"no active officer {d['officer']!r}")
            elif officer.id == case.owner_id:
                problems.field("officer", "the case is already theirs")
        if action == Action.CHANGE_RISK_GRADE and d["risk_grade"] == case.risk_grade:
            problems.field("risk_grade", f"the case is already grade {case.risk_grade}")
        if action == Action.DECLINE and d["party"] not in {
            v for p in case.parties for v in (p.role, p.name)
        }:
            problems.field("party", "name a party of the case, by role or name")
        if (
            action == Action.FOLLOW_UP
            and case.risk_grade in HOME_VISIT_GRADES
            and d["kind"] != "visit"
        ):
            problems.field("kind", f"a grade {case.risk_grade} case gets a home visit (回访)")
        if (
            action == Action.CLOSE
            and case.status == CaseStatus.RESOLVED
            and not case.followed_up_at
        ):
            problems.field("action", "record the follow-up (follow_up) before closing")
        if action == Action.RECORD_SESSION and case.status != CaseStatus.LOCAL_MEDIATION:
            booked = active_session(session, case)
            if booked is not None and booked.starts_at > ctx.now:
                when = to_station_time(booked.starts_at)
                problems.state.append(f"the session has not taken place: it starts at {when}")
        if action == Action.ESCALATE and session.get(Desk, d["desk"]) is None:
            problems.field("desk", f"no desk {d['desk']!r}")
        for name in ("starts_at",):
            if d.get(name) is not None and d[name] <= ctx.now:
                problems.field(name, "must be in the future")

    def _pick(
        self, session: Session, ctx: Context, case: Case, action: Action, rows: list[Transition]
    ) -> Transition:
        """The row of the table this step follows, when its fields choose between rows."""
        if len(rows) == 1:
            return rows[0]
        if action == Action.FOLLOW_UP:
            return next(t for t in rows if t.when == self.data["result"])
        # record_session: resolved, or failed (at a desk: once, or twice → joint meeting).
        if self.data["outcome"] == "resolved":
            return next(t for t in rows if t.target == CaseStatus.RESOLVED)
        failed = [t for t in rows if t.target != CaseStatus.RESOLVED]
        if len(failed) == 1:
            return failed[0]
        twice = (
            self._failed_desk_sessions(session, ctx, case) + 1 >= ctx.rules.failed_for_joint_meeting
        )
        return next(t for t in failed if (t.target == CaseStatus.JOINT_MEETING) == twice)

    @staticmethod
    def _failed_desk_sessions(session: Session, ctx: Context, case: Case) -> int:
        return sum(
            1
            for s in desks.sessions_of_case(session, case.id)
            if s.outcome == "failed" and s.desk_code != ctx.rules.joint_meeting_desk
        )

    def run(self, session: Session, ctx: Context) -> Case:
        """Validate, then take the step: the case, its history row and its messages."""
        self.validate(session, ctx)
        assert self.case is not None and self.transition is not None
        case, transition = self.case, self.transition
        before = CaseStatus(case.status)
        step = getattr(self, f"_{transition.action.value}")(session, ctx, case)
        case.status = transition.leads_from(before).value
        case.updated_at = ctx.now
        # The history row as a row, not an object: it is only appended, and the unit of
        # work cost more than the insert (the answer reads the history as rows too).
        session.connection().execute(
            _ADD_HISTORY,
            {
                "case_id": case.id,
                "at": ctx.now,
                "by": self.by,
                "action": transition.action.value,
                "from_status": before.value,
                "to_status": case.status,
                "note": step.note or self.data.get("note", ""),
                "detail": jsonable({k: v for k, v in self.data.items() if k != "note"}),
            },
        )
        flows.tell_partner(
            session, ctx.messaging, case=case, event=step.event, detail=step.detail, now=ctx.now
        )
        # One flush for the case, its history row and its messages; the history is read
        # again when the answer shows it, in one statement.
        session.flush()
        session.expire(case, ["history"])
        return case

    # ---- the steps: each changes the case and says what happened -------------------------

    def _due(self, case: Case, kind: DueKind | None, at: datetime | None) -> None:
        case.due_kind, case.due_at = (kind.value if kind else None), at

    def _village(self, case: Case) -> str:
        """The case's village as residents say it (read with the lock), or its code."""
        return self.village_name or case.village

    def _accept(self, session: Session, ctx: Context, case: Case) -> Step:
        case.risk_grade = self.data["risk_grade"]
        self._due(case, DueKind.LOCAL_MEDIATION, ctx.now + ctx.rules.local_window)
        village = self._village(case)
        flows.send_sms(
            session,
            ctx.messaging,
            case=case,
            key=f"case-accepted:{case.id}",
            recipient=flows.reporter_phone(case),
            template="case_accepted",
            params={"village": village},
        )
        due = to_station_time(ctx.now + ctx.rules.local_window)
        return Step(
            TimelineEvent.CASE_ACCEPTED,
            f"accepted by the officer of {village}; local mediation until {due}",
        )

    def _reassign(self, session: Session, ctx: Context, case: Case) -> Step:
        previous, case.owner_id = case.owner_id, self.data["officer"]
        session.flush()
        session.refresh(case, ["owner"])
        _tell_owner(session, ctx, case, key=f"case-reassigned:{case.id}:{ctx.now.isoformat()}")
        return Step(
            TimelineEvent.CASE_REASSIGNED,
            "handed to another officer of the station",
            note=self.data["note"] or f"from {previous} to {case.owner_id}",
        )

    def _take_over(self, session: Session, ctx: Context, case: Case) -> Step:
        leader = service.duty_leader(session)
        previous = case.owner
        village = self._village(case)
        case.owner_id = leader.id
        session.flush()
        session.refresh(case, ["owner"])
        self._due(case, DueKind.ACCEPTANCE, ctx.now + ctx.rules.acceptance)
        key = f"case-taken-over:{case.id}:{ctx.now.isoformat()}"
        flows.send_sms(
            session,
            ctx.messaging,
            case=case,
            key=key,
            recipient=leader.phone,
            template="case_taken_over",
            params={"village": village, "due": to_station_time(ctx.now + ctx.rules.acceptance)},
            urgent=True,
        )
        if previous.id != leader.id:  # 连带责任: the officer hears it too
            flows.send_sms(
                session,
                ctx.messaging,
                case=case,
                key=key,
                recipient=previous.phone,
                template="case_overdue",
                params={"village": village, "what": "受理"},
                urgent=True,
            )
        return Step(
            TimelineEvent.DEADLINE_BREACHED,
            "not accepted in time; the duty leader answers for it now",
            note=f"acceptance overdue: from {previous.id} to the duty leader {leader.id}",
        )

    def _change_risk_grade(self, session: Session, ctx: Context, case: Case) -> Step:
        previous, case.risk_grade = case.risk_grade, self.data["risk_grade"]
        return Step(
            TimelineEvent.RISK_GRADE_CHANGED,
            f"risk grade {previous} → {case.risk_grade}",
            note=self.data["reason"],
        )

    def _record_session(self, session: Session, ctx: Context, case: Case) -> Step:
        assert self.transition is not None
        booked = active_session(session, case)
        case.second_session_by = None  # an outcome is in; a failure below sets a new limit
        if booked is not None:
            desks.record_outcome(
                session, desk_session=booked, outcome=self.data["outcome"], now=ctx.now
            )
        target = self.transition.leads_from(CaseStatus(case.status))
        if target == CaseStatus.RESOLVED:
            return self._resolved(session, ctx, case)
        if target == CaseStatus.CLOSED:
            self._due(case, None, None)
            self._tell_declined(session, ctx, case)
            return Step(
                TimelineEvent.CASE_CLOSED,
                f"the joint meeting found no agreement; other routes: {OTHER_ROUTES}",
            )
        if booked is None:  # local mediation failed: the window goes on
            return Step(TimelineEvent.SESSION_HELD, "a mediation session without agreement yet")
        joint = target == CaseStatus.JOINT_MEETING
        desk = ctx.rules.joint_meeting_desk if joint else booked.desk_code
        case.second_session_by = self._second_session_limit(session, ctx)
        new = self._book(session, ctx, case, desk=desk, starts_at=None)
        late = self._later_than_rule(ctx, case)
        if target == CaseStatus.JOINT_MEETING:
            return Step(
                TimelineEvent.JOINT_MEETING_CALLED,
                f"failed twice at a desk; joint meeting on {to_station_time(new.starts_at)}",
            )
        return Step(
            TimelineEvent.SESSION_HELD,
            f"no agreement yet; next session {to_station_time(new.starts_at)} at {desk}" + late,
        )

    @staticmethod
    def _second_session_limit(session: Session, ctx: Context) -> datetime:
        """The end of the Nth working day after today: the next session is held by then."""
        calendar = ctx.working_calendar(session)
        today = ctx.now.astimezone(STATION_TZ).date()
        last = calendar.add_working_days(today, ctx.rules.second_session_working_days)
        return datetime.combine(last + timedelta(days=1), time(), STATION_TZ).astimezone(UTC)

    @staticmethod
    def _later_than_rule(ctx: Context, case: Case) -> str:
        """A warning when the next session falls beyond the working days the rule allows."""
        if case.due_kind != DueKind.SECOND_SESSION:
            return ""
        days = ctx.rules.second_session_working_days
        return f" (later than {days} working days: no free slot; the sweep acts when they end)"

    def _resolved(self, session: Session, ctx: Context, case: Case) -> Step:
        self._due(case, DueKind.FOLLOW_UP, ctx.now + ctx.rules.follow_up_after)
        flows.send_sms(
            session,
            ctx.messaging,
            case=case,
            key=f"case-resolved:{case.id}",
            recipient=flows.reporter_phone(case),
            template="case_resolved",
            params={"village": self._village(case)},
        )
        agreement = self.data.get("agreement")
        if agreement:
            agreements.record(session, case, fields=agreement, rules=ctx.rules, now=ctx.now)
            for phone in flows.parties_phones(case):
                flows.send_sms(
                    session,
                    ctx.messaging,
                    case=case,
                    key=f"agreement:{case.id}",
                    recipient=phone,
                    template="agreement_reached",
                    params={"perform_by": agreement["perform_by"].isoformat()},
                )
        return Step(
            TimelineEvent.CASE_RESOLVED,
            "resolved" + (" with a mediation agreement (调解协议书)" if agreement else ""),
        )

    def _book(
        self, session: Session, ctx: Context, case: Case, *, desk: str, starts_at: datetime | None
    ) -> DeskSession:
        try:
            booked = desks.book_session(
                session,
                desk_code=desk,
                case_id=case.id,
                starts_at=starts_at,
                now=ctx.now,
                calendar=ctx.working_calendar(session),
            )
        except DomainError as refused:  # not one of the desk's slots, full, nothing in a year
            problems = Problems()
            problems.field("starts_at" if starts_at else "desk", refused.message)
            raise TransitionRefused(
                status=CaseStatus(case.status),
                action=self.action_name,
                allowed=allowed_actions(session, caller=self.caller, case=case),
                problems=problems,
            ) from refused
        limit = case.second_session_by
        if limit is not None and booked.starts_at >= limit > ctx.now:
            self._due(case, DueKind.SECOND_SESSION, limit)  # too late for the rule: watch it
        else:
            self._due(case, DueKind.SESSION, booked.ends_at)
        desk_name = desks.get_desk(session, desk).name
        for phone in [*flows.parties_phones(case)]:
            flows.send_sms(
                session,
                ctx.messaging,
                case=case,
                key=f"session-booked:{booked.id}",
                recipient=phone,
                template="session_booked",
                params={"starts": to_station_time(booked.starts_at), "desk": desk_name},
            )
        return booked

    def _escalate(self, session: Session, ctx: Context, case: Case) -> Step:
        booked = self._book(
            session, ctx, case, desk=self.data["desk"], starts_at=self.data["starts_at"]
        )
        return Step(
            TimelineEvent.CASE_ESCALATED,
            f"booked at {booked.desk_code} on {to_station_time(booked.starts_at)}",
            note=self.data["note"] or ("" if self.caller else "local mediation window over"),
        )

    def _reschedule(self, session: Session, ctx: Context, case: Case) -> Step:
        old = active_session(session, case)
        desk = old.desk_code if old else ctx.rules.joint_meeting_desk
        if old is not None:
            desks.release_session(session, desk_session=old, now=ctx.now)
        booked = self._book(session, ctx, case, desk=desk, starts_at=self.data["starts_at"])
        return Step(
            TimelineEvent.SESSION_RESCHEDULED,
            f"session moved to {to_station_time(booked.starts_at)} at {desk}",
        )

    def _decline(self, session: Session, ctx: Context, case: Case) -> Step:
        booked = active_session(session, case)
        if booked is not None:
            desks.release_session(session, desk_session=booked, now=ctx.now)
        self._due(case, None, None)
        case.second_session_by = None
        self._tell_declined(session, ctx, case)
        return Step(
            TimelineEvent.CASE_DECLINED,
            f"a party declined mediation (voluntary); other routes: {OTHER_ROUTES}",
            note=self.data["reason"],
        )

    def _tell_declined(self, session: Session, ctx: Context, case: Case) -> None:
        flows.send_sms(
            session,
            ctx.messaging,
            case=case,
            key=f"case-declined:{case.id}",
            recipient=flows.reporter_phone(case),
            template="case_declined",
            params={},
        )

    def _follow_up(self, session: Session, ctx: Context, case: Case) -> Step:
        what = "home visit" if self.data["kind"] == "visit" else "phone call"
        if self.data["result"] == "rebounded":
            case.followed_up_at = None
            self._due(case, DueKind.LOCAL_MEDIATION, ctx.now + ctx.rules.local_window)
            return Step(TimelineEvent.CASE_REBOUNDED, f"follow-up {what}: the dispute is back")
        case.followed_up_at = ctx.now
        self._due(case, None, None)
        return Step(TimelineEvent.FOLLOW_UP_DONE, f"follow-up {what}: stable")

    def _close(self, session: Session, ctx: Context, case: Case) -> Step:
        self._due(case, None, None)
        return Step(TimelineEvent.CASE_CLOSED, "closed")


def _tell_owner(session: Session, ctx: Context, case: Case, *, key: str) -> None:
    due = case.due_at or ctx.now + ctx.rules.acceptance
    flows.send_sms(
        session,
        ctx.messaging,
        case=case,
        key=key,
        recipient=case.owner.phone,
        template="case_assigned",
        params={
            "village": service.village_name(session, case.village),
            "due": to_station_time(due),
        },
        urgent=True,
    )


def find_case(session: Session, *, caller: Caller, case_id: uuid.UUID) -> Case:
    """A case the caller may see, else a 404."""
    case = session.scalar(
        select(Case)
        .where(Case.id == case_id, access.visible_to(caller))
        .options(selectinload(Case.parties), selectinload(Case.history))
    )
    if case is None:
        raise NotFound("no such case")
    return case
