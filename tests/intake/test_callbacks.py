"""Status callbacks: registered through the API, queued with a status change, POSTed signed.

Deliveries go to a real HTTP server on 127.0.0.1 that records each request and answers as
the test tells it; retries are driven by calling the delivery again, never by sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.clock import FrozenClock
from services.common.contracts import RECORD_REPORT_EVENT
from services.intake import service, tasks
from services.intake.callbacks import delivery
from services.intake.callbacks import tasks as callback_tasks
from services.intake.callbacks.delivery import Result
from services.intake.callbacks.service import DELIVER_CALLBACK
from services.intake.models import CallbackDelivery, OutboxMessage, Report
from services.intake.runtime import IntakeRuntime
from tests import factories, messages
from tests.conftest import NOW
from tests.intake.client import client_for
from tests.outbox import outbox_where

HANG = -1  # a scripted answer: wait past the client's timeout instead of answering
HANG_SECONDS = 1.0
SHORT_TIMEOUT = 0.2


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Partner:
    """A partner's callback endpoint: records every request, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll: shutdown() waits for it, after every test.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/fengqiao"

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (HANG: no answer), then 200."""
        with self._lock:
            self._script.extend(statuses)

    def _next_status(self, received: Received) -> int:
        with self._lock:
            self.requests.append(received)
            return self._script.pop(0) if self._script else 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = partner._next_status(Received(self.path, dict(self.headers), body))
                if status == HANG:
                    time.sleep(HANG_SECONDS)
                    return
                self.send_response(status)
                self.send_header("Location", "/hooks/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output quiet."""

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def partner() -> Iterator[Partner]:
    endpoint = Partner()
    yield endpoint
    endpoint.close()


@pytest.fixture
def client(intake: IntakeRuntime) -> FlaskClient:
    return client_for(intake)


@pytest.fixture
def auth(intake: IntakeRuntime) -> dict[str, str]:
    return {"Authorization": f"Bearer {factories.agency_key(intake)}"}


def register(client: FlaskClient, auth: dict[str, str], url: str) -> str:
    """Register `url` as the agency's callback; returns the signing secret."""
    answer: Any = client.put("/v1/callback", json={"url": url}, headers=auth)
    assert answer.status_code == 200, answer.json
    assert answer.json["url"] == url
    secret: str = answer.json["signing_secret"]
    return secret


def submit(client: FlaskClient, auth: dict[str, str]) -> uuid.UUID:
    """A new dispute of the agency's; returns its id."""
    answer: Any = client.post("/v1/reports", json=factories.dispute(), headers=auth)
    assert answer.status_code == 202
    return uuid.UUID(answer.json["id"])


def record_in(session: Session, runtime: IntakeRuntime, message: dict[str, Any]) -> None:
    service.record_event(session, message=message, now=NOW, messaging=runtime.messaging)


def change(runtime: IntakeRuntime, report_id: uuid.UUID, event: str = "case_opened") -> None:
    """Another service's event for the report, handled as intake's consumer does."""
    message = messages.report_event(report_id, event, NOW + timedelta(minutes=5))
    runtime.messaging.handle_once(
        RECORD_REPORT_EVENT,
        message,
        lambda session, msg: record_in(session, runtime, msg),
        claim_at_commit=True,
    )


def change_then_fail(runtime: IntakeRuntime, report_id: uuid.UUID) -> None:
    """A status change whose transaction fails after the delivery was written."""
    message = messages.report_event(report_id, "case_opened", NOW)
    with runtime.messaging.transaction() as session:
        record_in(session, runtime, message)
        assert len(deliveries_in(session, report_id)) == 1
        raise RuntimeError("the consumer fails after the change")


def deliveries_in(session: Session, report_id: uuid.UUID) -> list[CallbackDelivery]:
    query = select(CallbackDelivery).where(CallbackDelivery.report_id == report_id)
    return list(session.scalars(query.order_by(CallbackDelivery.created_at)))


def deliveries(runtime: IntakeRuntime, report_id: uuid.UUID) -> list[CallbackDelivery]:
    with runtime.db.sessions() as session:
        return deliveries_in(session, report_id)


def delivery_messages(runtime: IntakeRuntime) -> int:
    """How many delivery tasks the outbox holds, for every agency."""
    with runtime.db.sessions() as session:
        count = session.scalar(
            select(func.count()).where(OutboxMessage.task == DELIVER_CALLBACK.task)
        )
    return count or 0


def only_delivery(runtime: IntakeRuntime, report_id: uuid.UUID) -> CallbackDelivery:
    [row] = deliveries(runtime, report_id)
    return row


def clock_of(runtime: IntakeRuntime) -> FrozenClock:
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    return clock


def dispatch(runtime: IntakeRuntime) -> int:
    return delivery.dispatch_due(
        messaging=runtime.messaging,
        clock=runtime.clock,
        redispatch_after=callback_tasks.REDISPATCH_AFTER,
    )


def deliver(
    runtime: IntakeRuntime, delivery_id: uuid.UUID, timeout: float = delivery.TIMEOUT_SECONDS
) -> Result:
    return delivery.deliver(
        db=runtime.db,
        clock=runtime.clock,
        delivery_id=delivery_id,
        allow_private=runtime.rules.callbacks_allow_private,
        timeout=timeout,
    )


def signed_correctly(received: Received, secret: str) -> bool:
    """The check a partner makes, written from the documented recipe alone."""
    parts = dict(part.split("=", 1) for part in received.headers["X-Fengqiao-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + received.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def task_message(runtime: IntakeRuntime, delivery_id: uuid.UUID) -> dict[str, Any]:
    """The message the outbox holds for the delivery, as the worker receives it."""
    [(task, message)] = outbox_where(runtime, "delivery_id", equals=str(delivery_id))
    assert task == DELIVER_CALLBACK.task
    return message


# -- delivery ----------------------------------------------------------------------------


def test_a_status_change_is_posted_with_a_signature_a_partner_can_check(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    secret = register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    queued = only_delivery(intake, report_id)

    assert deliver(intake, queued.id) == Result("delivered")

    [received] = partner.requests
    assert received.path == "/hooks/fengqiao"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "fengqiao-intake"
    assert received.headers["X-Fengqiao-Delivery"] == str(queued.id)
    assert received.headers["X-Fengqiao-Signature"].startswith(f"t={int(NOW.timestamp())},v1=")
    assert signed_correctly(received, secret)
    with intake.db.sessions() as session:
        tracking_code = session.get_one(Report, report_id).tracking_code
    assert json.loads(received.body) == {
        "event": "report.status_changed",
        "report_id": str(report_id),
        "tracking_code": tracking_code,
        "status": "routed",
        "previous_status": "received",
        "at": (NOW + timedelta(minutes=5)).isoformat(),
        "test": False,
    }
    done = only_delivery(intake, report_id)
    assert (done.status, done.attempts, done.delivered_at) == ("delivered", 1, NOW)


def test_a_tampered_body_fails_the_check(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    secret = register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    deliver(intake, only_delivery(intake, report_id).id)

    [received] = partner.requests
    tampered = Received(
        received.path, received.headers, received.body.replace(b"routed", b"closed")
    )
    assert not signed_correctly(tampered, secret)
    assert not signed_correctly(received, secret + "x")


def test_a_status_change_queues_one_delivery_in_its_own_transaction(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)

    change(intake, report_id)

    queued = only_delivery(intake, report_id)
    assert (queued.status, queued.attempts, queued.body["status"]) == ("pending", 0, "routed")
    message = DELIVER_CALLBACK.load(task_message(intake, queued.id))
    assert message["delivery_id"] == queued.id
    assert partner.requests == []  # queued, not sent from the consumer's transaction


def test_a_rolled_back_status_change_queues_nothing(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)

    with pytest.raises(RuntimeError, match="after the change"):
        change_then_fail(intake, report_id)

    assert deliveries(intake, report_id) == []
    assert delivery_messages(intake) == 0
    with intake.db.sessions() as session:
        assert session.get_one(Report, report_id).status == "received"


@pytest.mark.parametrize("event", ["sms_sent", "case_opened"])
def test_an_event_that_does_not_change_the_status_queues_nothing(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner, event: str
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id, "case_accepted")

    change(intake, report_id, event)  # informational, or a status already passed

    assert [d.body["status"] for d in deliveries(intake, report_id)] == ["in_progress"]


def test_without_a_callback_nothing_is_queued(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str]
) -> None:
    report_id = submit(client, auth)

    change(intake, report_id)

    assert deliveries(intake, report_id) == []
    with intake.db.sessions() as session:
        assert session.get_one(Report, report_id).status == "routed"


def test_a_redelivered_task_sends_nothing_twice(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    tasks.register(intake)
    task = intake.celery.tasks[DELIVER_CALLBACK.task]
    message = task_message(intake, only_delivery(intake, report_id).id)

    first = task.apply(kwargs={"message": message})
    again = task.apply(kwargs={"message": message})

    assert (first.get(), again.get()) == ("delivered", "skipped")
    assert len(partner.requests) == 1


def test_a_server_error_is_retried_then_delivered(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    queued = only_delivery(intake, report_id)
    partner.answer(500)

    assert deliver(intake, queued.id) == Result("pending", retry_in=30)
    retried = only_delivery(intake, report_id)
    assert (retried.status, retried.attempts, retried.last_error) == ("pending", 1, "HTTP 500")
    assert deliver(intake, queued.id) == Result("not_due")  # the backoff holds it back

    clock_of(intake).advance(timedelta(seconds=30))
    assert deliver(intake, queued.id) == Result("delivered")
    assert only_delivery(intake, report_id).attempts == 2
    assert [r.headers["X-Fengqiao-Delivery"] for r in partner.requests] == [str(queued.id)] * 2


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_answers_that_may_change_are_retried(
    intake: IntakeRuntime,
    client: FlaskClient,
    auth: dict[str, str],
    partner: Partner,
    status: int,
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    partner.answer(status)

    result = deliver(intake, only_delivery(intake, report_id).id)

    assert result == Result("pending", retry_in=30)
    assert only_delivery(intake, report_id).last_error == f"HTTP {status}"


@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_a_refusal_fails_for_good_without_retry(
    intake: IntakeRuntime,
    client: FlaskClient,
    auth: dict[str, str],
    partner: Partner,
    status: int,
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    queued = only_delivery(intake, report_id)
    partner.answer(status)

    assert deliver(intake, queued.id) == Result("failed")
    assert deliver(intake, queued.id) == Result("skipped")

    assert len(partner.requests) == 1  # a redirect is not followed either
    failed = only_delivery(intake, report_id)
    assert (failed.status, failed.attempts, failed.delivered_at) == ("failed", 1, None)
    assert (failed.last_error or "").startswith(f"HTTP {status}")


def test_a_timeout_is_retried(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    queued = only_delivery(intake, report_id)
    partner.answer(HANG)

    assert deliver(intake, queued.id, timeout=SHORT_TIMEOUT) == Result("pending", retry_in=30)
    assert "Timeout" in (only_delivery(intake, report_id).last_error or "")

    clock_of(intake).advance(timedelta(seconds=30))
    assert deliver(intake, queued.id, timeout=SHORT_TIMEOUT) == Result("delivered")
    assert len(partner.requests) == 2


def test_a_refused_connection_is_retried(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str]
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(client, auth, f"http://127.0.0.1:{port}/hooks")
    report_id = submit(client, auth)
    change(intake, report_id)

    result = deliver(intake, only_delivery(intake, report_id).id)

    assert result == Result("pending", retry_in=30)
    assert "ConnectError" in (only_delivery(intake, report_id).last_error or "")


def test_a_delivery_fails_after_its_last_retry(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    partner.answer(*[500] * 20)
    delivery_id = only_delivery(intake, report_id).id

    results = []
    for _ in range(delivery.MAX_ATTEMPTS):
        results.append(deliver(intake, delivery_id))
        assert deliver(intake, delivery_id).status in ("not_due", "skipped")  # waits, or is over
        clock_of(intake).advance(timedelta(seconds=results[-1].retry_in or 0))

    assert results[-1] == Result("failed")
    assert len(partner.requests) == delivery.MAX_ATTEMPTS == 11
    failed = only_delivery(intake, report_id)
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 11, "HTTP 500")


def test_a_retry_that_comes_due_is_dispatched_and_a_lost_one_again(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    partner.answer(503, 200)
    delivery_id = only_delivery(intake, report_id).id
    clock = clock_of(intake)

    def dispatched_at() -> Any:
        dispatch(intake)  # other tests' deliveries share the database: look at ours only
        return only_delivery(intake, report_id).dispatched_at

    assert deliver(intake, delivery_id) == Result("pending", retry_in=30)
    assert dispatched_at() is None  # not due for 30 s
    clock.advance(timedelta(seconds=30))
    first = clock.now()
    assert dispatched_at() == first
    clock.advance(timedelta(minutes=1))
    assert dispatched_at() == first  # a worker has it now
    clock.advance(callback_tasks.REDISPATCH_AFTER)
    assert dispatched_at() == clock.now()  # that task was lost: queued again
    assert deliver(intake, delivery_id) == Result("delivered")


def test_retries_back_off_from_30_seconds_to_an_hour() -> None:
    delays = [delivery.retry_delay(n) for n in range(1, delivery.MAX_ATTEMPTS)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_a_rotated_secret_and_a_new_url_apply_to_deliveries_already_queued(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    old_secret = register(client, auth, partner.url + "/old")
    report_id = submit(client, auth)
    change(intake, report_id)
    new_secret = register(client, auth, partner.url)

    deliver(intake, only_delivery(intake, report_id).id)

    [received] = partner.requests
    assert new_secret != old_secret
    assert received.path == "/hooks/fengqiao"
    assert signed_correctly(received, new_secret)
    assert not signed_correctly(received, old_secret)


def test_a_callback_removed_after_queueing_sends_nothing(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    register(client, auth, partner.url)
    report_id = submit(client, auth)
    change(intake, report_id)
    assert client.delete("/v1/callback", headers=auth).status_code == 204

    assert deliver(intake, only_delivery(intake, report_id).id) == Result("failed")

    assert partner.requests == []
    assert only_delivery(intake, report_id).last_error == "the agency removed its callback"


# -- API ---------------------------------------------------------------------------------


def test_get_shows_the_url_but_never_the_secret(
    client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    secret = register(client, auth, partner.url)

    answer: Any = client.get("/v1/callback", headers=auth)

    assert answer.status_code == 200
    assert answer.json == {"url": partner.url}
    assert secret not in answer.get_data(as_text=True)


def test_registering_again_rotates_the_secret(
    client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    first = register(client, auth, partner.url)
    second = register(client, auth, partner.url)

    assert first != second
    assert len(second) >= 32


def test_without_a_callback_get_is_404_and_delete_is_204(
    client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    assert client.get("/v1/callback", headers=auth).status_code == 404
    register(client, auth, partner.url)

    assert client.delete("/v1/callback", headers=auth).status_code == 204
    assert client.get("/v1/callback", headers=auth).status_code == 404
    assert client.delete("/v1/callback", headers=auth).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://partner.example/hooks"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https:///hooks"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://partner.example/" + "a" * 477}, "url"),  # 501 characters
        ({"url": None}, "url"),
        ({}, "url"),
        ({"url": "https://partner.example/hooks", "events": ["all"]}, "events"),
    ],
)
def test_a_bad_registration_is_422_naming_the_field(
    client: FlaskClient, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    answer: Any = client.put("/v1/callback", json=body, headers=auth)

    assert answer.status_code == 422
    assert list(answer.json["errors"]["json"]) == [field]
    assert client.get("/v1/callback", headers=auth).status_code == 404


def test_a_url_of_500_characters_is_accepted(client: FlaskClient, auth: dict[str, str]) -> None:
    url = "https://partner.example/" + "a" * (500 - len("https://partner.example/"))
    assert register(client, auth, url)


def test_the_callback_api_needs_an_agency_key(client: FlaskClient) -> None:
    for method in ("get", "put", "delete"):
        answer: Any = getattr(client, method)("/v1/callback", json={"url": "https://x.example/"})
        assert answer.status_code == 401


def test_another_agency_never_sees_or_changes_yours(
    intake: IntakeRuntime, client: FlaskClient, auth: dict[str, str], partner: Partner
) -> None:
    mine = register(client, auth, partner.url)
    other = {"Authorization": f"Bearer {factories.agency_key(intake)}"}

    assert client.get("/v1/callback", headers=other).status_code == 404
    assert client.delete("/v1/callback", headers=other).status_code == 204
    theirs = register(client, other, partner.url + "/theirs")

    answer: Any = client.get("/v1/callback", headers=auth)
    assert answer.json == {"url": partner.url}
    report_id = submit(client, auth)
    change(intake, report_id)
    deliver(intake, only_delivery(intake, report_id).id)
    [received] = partner.requests
    assert received.path == "/hooks/fengqiao"
    assert signed_correctly(received, mine)
    assert not signed_correctly(received, theirs)
