"""A claim's transitions as commands: `validate()` gathers every problem, `run()` does the step.

`TransitionClaim(...).run(session, ctx)` locks the claim row (`SELECT … FOR UPDATE`), so two
staff acting on one claim at once are served one after the other: the second sees the
first's result and, if its action no longer applies, gets a 409. A confirmed verification
then locks the reporter's month and reads the month's budget (`limits.py`) to decide
between `approved` and `awaiting_leader`; an approval takes its envelope from the budget
as the transaction's last statement, which raises `limits.BudgetTaken` at commit if other
approvals took it meanwhile (`service.take_step` then takes the step again). The step
changes the claim, appends its history row and writes the outbox messages (the partner's
timeline, the reporter's SMS) in the caller's one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Uuid, bindparam, insert, select
from sqlalchemy.orm import Session, lazyload

from services.common.contracts import TimelineEvent
from services.common.errors import NotFound
from services.common.messaging import Messaging
from services.common.staff_auth import Caller
from services.common.transitions import Problems, TransitionRefused, flat_messages, jsonable
from services.rewards import flows
from services.rewards.claims import limits
from services.rewards.claims.models import ClaimHistory, HazardClaim
from services.rewards.claims.schemas import FIELDS_OF
from services.rewards.claims.workflow import (
    OVER_LIMITS,
    Action,
    ClaimStatus,
    Transition,
    transitions_from,
)
from services.rewards.ledger.models import SubjectKind
from services.rewards.ledger.payouts import PayoutAdapter
from services.rewards.rules import RewardRules

_ADD_HISTORY = insert(ClaimHistory)  # built once
# The claim, locked; built once (building it cost as much as running it). The history is
# read once, for the answer, after the step has added to it.
_LOCK = (
    select(HazardClaim)
    .where(HazardClaim.id == bindparam("claim_id", type_=Uuid))
    .with_for_update()
    .options(lazyload(HazardClaim.history))
    .execution_options(populate_existing=True)
)

ACTION_NAMES = frozenset(a.value for a in Action)
# One schema of each action's fields, made once: loading keeps no state between calls.
FIELD_SCHEMAS = {action: schema() for action, schema in FIELDS_OF.items()}


@dataclass
class Context:
    """What a step needs besides the session."""

    messaging: Messaging
    rules: RewardRules
    payouts: PayoutAdapter
    now: datetime
    # Lock the month's budget row before reading it: a step taken again after
    # `limits.BudgetTaken` (other approvals took the budget it had read).
    budget_locked: bool = False


@dataclass(frozen=True)
class Step:
    """What the step did, for the partner, the reporter and the history row."""

    event: TimelineEvent
    detail: str
    sms: str  # the reporter's template
    note: str = ""


def allowed_actions(*, caller: Caller, claim: HazardClaim) -> list[str]:
    """The actions `caller` may take on `claim` now (the console's buttons)."""
    return list(
        dict.fromkeys(
            t.action.value
            for t in transitions_from(ClaimStatus(claim.status))
            if t.role == caller.role
        )
    )


class TransitionClaim:
    """One action on one claim, by a staff member."""

    def __init__(
        self, *, claim_id: uuid.UUID, caller: Caller, action: str, fields: dict[str, Any]
    ) -> None:
        self.claim_id, self.caller, self.action_name, self.raw = claim_id, caller, action, fields
        self.claim: HazardClaim | None = None
        self.data: dict[str, Any] = {}
        self.transition: Transition | None = None
        self.over: list[str] = []
        self.held: limits.Limits | None = None

    def _lock(self, session: Session) -> HazardClaim:
        claim = session.scalars(_LOCK, {"claim_id": self.claim_id}).one_or_none()
        if claim is None:
            raise NotFound("no such claim")
        return claim

    def validate(self, session: Session, ctx: Context) -> None:
        """Lock the claim and gather every problem (state, role, fields) at once."""
        claim = self.claim = self._lock(session)
        status = ClaimStatus(claim.status)
        problems = Problems()
        action = Action(self.action_name) if self.action_name in ACTION_NAMES else None
        rows = transitions_from(status, action) if action else []
        if action is None:
            problems.field("action", f"unknown action {self.action_name!r}")
        elif not rows:
            problems.state.append(f"{action} is not allowed from {status}")
        elif not any(t.role == self.caller.role for t in rows):
            roles = sorted({t.role.value for t in rows})
            problems.access.append(f"{action} needs the role {' or '.join(roles)}")
        if action is not None:
            try:
                self.data = FIELD_SCHEMAS[action].load(self.raw)
            except ValidationError as error:
                for name, messages in flat_messages(error.messages).items():
                    for message in messages:
                        problems.field(name, message)
            if not problems.fields and action == Action.VERIFY:
                self._check_verify(session, claim, problems)
        if not problems:
            self.transition = self._pick(session, ctx, claim, rows)
        if problems:
            raise TransitionRefused(
                status=status.value,
                action=self.action_name,
                allowed=allowed_actions(caller=self.caller, claim=claim),
                problems=problems,
            )

    def _check_verify(self, session: Session, claim: HazardClaim, problems: Problems) -> None:
        d = self.data
        if d["confirmed"] and d["duplicate_of"] is None and d["severity"] is None:
            problems.field("severity", "required when the hazard is confirmed")
        if not d["confirmed"] and d["reason"] is None:
            problems.field("reason", "required when the hazard is not confirmed")
        if d["duplicate_of"] is None:
            return
        if not d["confirmed"]:
            problems.field("duplicate_of", "a duplicate is a confirmed hazard: confirmed=true")
            return
        original = session.get(HazardClaim, d["duplicate_of"])
        if original is None or original.id == claim.id:
            problems.field("duplicate_of", "name another claim")
        elif original.created_at >= claim.created_at:
            problems.field("duplicate_of", "the original must have been reported earlier")
        elif original.status in (ClaimStatus.REJECTED, ClaimStatus.DUPLICATE):
            problems.field("duplicate_of", f"that claim is {original.status}: name the first one")

    def _pick(
        self, session: Session, ctx: Context, claim: HazardClaim, rows: list[Transition]
    ) -> Transition:
        """The row this step follows; a confirmed verification checks the limits, locked."""
        if len(rows) == 1:
            return rows[0]
        d = self.data
        if "decision" in d:
            target = ClaimStatus.APPROVED if d["decision"] == "approve" else ClaimStatus.REJECTED
        elif d["duplicate_of"] is not None:
            target = ClaimStatus.DUPLICATE
        elif not d["confirmed"]:
            target = ClaimStatus.REJECTED
        elif claim.test:  # a test claim is never paid: no cap, no budget
            target = ClaimStatus.APPROVED
        else:
            self.held = limits.check(
                session,
                phone=claim.reporter_phone,
                period=claim.period,
                amount_fen=ctx.rules.envelope_fen[d["severity"]],
                rules=ctx.rules,
                locked=ctx.budget_locked,
            )
            self.over = self.held.over
            target = ClaimStatus.AWAITING_LEADER if self.over else ClaimStatus.APPROVED
        return next(t for t in rows if t.target == target)

    def run(self, session: Session, ctx: Context) -> HazardClaim:
        """Validate, then take the step: the claim, its history row and its messages."""
        self.validate(session, ctx)
        assert self.claim is not None and self.transition is not None
        claim, transition = self.claim, self.transition
        before = claim.status
        step = getattr(self, f"_{transition.action.value}")(session, ctx, claim)
        claim.status = transition.target.value
        claim.updated_at = ctx.now
        # The history row as a row, not an object: it is only appended, and the unit of
        # work cost more than the insert (the answer reads the history as rows too).
        session.connection().execute(
            _ADD_HISTORY,
            {
                "claim_id": claim.id,
                "at": ctx.now,
                "by": self.caller.id,
                "action": transition.action.value,
                "from_status": before,
                "to_status": claim.status,
                "note": step.note or self.data.get("note", ""),
                "detail": jsonable({k: v for k, v in self.data.items() if k != "note"}),
            },
        )
        flows.tell_partner(
            session,
            ctx.messaging,
            report_id=claim.report_id,
            event=step.event,
            detail=step.detail,
            now=ctx.now,
        )
        params = {"tracking_code": claim.tracking_code}
        if claim.amount_fen is not None:
            params["amount"] = flows.cny(claim.amount_fen)
        flows.send_sms(
            session,
            ctx.messaging,
            key=f"claim:{claim.id}:{transition.action.value}:{claim.status}",
            recipient=claim.reporter_phone,
            template=step.sms,
            params=params,
            report_id=claim.report_id,
            test=claim.test,
        )
        session.flush()
        session.expire(claim, ["history"])  # read again, in one statement, when shown
        return claim

    # ---- the steps: each changes the claim and says what happened ------------------------

    def _approve(
        self, session: Session, ctx: Context, claim: HazardClaim, *, within_budget: bool
    ) -> None:
        """Count the envelope against the reporter's month and reserve it in the budget, as
        the transaction's last statement: a verification's only if the budget still has
        it, the leader's whatever is left."""
        assert claim.amount_fen is not None
        if claim.test:
            return
        held = self.held or limits.check(
            session,
            phone=claim.reporter_phone,
            period=claim.period,
            amount_fen=claim.amount_fen,
            rules=ctx.rules,
        )
        limits.grant(session, held, amount_fen=claim.amount_fen, within_budget=within_budget)

    def _verify(self, session: Session, ctx: Context, claim: HazardClaim) -> Step:
        assert self.transition is not None
        d, target = self.data, self.transition.target
        if target == ClaimStatus.DUPLICATE:
            claim.duplicate_of = d["duplicate_of"]
            return Step(
                TimelineEvent.CLAIM_DUPLICATE,
                "the same hazard was reported earlier; one envelope per hazard goes to its "
                "first reporter",
                sms="claim_duplicate",
            )
        if target == ClaimStatus.REJECTED:
            return Step(
                TimelineEvent.CLAIM_REJECTED,
                "not confirmed by the grid officer",
                sms="claim_rejected",
                note=d["reason"],
            )
        claim.verified_severity = d["severity"]
        claim.amount_fen = ctx.rules.envelope_fen[d["severity"]]
        if target == ClaimStatus.AWAITING_LEADER:
            claim.over_limits = self.over
            return Step(
                TimelineEvent.CLAIM_VERIFIED,
                f"verified by a grid officer ({d['severity']} severity); the envelope awaits "
                f"the leader ({OVER_LIMITS.removeprefix('confirmed, ')})",
                sms="claim_awaiting_leader",
                note=d["note"] or "; ".join(self.over),
            )
        self._approve(session, ctx, claim, within_budget=True)
        return Step(
            TimelineEvent.CLAIM_VERIFIED,
            f"verified by a grid officer ({d['severity']} severity); a red envelope is approved",
            sms="claim_approved",
        )

    def _decide(self, session: Session, ctx: Context, claim: HazardClaim) -> Step:
        if self.data["decision"] == "reject":
            return Step(
                TimelineEvent.CLAIM_REJECTED,
                "the leader declined the envelope",
                sms="claim_rejected",
                note=self.data["reason"],
            )
        self._approve(session, ctx, claim, within_budget=False)
        return Step(
            TimelineEvent.CLAIM_APPROVED,
            "the leader approved the red envelope",
            sms="claim_approved",
            note=self.data["reason"],
        )

    def _pay(self, session: Session, ctx: Context, claim: HazardClaim) -> Step:
        assert claim.amount_fen is not None
        if claim.test:
            return Step(
                TimelineEvent.REWARD_PAID,
                "a test claim: marked paid, no money moved",
                sms="claim_paid",
                note="test claim: no money paid",
            )
        month = limits.lock_month(session, period=claim.period)
        payout = ctx.payouts.pay(
            session,
            subject_kind=SubjectKind.CLAIM,
            subject_id=claim.id,
            recipient_name=claim.reporter_name or "",
            recipient_phone=claim.reporter_phone,
            amount_fen=claim.amount_fen,
            by=self.caller.id,
            now=ctx.now,
            period=claim.period,
        )
        month.reserved_fen -= claim.amount_fen
        claim.payout_id = payout.id
        return Step(
            TimelineEvent.REWARD_PAID,
            "the grid red envelope was paid",
            sms="claim_paid",
            note=f"payout {payout.id} ({ctx.payouts.name})",
        )
