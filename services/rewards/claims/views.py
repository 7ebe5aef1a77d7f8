"""The staff API of hazard claims: `/v1/claims`. HTTP only; the work is in `service.py` and
`commands.py`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, jsonify
from flask.views import MethodView

from services.common.blueprint import Blueprint, one_page
from services.common.runtime import after_response
from services.common.transitions import (
    IDEMPOTENCY_KEY_PARAMETER,
    IllegalTransitionOut,
    idempotency_key,
)
from services.rewards.access import Endpoint, caller, guard
from services.rewards.claims import service
from services.rewards.claims.commands import Context
from services.rewards.claims.schemas import (
    ClaimListItemOut,
    ClaimOut,
    ClaimQueryArgs,
    ClaimTransitionIn,
    fields_by_action,
)
from services.rewards.runtime import RewardsRuntime

blp = Blueprint(
    "claims",
    __name__,
    url_prefix="/v1/claims",
    description="Hazard claims (grid red envelopes), from verification to payout",
)


# The answer's schema, made once (with its nested ones): dumping keeps no state.
CLAIM_OUT = ClaimOut()


def runtime() -> RewardsRuntime:
    found: RewardsRuntime = current_app.extensions["fengqiao"]
    return found


blp.before_request(
    guard(
        {
            ("claims.Claims", "GET"): Endpoint.CLAIMS_READ,
            ("claims.ClaimItem", "GET"): Endpoint.CLAIMS_READ,
            ("claims.ClaimTransitions", "POST"): Endpoint.CLAIMS_TRANSITION,
        }
    )
)


@blp.route("")
class Claims(MethodView):
    @blp.arguments(ClaimQueryArgs, location="query")
    @blp.response(200, ClaimListItemOut(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """Hazard claims, oldest first (phones masked)."""
        return one_page(runtime().db, service.list_claims, pagination_parameters, **args)


@blp.route("/<uuid:claim_id>")
class ClaimItem(MethodView):
    @blp.response(200, ClaimOut)
    def get(self, claim_id: uuid.UUID) -> Any:
        """One claim with its history and the actions the caller may take."""
        with runtime().db.sessions() as session:
            return service.get_claim(session, caller=caller(), claim_id=claim_id)


@blp.route("/<uuid:claim_id>/transitions")
class ClaimTransitions(MethodView):
    @blp.arguments(
        ClaimTransitionIn,
        example={"action": "verify", "confirmed": True, "severity": "medium"},
        description="An action and its fields (* required):\n" + fields_by_action(),
    )
    @blp.response(200, ClaimOut)
    @blp.alt_response(409, schema=IllegalTransitionOut, description="Not from this status")
    @blp.alt_response(403, description="The caller's role may not")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def post(self, data: dict[str, Any], claim_id: uuid.UUID) -> Any:
        """Take one step: `{"action": "verify" | "decide" | "pay", …its fields}`."""
        key = idempotency_key()
        rt = runtime()
        ctx = Context(
            messaging=rt.messaging, rules=rt.rules, payouts=rt.payouts, now=rt.clock.now()
        )
        answer = service.take_step(
            rt.messaging,
            defer=after_response,
            ctx=ctx,
            caller=caller(),
            claim_id=claim_id,
            body=data,
            key=key,
            render=CLAIM_OUT.dump,
        )
        return jsonify(answer)  # already in ClaimOut's shape (stored as such for repeats)
