"""Arbitrary JSON and Unicode at every write endpoint of every service, on PostgreSQL:
intake's reports, Open311 forms, callback and residents' lookup; mediation's desks and
calendar; notify's messages, opt-outs and webhooks.

Bodies start from valid ones and have parts replaced by anything: text with lone
surrogates, NUL, control and astral characters; numbers of thousands of digits, NaN,
Infinity; nesting thousands deep; values of the wrong type; fields nobody knows. No answer
may be a server error, a refusal answers in the one error shape, and whatever is accepted
can be read back, listed and routed: the consumer of each message it caused runs and its
row (a case, a claim, a nomination, an SMS) exists. Rewards has no write API yet; it and
mediation's cases are reached through the messages intake sends them.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.common import json_input
from services.common.contracts import OPEN_CASE, OPEN_HAZARD_CLAIM, OPEN_NOMINATION, SEND_SMS
from services.common.phones import normalise_mobile
from services.common.runtime import Runtime
from services.intake.runtime import IntakeRuntime
from services.mediation import tasks as mediation_tasks
from services.mediation.models import Case
from services.mediation.runtime import MediationRuntime
from services.notify import tasks as notify_tasks
from services.notify.delivery import DELIVER_SMS
from services.notify.models import OptOut, SmsMessage
from services.notify.runtime import NotifyRuntime
from services.rewards import tasks as rewards_tasks
from services.rewards.claims.models import HazardClaim
from services.rewards.nominations.models import Nomination
from services.rewards.runtime import RewardsRuntime
from tests import factories, infra
from tests.intake.client import client_for as intake_client
from tests.intake.residents import submit as submit_dispute
from tests.intake.test_open311 import DISPUTE, HAZARD, NOMINATION
from tests.mediation import test_desks_contract
from tests.mediation.desk_client import client_for as desk_client
from tests.mediation.desk_client import staff_headers as desk_staff_headers
from tests.notify.client import TOKEN, staff_headers, with_webhook_providers
from tests.notify.client import client_for as notify_client
from tests.notify.test_api import staff_message
from tests.outbox import outbox_where

pytestmark = [
    pytest.mark.timeout(900),
    # Some bodies are large (5,000 digits, 5,000 levels): hypothesis says so when it shows one.
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]

EXAMPLES = 80


def bounded(test: Callable[..., None]) -> Callable[..., None]:
    """A fixed number of examples; CI replays a fixed sequence, runs elsewhere explore."""
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=infra.IN_CI,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )(test)


# --- What is thrown ----------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A JSON literal written as is (Python could not write it: 5,000 digits, say)."""

    literal: str


@dataclass(frozen=True)
class Nested:
    """`value` inside `depth` arrays (written without recursion: depth may be thousands)."""

    value: Any
    depth: int


SPECIAL_CHARACTERS = list("\ud83d\udfff\x00\x01\x1b\x7f\x85\u2028\n\t\r【】\ufeff\u202e𝕏陈")
# Any printable Unicode (astral, private use, unassigned, format characters): mostly accepted.
PRINTABLE = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40)
TEXT = st.one_of(
    # printable text with one character of trouble in it, so each trouble is met alone
    st.builds("".join, st.tuples(PRINTABLE, st.sampled_from(SPECIAL_CHARACTERS), PRINTABLE)),
    st.text(st.characters() | st.sampled_from(SPECIAL_CHARACTERS), max_size=40),
    st.sampled_from(["", " ", "长" * 300, "x" * 5_000]),
)
NUMBER_LITERALS = ["9" * 5_000, "1" + "0" * 30, "1e999", "-1e400", "1e-400", "NaN", "Infinity"]
NUMBER_LITERALS += ["-Infinity", "0." + "1" * 50, "-0", "123456789012345678", "91", "-181.5"]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | TEXT
    | st.sampled_from(NUMBER_LITERALS).map(Raw)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
DEEP = st.builds(Nested, JSON_VALUES, st.sampled_from([31, 32, 33, 40, 1_000, 5_000]))
ANYTHING = st.one_of(TEXT, TEXT, JSON_VALUES, DEEP)


def to_json(value: Any) -> str:
    """JSON text for `value`; surrogates are escaped (\\ud83d), as a client would send them."""
    if isinstance(value, Raw):
        return value.literal
    if isinstance(value, Nested):
        return "[" * value.depth + to_json(value.value) + "]" * value.depth
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def places(body: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place inside a JSON body that a value could be put, new keys included."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(body, dict):
        found.append((*path, "extra"))
        for key, value in body.items():
            found += [(*path, key), *places(value, (*path, key))]
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found += [(*path, index), *places(value, (*path, index))]
    return found


def at(body: Any, path: tuple[str | int, ...]) -> Any:
    node = body
    for step in path:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return node


def put(body: Any, path: tuple[str | int, ...], value: Any) -> None:
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


# Text that takes nearly anything printable, tried first (the rest have formats).
FREE_TEXT = ("summary", "details", "address", "name", "description", "note", "tracking_code")


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """`base` with some text changed (often still acceptable), or up to three places given
    anything at all; now and then, anything instead of `base`."""
    roll = draw(st.integers(0, 9))  # hypothesis starts from 0: the likeliest to be accepted
    if roll == 9:
        return draw(ANYTHING)
    body = json.loads(json.dumps(base))
    texts = [path for path in places(body) if isinstance(at(body, path), str)]
    texts.sort(key=lambda path: path[-1] not in FREE_TEXT)
    for _ in range(draw(st.integers(1, 3))):
        if roll <= 5 and texts:
            put(body, draw(st.sampled_from(texts)), draw(PRINTABLE | TEXT))
        elif where := places(body):
            put(body, draw(st.sampled_from(where)), draw(ANYTHING))
    return body


REPORTS = st.sampled_from(
    [
        factories.dispute,
        factories.hazard,
        factories.nomination,
        lambda: factories.nomination("good_deed"),
    ]
)


# --- What must hold ----------------------------------------------------------------------


def assert_answered(answer: Any) -> None:
    """Never a server error; a refusal in the one error shape; an answer the services
    themselves could read (it names what was refused without repeating it)."""
    text = answer.get_data(as_text=True)
    assert answer.status_code < 500, text[:2_000]
    try:
        json_input.loads(text)
    except ValueError as exc:
        raise AssertionError(f"{exc}: {text[:2_000]!r}") from exc
    if answer.status_code >= 400:
        body = answer.json
        assert {"code", "status", "message"} <= set(body), body
        assert body["status"] == HTTPStatus(answer.status_code).phrase


def post_json(client: FlaskClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    return client.post(
        url, data=to_json(body).encode(), headers={**headers, "Content-Type": "application/json"}
    )


@dataclass
class System:
    """The four services on the test databases, their consumers registered."""

    intake: IntakeRuntime
    mediation: MediationRuntime
    rewards: RewardsRuntime
    notify: NotifyRuntime

    def consume(self, runtime: Runtime, task: str, payload: dict[str, Any]) -> None:
        """Run the consumer of `task` as a worker would, with the message as stored."""
        runtime.celery.tasks[task].run(message=payload)


@pytest.fixture
def system(
    intake: IntakeRuntime,
    mediation: MediationRuntime,
    rewards: RewardsRuntime,
    notify: NotifyRuntime,
) -> System:
    mediation_tasks.register(mediation)
    rewards_tasks.register(rewards)
    notify_tasks.register(notify)
    return System(intake, mediation, rewards, notify)


OWNED_BY: dict[str, tuple[str, type[Any]]] = {
    OPEN_CASE.task: ("mediation", Case),
    OPEN_HAZARD_CLAIM.task: ("rewards", HazardClaim),
    OPEN_NOMINATION.task: ("rewards", Nomination),
}


def assert_routed(system: System, report_id: str) -> None:
    """Each message intake queued for the report is consumed and leaves its row."""
    queued = outbox_where(system.intake, "report_id", equals=report_id)
    tasks = [task for task, _ in queued]
    assert SEND_SMS.task in tasks, tasks
    for task, payload in queued:
        if task == SEND_SMS.task:
            system.consume(system.notify, task, payload)
            with system.notify.db.sessions() as session:
                key = payload["idempotency_key"]
                sms = session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == key))
                assert sms is not None, payload
            continue
        service, model = OWNED_BY[task]
        runtime = getattr(system, service)
        system.consume(runtime, task, payload)
        with runtime.db.sessions() as session:
            row = session.scalar(select(model).where(model.report_id == uuid.UUID(report_id)))
            assert row is not None, payload


def agency(system: System) -> dict[str, str]:
    """The headers of a new agency: each example has its own reports and rate limit."""
    return {"Authorization": f"Bearer {factories.agency_key(system.intake)}"}


def assert_readable(client: FlaskClient, auth: dict[str, str], report_id: str) -> None:
    one: Any = client.get(f"/v1/reports/{report_id}", headers=auth)
    listed: Any = client.get("/v1/reports?page_size=100", headers=auth)
    assert one.status_code == 200, one.get_data(as_text=True)[:2_000]
    assert listed.status_code == 200, listed.get_data(as_text=True)[:2_000]
    assert report_id in [r["id"] for r in listed.json]


# --- intake ------------------------------------------------------------------------------


def test_reports_take_anything_without_a_server_error(system: System) -> None:
    client = intake_client(system.intake)
    accepted = 0

    @bounded
    @given(data=st.data())
    def submit(data: st.DataObject) -> None:
        nonlocal accepted
        auth = agency(system)
        body = data.draw(REPORTS.flatmap(lambda make: mutated(make())))
        answer = post_json(client, "/v1/reports", body, auth)
        assert_answered(answer)
        if answer.status_code == 202:
            accepted += 1
            assert_readable(client, auth, answer.json["id"])
            assert_routed(system, answer.json["id"])

    submit()
    assert accepted > 0  # the bodies are not all refused: acceptance was tried too


OPEN311_FORMS = st.sampled_from([DISPUTE, HAZARD, NOMINATION])


@st.composite
def forms(draw: st.DrawFn) -> dict[str, str]:
    """An Open311 form with up to three fields (known or not) given arbitrary text."""
    form = dict(draw(OPEN311_FORMS))
    if form["service_code"] == "hazard":
        form["address_string"] = f"出租屋 {uuid.uuid4().hex[:8]}"  # nobody's duplicate
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from([*form, "email", "attribute[colour]", "media_url"]))
        form[field] = draw(PRINTABLE | TEXT | st.sampled_from(NUMBER_LITERALS))
    return form


def test_open311_takes_any_form_without_a_server_error(system: System) -> None:
    client = intake_client(system.intake)

    @bounded
    @given(form=forms())
    def submit(form: dict[str, str]) -> None:
        auth = agency(system)
        key = auth["Authorization"].removeprefix("Bearer ")
        # Lone surrogates go as the bytes a careless client would send (CESU-8).
        encoded = urllib.parse.urlencode(
            {**form, "api_key": key}, encoding="utf-8", errors="surrogatepass"
        )
        answer: Any = client.post(
            "/open311/v2/requests.json",
            data=encoded.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code < 500, answer.get_data(as_text=True)[:2_000]
        if answer.status_code == 201:
            [created] = answer.json
            report_id = created["service_request_id"]
            one: Any = client.get(f"/open311/v2/requests/{report_id}.json?api_key={key}")
            assert one.status_code == 200
            assert_readable(client, auth, report_id)
            assert_routed(system, report_id)
        else:
            assert all({"code", "description"} == set(entry) for entry in answer.json)

    submit()


def test_callback_registration_takes_anything_without_a_server_error(system: System) -> None:
    client = intake_client(system.intake)
    urls = ANYTHING | TEXT.map(lambda text: f"https://partner.example/{text}")

    @bounded
    @given(
        body=st.one_of(urls.map(lambda url: {"url": url}), mutated({"url": "https://a.example/"}))
    )
    def register(body: Any) -> None:
        auth = agency(system)
        answer: Any = client.put(
            "/v1/callback",
            data=to_json(body).encode(),
            headers={**auth, "Content-Type": "application/json"},
        )
        assert_answered(answer)
        if answer.status_code == 200:
            stored: Any = client.get("/v1/callback", headers=auth)
            assert stored.status_code == 200
            assert stored.json["url"] == answer.json["url"]

    register()


def test_the_lookup_takes_anything_without_a_server_error(system: System) -> None:
    behind_console = replace(system.intake, rules=replace(system.intake.rules, trusted_proxies=1))
    client = intake_client(behind_console)
    report = submit_dispute(behind_console)
    pair = {"tracking_code": report.tracking_code, "phone_last4": report.reporter_phone[-4:]}
    addresses = iter(ipaddress.ip_network("198.18.0.0/16").hosts())
    found = 0

    @bounded
    @given(body=st.one_of(st.just(pair), mutated(pair)))
    def look_up(body: Any) -> None:
        nonlocal found
        # Each example from an address of its own, so the address's limit is not all it meets.
        forwarded = {"X-Forwarded-For": str(next(addresses))}
        answer = post_json(client, "/v1/lookup", body, forwarded)
        assert_answered(answer)
        assert answer.status_code in (200, 400, 404, 422, 429), answer.get_data(as_text=True)[
            :2_000
        ]
        if answer.status_code == 200:
            found += 1
            assert answer.json["tracking_code"] == report.tracking_code

    look_up()
    assert found > 0  # the right pair was tried too


# --- mediation ---------------------------------------------------------------------------

# Desks and calendar dates change what other tests book: these run on a database of their own.
own_mediation = test_desks_contract.own_mediation

DESK = {
    "name": "周末调解点",
    "calendar": "weekdays",
    "weekdays": [6, 7],
    "opens": "09:00",
    "closes": "12:00",
    "session_minutes": 60,
    "parallel": 1,
}
DAYS = {"days": [{"date": "2031-05-06", "working": True, "note": "调休\n上班"}]}


def test_desks_and_the_calendar_take_anything_without_a_server_error(
    own_mediation: MediationRuntime,
) -> None:
    client = desk_client(own_mediation)
    headers = desk_staff_headers(own_mediation, "ops")
    accepted = 0

    @bounded
    @given(desk=mutated(DESK), days=mutated(DAYS))
    def change(desk: Any, days: Any) -> None:
        nonlocal accepted
        code = f"fuzz-{uuid.uuid4().hex[:8]}"
        for url, body in ((f"/v1/desks/{code}", desk), ("/v1/calendar/days", days)):
            answer: Any = client.put(
                url,
                data=to_json(body).encode(),
                headers={**headers, "Content-Type": "application/json"},
            )
            assert_answered(answer)
            if answer.status_code == 200:
                accepted += 1
                read: Any = client.get(url if "desks" in url else "/v1/calendar", headers=headers)
                listed: Any = client.get("/v1/desks", headers=headers)
                assert read.status_code == listed.status_code == 200

    change()
    assert accepted > 0


# --- notify ------------------------------------------------------------------------------


def test_the_ops_api_takes_anything_without_a_server_error(system: System) -> None:
    client, headers = notify_client(system.notify), staff_headers(system.notify)
    accepted = 0

    @bounded
    @given(data=st.data())
    def send(data: st.DataObject) -> None:
        nonlocal accepted
        body = data.draw(mutated(staff_message()))
        answer = post_json(client, "/v1/messages", body, headers)
        assert_answered(answer)
        if answer.status_code != 202:
            return
        accepted += 1
        sms_id = answer.json["id"]
        one: Any = client.get(f"/v1/messages/{sms_id}", headers=headers)
        listed: Any = client.get("/v1/messages?page_size=100", headers=headers)
        assert one.status_code == listed.status_code == 200
        assert sms_id in [m["id"] for m in listed.json]
        for task, payload in outbox_where(system.notify, "sms_id", equals=sms_id):
            assert task == DELIVER_SMS.task
            system.consume(system.notify, task, payload)
        with system.notify.db.sessions() as session:
            sms = session.get_one(SmsMessage, uuid.UUID(sms_id))
            assert sms.status in ("sent", "failed") or sms.due_at is not None, sms.status

    send()
    assert accepted > 0


def test_opt_outs_take_anything_without_a_server_error(system: System) -> None:
    client, headers = notify_client(system.notify), staff_headers(system.notify)
    raw = {**headers, "Content-Type": "application/json"}

    @bounded
    @given(phone=st.one_of(st.just(""), TEXT), body=mutated({"note": "电话里说不要再发"}))
    def opt_out(phone: str, body: Any) -> None:
        # A fresh number unless the draw changed it: random numbers stay off the list.
        number = phone or factories.fresh_number()
        path = urllib.parse.quote(number, safe="", errors="surrogatepass")
        answer: Any = client.put(f"/v1/opt-outs/{path}", data=to_json(body).encode(), headers=raw)
        assert_answered(answer)
        if answer.status_code == 200:
            listed: Any = client.get("/v1/opt-outs", headers=headers)
            assert listed.status_code == 200
            with system.notify.db.sessions() as session:
                assert session.get(OptOut, normalise_mobile(number)) is not None
            assert client.delete(f"/v1/opt-outs/{path}", headers=headers).status_code == 204

    opt_out()


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_the_webhooks_take_anything_without_a_server_error(
    system: System, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    client = notify_client(with_webhook_providers(system.notify, monkeypatch))
    number = factories.fresh_number().removeprefix("+86")  # a TD opts only this one out
    push_item = {  # what both providers push, receipts and replies, in one object
        "phone_number": number,
        "send_time": "2026-11-28 12:00:01",
        "report_time": "2026-11-28 12:00:05",
        "success": True,
        "biz_id": "932702304080415357^0",
        "out_id": str(uuid.uuid4()),
        "content": "好的",
        "nationcode": "86",
        "mobile": number,
        "text": "好的",
        "time": 1764302409,
        "report_status": "SUCCESS",
        "sid": "2019:538884*********",
    }

    @bounded
    @given(body=mutated([push_item]), kind=st.sampled_from(["receipts", "inbound"]))
    def push(body: Any, kind: str) -> None:
        answer: Any = client.post(
            f"/v1/providers/{provider}/{kind}?token={TOKEN}", data=to_json(body).encode()
        )
        assert_answered(answer)

    push()
