"""The rewards pages: the grid verifier's hazards, the reviewers' and approvers' nominations,
finance's payouts to export. Everything through rewards' staff API (`rewards_api.py`).

What a page offers is what the API's `allowed_actions` says for the signed-in person: a
reviewer who also approves is not offered the approval of his own review, and if such a
step is forged anyway, the API's refusal is shown as a sentence saying why.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from services.common.clock import STATION_TZ
from services.common.phones import mask_phone
from services.common.staff_auth import ROLES, Role, issue
from services.console import runtime_of
from services.console.actions import Field
from services.console.http_api import ApiError, Unreachable
from services.console.rewards_api import PAGE_SIZE, RewardsApi
from services.console.rewards_forms import body_of, claim_fields, nomination_fields
from services.console.rewards_messages import (
    action_label,
    api_error_message,
    choice_label,
    cny,
    field_label,
    kind_label,
    not_yours_to_decide,
    role_label,
    status_label,
    unreachable_message,
)
from services.console.views import signed_in, time_now

blp = Blueprint("rewards", __name__, url_prefix="/rewards")

# The claims a role works on first: the rest are a filter away.
CLAIMS_WAITING = {
    "verifier": "awaiting_verification",
    "leader": "awaiting_leader",
    "finance": "approved",  # envelopes to pay
}
CLAIM_STATUSES = (
    "awaiting_verification", "awaiting_leader", "approved", "paid", "rejected", "duplicate"
)  # fmt: skip
# The nominations that wait for a role, as (status, kind or None), after the workflow's table
# (docs/rewards.md). Only a list's filter: the buttons are the API's `allowed_actions`.
NOMINATIONS_WAITING: dict[str, tuple[tuple[str, str | None], ...]] = {
    "reviewer": (("submitted", None), ("under_review", "brave_act"), ("in_public_notice", None)),
    "approver": (("awaiting_approval", None), ("under_review", "good_deed")),
    "leader": (("under_appeal", None),),
    "finance": (("approved", "brave_act"),),
}
NOMINATION_STATUSES = (
    "submitted", "under_review", "in_public_notice", "awaiting_approval",
    "approved", "rejected", "under_appeal", "paid", "honoured",
)  # fmt: skip
PAYOUT_STATUSES = ("ordered", "exported", "paid")
FOUR_EYES = {"approve": "reviewer", "reject": "reviewer", "honour": "reviewer"}
FOUR_EYES |= {"decide_appeal": "decided_by"}


def api() -> RewardsApi:
    return RewardsApi(runtime_of().rewards_http, token=str(session["token"]))


@blp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "reward_status": status_label,
        "reward_action": action_label,
        "reward_field": field_label,
        "reward_choice": choice_label,
        "reward_kind": kind_label,
        "role_label": role_label,
        "cny": cny,
        "page_size": PAGE_SIZE,
        "other_roles": _other_roles(),
    }


def _other_roles() -> list[str]:
    """The other roles the signed-in person holds at the station, to switch to."""
    member = runtime_of().directory.lookup(str(session.get("staff_id", "")))
    if member is None or not session.get("token"):
        return []
    return [r for r in ROLES if Role(r) in member.roles and r != session.get("role")]


@blp.errorhandler(ApiError)
@blp.errorhandler(Unreachable)
def _refused(error: ApiError | Unreachable) -> ResponseReturnValue:
    """A page the API would not give: the sentence for its refusal, with its status."""
    endpoint = request.endpoint or ""
    thing = next((t for t in ("nomination", "payouts") if t in endpoint), "claim")
    return _failure(error, thing=thing)


def _failure(error: ApiError | Unreachable, *, thing: str) -> ResponseReturnValue:
    if isinstance(error, Unreachable):
        return render_template("rewards/error.html", message=unreachable_message()), 503
    if error.status == 401:  # the token expired or the person left the station
        session.pop("token", None)
        return redirect(url_for("console.sign_in", next=request.path))
    return render_template("rewards/error.html", message=api_error_message(error, thing=thing)), (
        error.status
    )


def _order(items: list[dict[str, Any]], key: str) -> tuple[list[dict[str, Any]], str]:
    """`items` oldest first, or newest first when the page asks (`?order=newest`)."""
    newest = request.args.get("order") == "newest"
    ordered = sorted(items, key=lambda item: item.get(key) or "", reverse=newest)
    return ordered, "newest" if newest else "oldest"


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    """A filter from the query string; anything else is a 400 that names it."""
    value = request.args.get(name, default)
    if value and value not in allowed:
        abort(400, description=_("Unknown %(name)s: %(value)s", name=name, value=value))
    return value


@blp.errorhandler(400)
def _bad_filter(error: Any) -> ResponseReturnValue:
    return render_template("rewards/error.html", message=error.description), 400


@blp.get("/claims")
@signed_in
def claims() -> ResponseReturnValue:
    status = _choice("status", CLAIM_STATUSES, CLAIMS_WAITING.get(str(session["role"]), ""))
    found = api().claims(status=status or None)
    ordered, order = _order(found, "created_at")
    return render_template(
        "rewards/claims.html", claims=ordered, status=status, order=order, statuses=CLAIM_STATUSES
    )


@blp.get("/claims/<uuid:claim_id>")
@signed_in
def claim(claim_id: uuid.UUID) -> ResponseReturnValue:
    return _page_of("claim", lambda: api().claim(claim_id), claim_fields)


def _page_of(
    thing: str,
    fetch: Callable[[], dict[str, Any]],
    fields_of: Callable[[str], tuple[Field, ...]],
    **extra: Callable[[dict[str, Any]], Any],
) -> ResponseReturnValue:
    """A claim's or a nomination's page: its facts, a form per allowed action, its history."""
    found = fetch()
    return render_template(
        f"rewards/{thing}.html",
        forms=[(a, fields_of(a)) for a in found.get("allowed_actions", [])],
        form_errors=_form_errors(),
        **{thing: found},
        **{name: make(found) for name, make in extra.items()},
    )


def _form_errors() -> dict[str, Any]:
    found: dict[str, Any] = session.pop("form_errors", None) or {}
    return found


def _take_step(
    *,
    action: str,
    fields: tuple[Field, ...],
    step: Callable[[dict[str, Any], str | None], Any],
    thing: str,
    page: str,
    explain_refusal: Callable[[ApiError], str | None] = lambda error: None,
) -> ResponseReturnValue:
    """Send one step of a form to the API, then back to the thing's page with what happened."""
    if not action.replace("_", "").isalnum():
        abort(404)
    key = request.form.get("idempotency_key") or None
    try:
        step(body_of(action, fields, request.form), key)
    except Unreachable as error:
        return _failure(error, thing=thing)
    except ApiError as error:
        if error.status in (404, 401):
            return _failure(error, thing=thing)
        flash(explain_refusal(error) or api_error_message(error, thing=thing), "error")
        if error.field_errors:
            session["form_errors"] = {"action": action, "fields": error.field_errors}
        return redirect(f"{page}#form-{action}")
    flash(_("Done: %(action)s.", action=action_label(action)))
    return redirect(page)


@blp.post("/claims/<uuid:claim_id>/actions/<action>")
@signed_in
def claim_act(claim_id: uuid.UUID, action: str) -> ResponseReturnValue:
    return _take_step(
        action=action,
        fields=claim_fields(action),
        step=lambda body, key: api().claim_transition(claim_id, body, key=key),
        thing="claim",
        page=url_for(".claim", claim_id=claim_id),
    )


@blp.get("/nominations")
@signed_in
def nominations() -> ResponseReturnValue:
    status = _choice("status", NOMINATION_STATUSES, "")
    waiting = NOMINATIONS_WAITING.get(str(session["role"]), ())
    if status or not waiting:
        found = api().nominations(status=status or None)
    else:  # what waits for the role: a few statuses, each one call
        found = [
            n
            for wanted, kind in waiting
            for n in api().nominations(status=wanted)
            if kind is None or n.get("kind") == kind
        ]
    ordered, order = _order(found, "due_at")
    return render_template(
        "rewards/nominations.html",
        nominations=ordered,
        status=status,
        order=order,
        statuses=NOMINATION_STATUSES,
        waiting=bool(waiting),
        now=time_now(),
    )


@blp.get("/nominations/<uuid:nomination_id>")
@signed_in
def nomination(nomination_id: uuid.UUID) -> ResponseReturnValue:
    return _page_of(
        "nomination",
        lambda: api().nomination(nomination_id),
        nomination_fields,
        withheld=_withheld,
        open_objections=lambda n: [o for o in n.get("objections", []) if not o.get("answer")],
    )


def _withheld(nomination: dict[str, Any]) -> str | None:
    """Why a step the person's role could take is not offered: they took the step before it."""
    me, role = session.get("staff_id"), session.get("role")
    status = nomination.get("status")
    deciding = status in ("under_review", "awaiting_approval")
    if role == "approver" and deciding and nomination.get("reviewer") == me:
        return not_yours_to_decide("approve")
    if role == "leader" and status == "under_appeal" and nomination.get("decided_by") == me:
        return not_yours_to_decide("decide_appeal")
    return None


@blp.post("/nominations/<uuid:nomination_id>/actions/<action>")
@signed_in
def nomination_act(nomination_id: uuid.UUID, action: str) -> ResponseReturnValue:
    def explain(error: ApiError) -> str | None:
        # A four-eyes refusal names the person, not the role: say so, with the API's words.
        if error.status != 403 or action not in FOUR_EYES:
            return None
        try:
            found = api().nomination(nomination_id)
        except (ApiError, Unreachable):
            return None
        if found.get(FOUR_EYES[action]) != session.get("staff_id"):
            return None
        return f"{not_yours_to_decide(action)} ({error.body.get('message', '')})"

    return _take_step(
        action=action,
        fields=nomination_fields(action),
        step=lambda body, key: api().nomination_transition(nomination_id, body, key=key),
        thing="nomination",
        page=url_for(".nomination", nomination_id=nomination_id),
        explain_refusal=explain,
    )


def _month_range() -> tuple[str, datetime, datetime]:
    """The month of `?month=YYYY-MM` (this month by default) as station-time instants."""
    month = request.args.get("month") or time_now().astimezone(STATION_TZ).strftime("%Y-%m")
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=STATION_TZ)
    except ValueError:
        abort(400, description=_("The month must be like 2026-11, not “%(month)s”.", month=month))
    end = (start + timedelta(days=32)).replace(day=1)
    return month, start, end


def _payouts_file() -> tuple[str, str, str]:
    """The month and status asked for, and the finance office's file of them from the API."""
    status = _choice("status", PAYOUT_STATUSES, "ordered")
    month, start, end = _month_range()
    return month, status, api().payouts_csv(status=status or None, start=start, end=end)


@blp.get("/payouts")
@signed_in
def payouts() -> ResponseReturnValue:
    month, status, text = _payouts_file()
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:  # a page is a list: phones masked; the file is for paying them
        row["recipient_phone"] = mask_phone(row["recipient_phone"])
    return render_template(
        "rewards/payouts.html",
        rows=rows,
        month=month,
        status=status,
        statuses=PAYOUT_STATUSES,
        total_fen=sum(int(r["amount_fen"]) for r in rows),
    )


@blp.get("/payouts.csv")
@signed_in
def payouts_csv() -> ResponseReturnValue:
    month, status, text = _payouts_file()
    name = f"payouts-{month}{'-' + status if status else ''}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@blp.post("/role")
@signed_in
def switch_role() -> ResponseReturnValue:
    """Act in another role the person holds (a station may give one person two)."""
    rt, role = runtime_of(), request.form.get("role", "")
    if role not in _other_roles():
        abort(400, description=_("You do not hold the role “%(role)s”.", role=role))
    now = time_now()
    expires = datetime.fromtimestamp(float(session["expires"]), now.tzinfo)
    session["token"] = issue(
        rt.staff_secret, staff_id=str(session["staff_id"]), role=role, now=now,
        valid_for=expires - now,
    )  # fmt: skip
    session["role"] = role
    flash(_("You now act as %(role)s.", role=role_label(role)))
    return redirect(url_for("home.home"))  # the new role's first page
