"""The staff API of nominations: `/v1/nominations` and `/v1/honours`. HTTP only."""

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
from services.rewards.nominations import service
from services.rewards.nominations.commands import Context
from services.rewards.nominations.schemas import (
    HonoursOut,
    HonoursQueryArgs,
    NominationIn,
    NominationListItemOut,
    NominationOut,
    NominationQueryArgs,
    NominationTransitionIn,
)
from services.rewards.runtime import RewardsRuntime

blp = Blueprint(
    "nominations",
    __name__,
    url_prefix="/v1",
    description="Brave-act awards (见义勇为) and good-neighbour honours (魏村好人)",
)


def runtime() -> RewardsRuntime:
    found: RewardsRuntime = current_app.extensions["fengqiao"]
    return found


def context() -> Context:
    rt = runtime()
    return Context(messaging=rt.messaging, rules=rt.rules, now=rt.clock.now(), payouts=rt.payouts)


blp.before_request(
    guard(
        {
            ("nominations.Nominations", "GET"): Endpoint.NOMINATIONS_READ,
            ("nominations.Nominations", "POST"): Endpoint.NOMINATIONS_CREATE,
            ("nominations.NominationItem", "GET"): Endpoint.NOMINATIONS_READ,
            ("nominations.NominationTransitions", "POST"): Endpoint.NOMINATIONS_TRANSITION,
            ("nominations.Honours", "GET"): Endpoint.HONOURS_READ,
        }
    )
)


@blp.route("/nominations")
class Nominations(MethodView):
    @blp.arguments(NominationQueryArgs, location="query")
    @blp.response(200, NominationListItemOut(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """The nominations the caller may see, soonest due first (phones masked)."""
        return one_page(
            runtime().db, service.list_nominations, pagination_parameters, caller=caller(), **args
        )

    @blp.arguments(NominationIn)
    @blp.response(201, NominationOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Nominate a brave act (by the actor, a witness or an agency) or a good deed."""
        who = caller()
        rt = runtime()
        with rt.messaging.transaction(defer=after_response) as session:
            nomination = service.create_nomination(session, context(), caller=who, data=data)
            session.refresh(nomination, ["history", "objections"])
            body = NominationOut().dump(service.view_of(caller=who, nomination=nomination))
        answer = jsonify(body)
        answer.status_code = 201
        return answer


@blp.route("/nominations/<uuid:nomination_id>")
class NominationItem(MethodView):
    @blp.response(200, NominationOut)
    def get(self, nomination_id: uuid.UUID) -> Any:
        """One nomination with its history, objections and the actions the caller may take."""
        who = caller()
        with runtime().db.sessions() as session:
            return service.get_nomination(session, caller=who, nomination_id=nomination_id)


@blp.route("/nominations/<uuid:nomination_id>/transitions")
class NominationTransitions(MethodView):
    @blp.arguments(
        NominationTransitionIn, example={"action": "review", "recommend": True, "tier": "merit"}
    )
    @blp.response(200, NominationOut)
    @blp.alt_response(409, schema=IllegalTransitionOut, description="Not from this status")
    @blp.alt_response(403, description="The caller's role or identity may not")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def post(self, data: dict[str, Any], nomination_id: uuid.UUID) -> Any:
        """Take one step of the workflow: `{"action": …, …its fields}`."""
        who = caller()
        key = idempotency_key()
        with runtime().messaging.transaction(defer=after_response) as session:
            answer = service.transition(
                session,
                context(),
                caller=who,
                nomination_id=nomination_id,
                body=data,
                key=key,
                render=NominationOut().dump,
            )
        return jsonify(answer)  # already in NominationOut's shape (stored as such for repeats)


@blp.route("/honours")
class Honours(MethodView):
    @blp.arguments(HonoursQueryArgs, location="query")
    @blp.response(200, HonoursOut)
    def get(self, args: dict[str, Any]) -> Any:
        """The year's roll of good neighbours (魏村好人), in the order they were honoured."""
        with runtime().db.sessions() as session:
            return {"year": args["year"], "honours": service.honours(session, year=args["year"])}
