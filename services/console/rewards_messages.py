"""Words for what the rewards API names: statuses, actions, fields, and every error it answers."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.console.http_api import ApiError, Unreachable
from services.console.messages import refusal_of

STATUSES = {
    # hazard claims
    "awaiting_verification": _l("Awaiting verification"),
    "awaiting_leader": _l("Awaiting the leader"),
    "approved": _l("Approved"),
    "paid": _l("Paid"),
    "rejected": _l("Rejected"),
    "duplicate": _l("Duplicate"),
    # nominations
    "submitted": _l("Submitted"),
    "under_review": _l("Recommended, before the notice"),
    "in_public_notice": _l("In public notice"),
    "awaiting_approval": _l("Awaiting approval"),
    "honoured": _l("Honoured"),
    "under_appeal": _l("Under appeal"),
    # payouts
    "ordered": _l("To export"),
    "exported": _l("Exported"),
}

ACTIONS = {
    "verify": _l("Verify the hazard"),
    "decide": _l("Decide"),
    "pay": _l("Pay"),
    "review": _l("Review"),
    "publish_notice": _l("Publish the notice"),
    "skip_notice": _l("Skip the notice"),
    "object": _l("File an objection"),
    "answer_objection": _l("Answer an objection"),
    "end_notice": _l("Notice ended"),
    "extend": _l("Extend the deadline"),
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "honour": _l("Honour"),
    "appeal": _l("Ask for a review (appeal)"),
    "decide_appeal": _l("Decide the appeal"),
    "nominate": _l("Nominated"),
}

FIELDS = {
    "confirmed": _l("Is the hazard real?"),
    "severity": _l("Severity (when real)"),
    "reason": _l("Reason"),
    "duplicate_of": _l("Duplicate of claim (its id)"),
    "note": _l("Note"),
    "decision": _l("Decision"),
    "recommend": _l("Recommend it?"),
    "tier": _l("Award tier"),
    "text": _l("Objection"),
    "objection": _l("Which objection"),
    "answer": _l("Answer"),
    "by": _l("Asked by"),
    "outcome": _l("Outcome"),
    "action": _l("Action"),
}

CHOICES = {
    "yes": _l("Yes"),
    "no": _l("No"),
    "low": _l("Low (5 CNY)"),
    "medium": _l("Medium (10 CNY)"),
    "high": _l("High (20 CNY)"),
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "commendation": _l("Commendation"),
    "merit": _l("Merit"),
    "outstanding": _l("Outstanding"),
    "nominee": _l("The nominee"),
    "nominator": _l("The nominator"),
    "actor": _l("the actor"),
    "witness": _l("a witness"),
    "agency": _l("an agency"),
    "upheld": _l("Upheld (stays rejected)"),
    "overturned": _l("Overturned (decided afresh)"),
}

ROLES = {
    "officer": _l("community officer"),
    "leader": _l("duty leader"),
    "desk": _l("desk staff"),
    "verifier": _l("grid verifier"),
    "reviewer": _l("reviewer"),
    "approver": _l("approver"),
    "finance": _l("finance"),
    "ops": _l("operations"),
}

KINDS = {"brave_act": _l("Brave act"), "good_deed": _l("Good deed")}

THINGS = {
    "claim": (
        _l("This hazard claim"),
        _l("There is no such hazard claim, or your role may not see it."),
    ),
    "nomination": (
        _l("This nomination"),
        _l("There is no such nomination, or your role may not see it."),
    ),
    "payouts": (_l("The payouts"), _l("There are no such payouts.")),
}


def _label(table: dict[str, object], value: str | None) -> str:
    return str(table.get(value or "", value or "—"))


def status_label(status: str | None) -> str:
    return _label(STATUSES, status)


def action_label(action: str | None) -> str:
    return _label(ACTIONS, action)


def field_label(name: str) -> str:
    return _label(FIELDS, name)


def choice_label(value: str | None) -> str:
    return _label(CHOICES, value)


def role_label(role: str | None) -> str:
    return _label(ROLES, role)


def kind_label(kind: str | None) -> str:
    return _label(KINDS, kind)


def cny(fen: int | None) -> str:
    """Fen as yuan for people: 1000 → 10.00."""
    return "—" if fen is None else f"{fen // 100}.{fen % 100:02d}"


def unreachable_message(_: Unreachable | None = None) -> str:
    return str(_l("The rewards service did not answer. Please try again in a moment."))


def api_error_message(error: ApiError, *, thing: str) -> str:
    """A sentence for a refused call on a `thing` ("claim", "nomination"), saying what to do."""
    body, (this, missing) = error.body, THINGS[thing]
    if error.status == 409 and body.get("code") == "illegal_transition":
        allowed = ", ".join(action_label(a) for a in body.get("allowed", [])) or _("none")
        return str(
            _(
                "%(this)s is now “%(status)s”, so “%(action)s” is not possible any more"
                " (possible now: %(allowed)s). The page shows it as it is now.",
                this=this,
                status=status_label(body.get("status")),
                action=action_label(str(body.get("action", ""))),
                allowed=allowed,
            )
        )
    common = refusal_of(error, label=field_label)
    if common is not None:
        return common
    if error.status == 404:
        return str(missing)
    return str(
        _(
            "The rewards service refused (%(status)d). %(detail)s",
            status=error.status,
            detail=body.get("message") or "",
        )
    )


def not_yours_to_decide(action: str) -> str:
    """Why a four-eyes step is refused to the person who took the step before it."""
    if action == "decide_appeal":
        return str(_("You decided this nomination, so another leader must decide its appeal."))
    return str(
        _(
            "You reviewed this nomination, so another approver must decide it"
            " (the reviewer never approves, rejects or honours what they reviewed)."
        )
    )
