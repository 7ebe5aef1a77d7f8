"""The ledger's staff API: entries, budget grants, corrections and the finance export.
HTTP only; the work is in `service.py` and `payouts.py`."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from services.common.blueprint import Blueprint
from services.rewards.access import Endpoint, caller, guard
from services.rewards.ledger import payouts, service
from services.rewards.ledger.schemas import (
    BudgetIn,
    CorrectionIn,
    EntryOut,
    LedgerQueryArgs,
    PayoutQueryArgs,
)
from services.rewards.runtime import RewardsRuntime

blp = Blueprint(
    "ledger",
    __name__,
    url_prefix="/v1",
    description="The append-only ledger, monthly budgets and the finance office's payouts",
)


def runtime() -> RewardsRuntime:
    found: RewardsRuntime = current_app.extensions["fengqiao"]
    return found


blp.before_request(
    guard(
        {
            ("ledger.Ledger", "GET"): Endpoint.LEDGER_READ,
            ("ledger.Correction", "POST"): Endpoint.LEDGER_CORRECT,
            ("ledger.PayoutsCsv", "GET"): Endpoint.PAYOUTS_EXPORT,
            ("ledger.Budgets", "POST"): Endpoint.BUDGETS_WRITE,
        }
    )
)


@blp.route("/ledger")
class Ledger(MethodView):
    @blp.arguments(LedgerQueryArgs, location="query")
    @blp.response(200, EntryOut(many=True))
    def get(self, args: dict[str, Any]) -> list[Any]:
        """Entries written from `from` (included) to `to` (excluded), oldest first."""
        with runtime().db.sessions() as session:
            return service.entries(session, start=args["from_"], end=args["to"])


@blp.route("/ledger/<int:entry_id>/corrections")
class Correction(MethodView):
    @blp.arguments(CorrectionIn, example={"amount_fen": -500, "note": "paid 5 CNY too much"})
    @blp.response(201, EntryOut)
    def post(self, data: dict[str, Any], entry_id: int) -> Any:
        """Put an entry right: a new entry whose amount is added to it (entries never change)."""
        rt = runtime()
        with rt.db.transaction() as session:
            return service.correct(
                session, entry_id=entry_id, by=caller().id, now=rt.clock.now(), **data
            )


@blp.route("/budgets")
class Budgets(MethodView):
    @blp.arguments(BudgetIn, example={"month": "2026-12", "amount_fen": 50000})
    @blp.response(201, EntryOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Grant a month budget (grants add up; a month without one has the default)."""
        rt = runtime()
        with rt.db.transaction() as session:
            return service.grant_budget(session, by=caller().id, now=rt.clock.now(), **data)


@blp.route("/payouts.csv")
class PayoutsCsv(MethodView):
    @blp.arguments(PayoutQueryArgs, location="query")
    @blp.response(200, content_type="text/csv", description="One row per payout")
    def get(self, args: dict[str, Any]) -> Response:
        """The finance office's file (full phones: they pay them). Reading marks nothing;
        `fengqiao payouts export` takes the new orders and marks them exported."""
        start, end = args.get("from_"), args.get("to")
        with runtime().db.sessions() as session:
            if "batch" in args:
                rows = payouts.batch(session, name=args["batch"])
            else:
                rows = payouts.listed(session, status=args.get("status"), start=start, end=end)
            text = payouts.as_csv(rows)
        return Response(
            text,
            mimetype="text/csv",
            headers={
                "Content-Disposition": "attachment; filename=payouts.csv",
                "Cache-Control": "no-store",
            },
        )
