"""`GET /v1/stats`: rewards' figures for a period. HTTP only; the work is in `service.py`."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from services.common.blueprint import Blueprint
from services.rewards.access import Endpoint, guard
from services.rewards.ranges import TimeRange
from services.rewards.runtime import RewardsRuntime
from services.rewards.stats import service

blp = Blueprint("stats", __name__, url_prefix="/v1/stats", description="Rewards' figures")
blp.before_request(guard({("stats.Stats", "GET"): Endpoint.STATS_READ}))


class EnvelopesOut(Schema):
    count = fields.Integer()
    amount_fen = fields.Integer()
    claims_by_status = fields.Dict(keys=fields.String(), values=fields.Integer())


class BudgetOut(Schema):
    period = fields.String()
    budget_fen = fields.Integer()
    paid_fen = fields.Integer()
    reserved_fen = fields.Integer()
    left_fen = fields.Integer()


class StatsOut(Schema):
    from_ = fields.AwareDateTime(data_key="from", attribute="from")
    to = fields.AwareDateTime()
    envelopes = fields.Nested(EnvelopesOut)
    budgets = fields.List(fields.Nested(BudgetOut))


@blp.route("")
class Stats(MethodView):
    @blp.arguments(TimeRange, location="query")
    @blp.response(200, StatsOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Envelopes paid and their amount, claims by status, and each month's budget."""
        rt: RewardsRuntime = current_app.extensions["fengqiao"]
        with rt.db.sessions() as session:
            return service.summary(session, start=args["from_"], end=args["to"], rules=rt.rules)
