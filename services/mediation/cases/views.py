"""The staff API of cases: `/v1/cases`. HTTP only; the work is in `service.py` and `commands.py`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app, g, jsonify
from flask.views import MethodView
from flask_smorest import abort

from services.common.blueprint import Blueprint, one_page
from services.common.runtime import after_response
from services.common.staff_auth import Caller, endpoint_guard
from services.common.transitions import (
    IDEMPOTENCY_KEY_PARAMETER,
    IllegalTransitionOut,
    idempotency_key,
)
from services.mediation.cases import service, stats
from services.mediation.cases.access import ROLES_FOR, Endpoint
from services.mediation.cases.commands import Context
from services.mediation.cases.schemas import (
    CaseListItemOut,
    CaseOut,
    CaseQueryArgs,
    CaseTransitionIn,
    StatsOut,
    StatsQueryArgs,
    fields_by_action,
)
from services.mediation.runtime import MediationRuntime

blp = Blueprint(
    "cases",
    __name__,
    url_prefix="/v1/cases",
    description="Dispute cases, from first contact to follow-up",
)


# The answer's schema, made once (with its nested ones): dumping keeps no state.
CASE_OUT = CaseOut()


def runtime() -> MediationRuntime:
    found: MediationRuntime = current_app.extensions["fengqiao"]
    return found


def guard(endpoints: dict[tuple[str, str], Endpoint]) -> Callable[[], None]:
    """A blueprint's `before_request` hook checking mediation's access table."""
    return endpoint_guard(endpoints, ROLES_FOR)


def caller() -> Caller:
    found: Caller = g.staff
    return found


blp.before_request(
    guard(
        {
            ("cases.Cases", "GET"): Endpoint.CASES_READ,
            ("cases.CaseItem", "GET"): Endpoint.CASES_READ,
            ("cases.CaseTransitions", "POST"): Endpoint.CASES_TRANSITION,
        }
    )
)


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseQueryArgs, location="query")
    @blp.response(200, CaseListItemOut(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """The cases the caller may see, soonest due first (phones masked)."""
        return one_page(
            runtime().db, service.list_cases, pagination_parameters, caller=caller(), **args
        )


@blp.route("/<uuid:case_id>")
class CaseItem(MethodView):
    @blp.response(200, CaseOut)
    def get(self, case_id: uuid.UUID) -> Any:
        """One case with its sessions, history and the actions the caller may take."""
        who = caller()
        with runtime().db.sessions() as session:
            return service.get_case(session, caller=who, case_id=case_id)


@blp.route("/<uuid:case_id>/transitions")
class CaseTransitions(MethodView):
    @blp.arguments(
        CaseTransitionIn,
        example={"action": "accept", "risk_grade": "B"},
        description="An action and its fields (* required):\n" + fields_by_action(),
    )
    @blp.response(200, CaseOut)
    @blp.alt_response(409, schema=IllegalTransitionOut, description="Not from this status")
    @blp.alt_response(403, description="The caller's role or identity may not")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Take one step of the workflow: `{"action": …, …its fields}`."""
        who = caller()
        key = idempotency_key()
        rt = runtime()
        with rt.messaging.transaction(defer=after_response) as session:
            # The working calendar is read only by the steps that need it (Context).
            ctx = Context(messaging=rt.messaging, rules=rt.rules, now=rt.clock.now())
            answer = service.transition(
                session,
                caller=who,
                case_id=case_id,
                body=data,
                ctx=ctx,
                key=key,
                render=CASE_OUT.dump,
            )
        return jsonify(answer)  # already in CaseOut's shape (stored as such for repeats)


stats_blp = Blueprint("stats", __name__, url_prefix="/v1", description="The station's figures")
stats_blp.before_request(guard({("stats.Stats", "GET"): Endpoint.STATS_READ}))


@stats_blp.route("/stats")
class Stats(MethodView):
    @stats_blp.arguments(StatsQueryArgs, location="query")
    @stats_blp.response(200, StatsOut)
    def get(self, args: dict[str, Any]) -> Any:
        """Figures for the cases opened from `from` to `to`, also week by week and month by
        month (station time); no personal data."""
        if args["to"] <= args["from_"]:
            abort(422, errors={"query": {"to": ["must be after from"]}})
        with runtime().db.sessions() as session:
            return stats.case_stats(session, since=args["from_"], until=args["to"])
