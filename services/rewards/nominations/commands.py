"""A nomination's transitions as commands: `validate()` gathers every problem, `run()` steps.

`TransitionNomination(...).run(session, ctx)` locks the nomination's row (`SELECT … FOR
UPDATE`), so two staff acting on one nomination at once are served one after the other:
the second sees the first's result and, if its action no longer applies, gets a 409. The
step changes the row, appends its history row and writes the outbox (the partner's
timeline, SMS) in the caller's one transaction; a brave act's award is paid through the
runtime's payout adapter (the ledger first) in that same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.common.contracts import TimelineEvent
from services.common.errors import NotFound
from services.common.messaging import Messaging
from services.common.staff_auth import Caller
from services.common.transitions import Problems, TransitionRefused, flat_messages, jsonable
from services.rewards.flows import cny
from services.rewards.ledger.models import SubjectKind
from services.rewards.ledger.payouts import PayoutAdapter
from services.rewards.nominations import access, flows
from services.rewards.nominations.models import Nomination, NominationHistory, Objection
from services.rewards.nominations.schemas import FIELDS_OF
from services.rewards.nominations.workflow import (
    DUE_OF,
    SYSTEM,
    Action,
    DueKind,
    Kind,
    NominationStatus,
    Transition,
    transitions_from,
)
from services.rewards.rules import RewardRules

ACTION_NAMES = frozenset(a.value for a in Action)


@dataclass
class Context:
    """What a step needs besides the session."""

    messaging: Messaging
    rules: RewardRules
    now: datetime
    payouts: PayoutAdapter | None = None  # the runtime's; only `pay` needs it


@dataclass(frozen=True)
class Step:
    """What the step did: the partner's event and words, the people's SMS, the history note."""

    event: TimelineEvent
    detail: str
    sms: str = ""  # the step in the nominee's and nominator's SMS ("" tells no one)
    note: str = ""


def _may(caller: Caller | None, nomination: Nomination, t: Transition) -> bool:
    """Whether `caller` (None: the sweep) may take the step of row `t` on `nomination`."""
    if caller is None:
        return SYSTEM in t.actors
    if caller.role.value not in t.actors:
        return False
    return not (t.not_by and getattr(nomination, t.not_by) == caller.id)


def allowed_actions(*, caller: Caller | None, nomination: Nomination) -> list[str]:
    """The actions `caller` may take on `nomination` now (self-approval is not offered)."""
    rows = transitions_from(NominationStatus(nomination.status), Kind(nomination.kind))
    return list(dict.fromkeys(t.action.value for t in rows if _may(caller, nomination, t)))


def due_of(nomination: Nomination, rules: RewardRules) -> tuple[DueKind | None, datetime | None]:
    """What the nomination waits for in its status, and by when."""
    kind = DUE_OF.get(NominationStatus(nomination.status))
    if kind == DueKind.DECISION:
        return kind, nomination.decide_by
    if kind == DueKind.NOTICE_END:
        return kind, nomination.notice_ends_at
    if (
        kind == DueKind.APPEAL_WINDOW
        and nomination.decided_at is not None
        and nomination.appealed_at is None  # 复核 is asked once
    ):
        return kind, nomination.decided_at + rules.appeal_window
    if kind == DueKind.APPEAL_DECISION and nomination.appealed_at is not None:
        return kind, nomination.appealed_at + rules.appeal_decision
    return None, None


def set_due(nomination: Nomination, rules: RewardRules) -> None:
    kind, at = due_of(nomination, rules)
    nomination.due_kind, nomination.due_at = (kind.value if kind else None), at


def add_history(
    session: Session,
    *,
    nomination: Nomination,
    at: datetime,
    by: str,
    action: str,
    before: str | None,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        NominationHistory(
            nomination_id=nomination.id,
            at=at,
            by=by,
            action=action,
            from_status=before,
            to_status=nomination.status,
            note=note,
            detail=detail or {},
        )
    )


class TransitionNomination:
    """One action on one nomination, by a staff member (or the deadline sweep, `caller=None`)."""

    def __init__(
        self,
        *,
        nomination_id: uuid.UUID,
        caller: Caller | None,
        action: str,
        fields: dict[str, Any],
    ) -> None:
        self.nomination_id, self.caller, self.action_name = nomination_id, caller, action
        self.raw = fields
        self.nomination: Nomination | None = None
        self.data: dict[str, Any] = {}
        self.transition: Transition | None = None

    @property
    def by(self) -> str:
        return self.caller.id if self.caller else SYSTEM

    def _lock(self, session: Session) -> Nomination:
        found = session.get(
            Nomination, self.nomination_id, with_for_update=True, populate_existing=True
        )
        if found is None or (self.caller is not None and not access.may_see(self.caller, found)):
            raise NotFound("no such nomination")
        return found

    def validate(self, session: Session, ctx: Context) -> None:
        """Lock the nomination and gather every problem (state, role, identity, fields)."""
        nomination = self.nomination = self._lock(session)
        status, kind = NominationStatus(nomination.status), Kind(nomination.kind)
        problems = Problems()
        action = Action(self.action_name) if self.action_name in ACTION_NAMES else None
        rows = transitions_from(status, kind, action) if action else []
        if action is None:
            problems.field("action", f"unknown action {self.action_name!r}")
        elif not rows:
            problems.state.append(f"{action} is not allowed from {status} for a {kind}")
        elif not any(_may(self.caller, nomination, t) for t in rows):
            roles = sorted({r for t in rows for r in t.roles})
            if self.caller is None or self.caller.role not in roles:
                problems.access.append(f"{action} needs the role {' or '.join(roles)}")
            else:
                problems.access.append(f"{action} must be taken by someone else ({_who(rows)})")
        if action is not None:
            try:
                self.data = FIELDS_OF[action]().load(self.raw)
            except ValidationError as error:
                for name, messages in flat_messages(error.messages).items():
                    for message in messages:
                        problems.field(name, message)
            if not problems and rows:
                self._check_fields(ctx, nomination, action, problems)
                self.transition = self._pick(action, rows)
        if problems:
            raise TransitionRefused(
                status=status.value,
                action=self.action_name,
                allowed=allowed_actions(caller=self.caller, nomination=nomination),
                problems=problems,
            )

    def _check_fields(
        self, ctx: Context, nomination: Nomination, action: Action, problems: Problems
    ) -> None:
        d, tiers = self.data, ctx.rules.award_tiers_fen
        brave = nomination.kind == Kind.BRAVE_ACT
        if action in (Action.REVIEW, Action.APPROVE) and d.get("tier") is not None:
            if not brave:
                problems.field("tier", "a good deed is honoured, not paid: no tier")
            elif d["tier"] not in tiers:
                problems.field("tier", f"must be one of {', '.join(tiers)}")
        if action == Action.REVIEW and brave and d["recommend"] and d["tier"] is None:
            problems.field("tier", "recommending a brave act names the award's tier")
        if action == Action.APPROVE and (d["tier"] or nomination.tier) is None:
            problems.field("tier", f"name the award's tier: one of {', '.join(tiers)}")
        if action in (Action.APPROVE, Action.HONOUR):
            open_ones = [o.id for o in nomination.objections if o.answer is None]
            if open_ones:
                problems.field(
                    "action", f"answer every objection first (answer_objection): {open_ones}"
                )
        if action == Action.ANSWER_OBJECTION:
            objection = next((o for o in nomination.objections if o.id == d["objection"]), None)
            if objection is None:
                problems.field("objection", f"no objection {d['objection']} on this nomination")
            elif objection.answer is not None:
                problems.field("objection", "this objection has been answered")
        if action == Action.EXTEND and nomination.extended:
            problems.field("action", "the decision was extended once already")
        if action == Action.APPEAL and nomination.appealed_at is not None:
            problems.field("action", "复核 was asked once already; its decision is final")
        elif action == Action.APPEAL:
            closes = (nomination.decided_at or ctx.now) + ctx.rules.appeal_window
            if ctx.now > closes:
                problems.field("action", f"复核 was open until {to_station_time(closes)}")
        if action == Action.PAY and not nomination.nominee.get("phone"):
            problems.field("action", "the nominee has no phone to be paid on")

    def _pick(self, action: Action, rows: list[Transition]) -> Transition:
        """The row this step follows, when its fields choose between rows."""
        if action == Action.REVIEW:
            wanted = "recommended" if self.data["recommend"] else "not recommended"
            return next(t for t in rows if t.when == wanted)
        if action == Action.DECIDE_APPEAL:
            return next(t for t in rows if t.when == self.data["outcome"])
        return rows[0]

    def run(self, session: Session, ctx: Context) -> Nomination:
        """Validate, then take the step: the row, its history and its messages."""
        self.validate(session, ctx)
        assert self.nomination is not None and self.transition is not None
        nomination, transition = self.nomination, self.transition
        before = NominationStatus(nomination.status)
        step: Step = getattr(self, f"_{transition.action.value}")(session, ctx, nomination)
        nomination.status = transition.leads_from(before).value
        nomination.updated_at = ctx.now
        set_due(nomination, ctx.rules)
        note = step.note or self.data.get("reason") or self.data.get("note", "")
        add_history(
            session,
            nomination=nomination,
            at=ctx.now,
            by=self.by,
            action=transition.action.value,
            before=before.value,
            note=note,
            detail=jsonable({k: v for k, v in self.data.items() if k not in ("note", "reason")}),
        )
        session.flush()
        flows.tell_partner(
            session,
            ctx.messaging,
            nomination=nomination,
            event=step.event,
            detail=step.detail,
            now=ctx.now,
        )
        if step.sms:
            key = f"nomination-{transition.action.value}:{nomination.id}:{ctx.now.isoformat()}"
            flows.tell_people(session, ctx.messaging, nomination=nomination, key=key, step=step.sms)
        session.refresh(nomination, ["history", "objections"])
        return nomination

    # ---- the steps: each changes the nomination and says what happened ------------------

    def _review(self, session: Session, ctx: Context, n: Nomination) -> Step:
        n.recommended, n.reviewer_id = self.data["recommend"], self.by
        n.tier = self.data["tier"]
        if n.recommended:
            return Step(
                TimelineEvent.NOMINATION_UNDER_REVIEW, "reviewed and recommended", sms="已通过初审"
            )
        return Step(
            TimelineEvent.NOMINATION_UNDER_REVIEW,
            "reviewed, not recommended; an approver decides",
            sms="已完成初审，待审批",
        )

    def _publish_notice(self, session: Session, ctx: Context, n: Nomination) -> Step:
        n.notice_ends_at = ctx.now + ctx.rules.public_notice
        until = to_station_time(n.notice_ends_at)
        return Step(
            TimelineEvent.NOTICE_PUBLISHED,
            f"in public notice (公示) until {until}; objections may be filed",
            sms=f"进入公示，至{until}止",
        )

    def _skip_notice(self, session: Session, ctx: Context, n: Nomination) -> Step:
        n.notice_skipped = True
        return Step(
            TimelineEvent.NOTICE_SKIPPED,
            "no public notice, for the actor's safety; an approver decides",
            sms="为保护当事人不予公示，待审批",
        )

    def _object(self, session: Session, ctx: Context, n: Nomination) -> Step:
        objection = Objection(
            nomination_id=n.id, text=self.data["text"], filed_by=self.by, filed_at=ctx.now
        )
        session.add(objection)
        return Step(
            TimelineEvent.OBJECTION_FILED,
            "an objection was filed during the public notice; it will be answered",
            note="objection filed",
        )

    def _answer_objection(self, session: Session, ctx: Context, n: Nomination) -> Step:
        objection = next(o for o in n.objections if o.id == self.data["objection"])
        objection.answer, objection.answered_by = self.data["answer"], self.by
        objection.answered_at = ctx.now
        return Step(
            TimelineEvent.OBJECTION_ANSWERED,
            "an objection was answered",
            note=f"objection {objection.id} answered",
        )

    def _end_notice(self, session: Session, ctx: Context, n: Nomination) -> Step:
        return Step(
            TimelineEvent.NOTICE_ENDED,
            "the public notice is over; an approver decides",
            sms="公示期满，待审批",
            note="seven days of public notice are over",
        )

    def _extend(self, session: Session, ctx: Context, n: Nomination) -> Step:
        n.extended, n.decide_by = True, n.decide_by + ctx.rules.decision_extension
        due = to_station_time(n.decide_by)
        return Step(
            TimelineEvent.NOMINATION_EXTENDED,
            f"the decision is extended once, until {due}",
            sms=f"审批期限延长至{due}",
        )

    def _decided(self, ctx: Context, n: Nomination) -> None:
        n.decided_by, n.decided_at = self.by, ctx.now

    def _approve(self, session: Session, ctx: Context, n: Nomination) -> Step:
        self._decided(ctx, n)
        n.tier = self.data["tier"] or n.tier
        assert n.tier is not None
        n.amount_fen = ctx.rules.award_tiers_fen[n.tier]
        return Step(
            TimelineEvent.AWARD_APPROVED,
            f"a brave-act award ({n.tier}) is approved; finance pays it",
            sms="已批准，奖励将由财务发放",
        )

    def _reject(self, session: Session, ctx: Context, n: Nomination) -> Step:
        self._decided(ctx, n)
        closes = to_station_time(ctx.now + ctx.rules.appeal_window)
        return Step(
            TimelineEvent.NOMINATION_REJECTED,
            f"not approved; 复核 may be asked until {closes}",
            sms=f"未获批准，如有异议可于{closes}前申请复核",
        )

    def _honour(self, session: Session, ctx: Context, n: Nomination) -> Step:
        self._decided(ctx, n)
        n.honoured_at = ctx.now
        year = to_station_time(ctx.now)[:4]
        return Step(
            TimelineEvent.NOMINATION_HONOURED,
            f"honoured as a good neighbour (魏村好人) of {year}",
            sms=f"已评为{year}年度魏村好人",
        )

    def _appeal(self, session: Session, ctx: Context, n: Nomination) -> Step:
        n.appealed_at = ctx.now
        due = to_station_time(ctx.now + ctx.rules.appeal_decision)
        return Step(
            TimelineEvent.NOMINATION_APPEALED,
            f"复核 asked; decided by {due}",
            sms=f"复核申请已受理，将于{due}前作出决定",
        )

    def _decide_appeal(self, session: Session, ctx: Context, n: Nomination) -> Step:
        if self.data["outcome"] == "upheld":
            self._decided(ctx, n)
            return Step(
                TimelineEvent.APPEAL_DECIDED, "复核: the decision stands", sms="复核维持原决定"
            )
        n.decided_by, n.decided_at = None, None  # an approver decides afresh, in a new window
        n.decide_by = ctx.now + ctx.rules.decision_window
        return Step(
            TimelineEvent.APPEAL_DECIDED,
            "复核: decided afresh by an approver",
            sms="复核撤销原决定，将重新审批",
        )

    def _pay(self, session: Session, ctx: Context, n: Nomination) -> Step:
        assert n.amount_fen is not None
        n.paid_at = ctx.now
        if n.test:  # sent with a test key: the workflow runs, no money moves
            return Step(
                TimelineEvent.REWARD_PAID,
                "a test nomination: marked paid, no money moved",
                note="test nomination: no money paid",
            )
        if ctx.payouts is None:
            raise RuntimeError("paying an award needs the runtime's payout adapter")
        payout = ctx.payouts.pay(
            session,
            subject_kind=SubjectKind.AWARD,
            subject_id=n.id,
            recipient_name=str(n.nominee.get("name") or ""),
            recipient_phone=str(n.nominee["phone"]),
            amount_fen=n.amount_fen,
            by=self.by,
            now=ctx.now,
        )
        key = f"nomination-paid:{n.id}"
        flows.send_sms(  # the amount goes to the recipient alone
            session,
            ctx.messaging,
            nomination=n,
            key=key,
            recipient=str(n.nominee["phone"]),
            template="award_paid",
            params={"amount": cny(n.amount_fen)},
        )
        flows.tell_people(
            session,
            ctx.messaging,
            nomination=n,
            key=key,
            step="奖励已发放",
            besides=str(n.nominee["phone"]),
        )
        return Step(
            TimelineEvent.REWARD_PAID,
            "the brave-act award is paid",
            note=f"payout {payout.id} of {n.amount_fen} fen ({ctx.payouts.name})",
        )


def _who(rows: list[Transition]) -> str:
    names = {"reviewer_id": "not the reviewer", "decided_by": "not who decided"}
    return ", ".join(dict.fromkeys(names[t.not_by] for t in rows if t.not_by))
