"""Notify's HTTP side: the staff (ops) API and the providers' webhooks."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from environs import Env
from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import abort

from services.common.blueprint import Blueprint, one_page
from services.common.phones import normalise_mobile
from services.common.staff_auth import require_staff
from services.notify import optouts, receipts, service
from services.notify.models import OptOut
from services.notify.providers.base import SmsProvider
from services.notify.runtime import NotifyRuntime
from services.notify.schemas import (
    MessageIn,
    MessageOut,
    MessageQueryArgs,
    OptOutIn,
    OptOutOut,
    StatsOut,
    StatsQueryArgs,
    WebhookArgs,
)

ops = Blueprint("messages", __name__, url_prefix="/v1", description="SMS for staff and ops")
ops.before_request(require_staff("ops"))

webhooks = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/providers",
    description="Delivery receipts and replies, pushed by the SMS providers",
)


def _runtime() -> NotifyRuntime:
    runtime: NotifyRuntime = current_app.extensions["fengqiao"]
    return runtime


@ops.route("/messages")
class Messages(MethodView):
    @ops.arguments(MessageQueryArgs, location="query")
    @ops.response(200, MessageOut(many=True))
    @ops.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """Messages, newest first (numbers masked)."""
        return one_page(_runtime().db, service.list_messages, pagination_parameters, **args)

    @ops.arguments(MessageIn)
    @ops.response(202, MessageOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Send an SMS; one idempotency key gives one message, ever."""
        runtime = _runtime()
        request_body = {**data, "message_id": uuid.uuid4(), "report_id": None, "test": False}
        with runtime.messaging.transaction() as session:
            return service.accept_request(
                session,
                request=request_body,
                signature=runtime.signature,
                messaging=runtime.messaging,
                rules=runtime.rules,
                now=runtime.clock.now(),
            )


@ops.route("/messages/stats")
class Stats(MethodView):
    @ops.arguments(StatsQueryArgs, location="query")
    @ops.response(200, StatsOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """How many messages are in each status (test messages left out)."""
        with _runtime().db.sessions() as session:
            return {"counts": service.status_counts(session, since=args.get("since"))}


@ops.route("/messages/<uuid:sms_id>")
class Message(MethodView):
    @ops.response(200, MessageOut)
    def get(self, sms_id: uuid.UUID) -> Any:
        """One message (number masked)."""
        with _runtime().db.sessions() as session:
            return service.get_message(session, sms_id=sms_id)


@ops.route("/messages/<uuid:sms_id>/resend")
class Resend(MethodView):
    @ops.response(201, MessageOut)
    @ops.alt_response(409, description="Only a failed message can be resent")
    def post(self, sms_id: uuid.UUID) -> Any:
        """Send a failed message again, as a new message linked to it."""
        runtime = _runtime()
        with runtime.messaging.transaction() as session:
            return service.resend(
                session,
                sms_id=sms_id,
                messaging=runtime.messaging,
                rules=runtime.rules,
                now=runtime.clock.now(),
            )


def _phone(raw: str) -> str:
    try:
        return normalise_mobile(raw)
    except ValueError as exc:
        abort(422, errors={"path": {"phone": [str(exc)]}})
        raise  # unreachable: abort raises


@ops.route("/opt-outs")
class OptOuts(MethodView):
    @ops.response(200, OptOutOut(many=True))
    @ops.paginate()
    def get(self, pagination_parameters: Any) -> list[Any]:
        """Numbers that get no SMS (masked), newest first."""
        return one_page(_runtime().db, optouts.page, pagination_parameters)


@ops.route("/opt-outs/<phone>")
class OptOutItem(MethodView):
    @ops.arguments(OptOutIn)
    @ops.response(200, OptOutOut)
    def put(self, data: dict[str, Any], phone: str) -> OptOut:
        """Stop all SMS to a number (the resident asked staff)."""
        runtime, number = _runtime(), _phone(phone)
        with runtime.db.transaction() as session:
            optouts.add(
                session,
                phone=number,
                source=f"staff:{g.staff.id}",
                note=data.get("note"),
                now=runtime.clock.now(),
            )
            return session.get_one(OptOut, number)

    @ops.response(204)
    def delete(self, phone: str) -> None:
        """Let a number receive SMS again (the resident asked staff)."""
        with _runtime().db.transaction() as session:
            if not optouts.remove(session, phone=_phone(phone)):
                abort(404, message="this number is not on the opt-out list")


def _provider_or_404(name: str) -> SmsProvider:
    provider = _runtime().deliverer.provider(name)
    if provider is None:
        abort(404, message=f"no provider {name!r} is configured")
        raise LookupError(name)  # unreachable: abort raises
    return provider


def _check_webhook_token(args: dict[str, Any]) -> None:
    """Providers push without signing, so the URL given to them carries a secret token."""
    expected = Env().str("NOTIFY_WEBHOOK_TOKEN", "")
    if not expected or not hmac.compare_digest(args["token"].encode(), expected.encode()):
        abort(403, message="bad webhook token")


def _parse(name: str, args: dict[str, Any], kind: str) -> tuple[SmsProvider, list[Any]]:
    """Check the URL's token, then parse the call with provider `name`'s own parser."""
    _check_webhook_token(args)
    provider = _provider_or_404(name)
    parse = provider.parse_receipts if kind == "receipts" else provider.parse_inbound
    try:
        return provider, list(parse(request.get_data(), dict(request.headers)))
    except ValueError as exc:
        abort(400, message=str(exc))
        raise  # unreachable: abort raises


@webhooks.route("/<name>/receipts")
class Receipts(MethodView):
    @webhooks.arguments(WebhookArgs, location="query")
    @webhooks.doc(security=[])
    def post(self, args: dict[str, Any], name: str) -> tuple[dict[str, Any], int]:
        """Delivery receipts from provider `name` (their own JSON shape)."""
        runtime = _runtime()
        provider, parsed = _parse(name, args, "receipts")
        with runtime.messaging.transaction() as session:
            receipts.record_receipts(
                session,
                provider=name,
                receipts=parsed,
                messaging=runtime.messaging,
                now=runtime.clock.now(),
            )
        return provider.webhook_answer()


@webhooks.route("/<name>/inbound")
class Inbound(MethodView):
    @webhooks.arguments(WebhookArgs, location="query")
    @webhooks.doc(security=[])
    def post(self, args: dict[str, Any], name: str) -> tuple[dict[str, Any], int]:
        """Replies from residents via provider `name`; TD (退订) opts the sender out, CX
        (查询) or a 查询码 asks for a report's status, answered by SMS."""
        runtime = _runtime()
        provider, parsed = _parse(name, args, "inbound")
        with runtime.messaging.transaction() as session:
            receipts.record_inbound(
                session,
                provider=name,
                replies=parsed,
                messaging=runtime.messaging,
                now=runtime.clock.now(),
            )
        return provider.webhook_answer()
