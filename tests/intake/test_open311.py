"""Open311 GeoReport v2 on `/open311/v2`: discovery, submission, following, errors."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services.common.clock import FrozenClock
from services.intake.models import ApiKey, OutboxMessage, Report, ReportEvent
from services.intake.open311.mapping import DEFAULT_REQUESTS
from services.intake.rules import IntakeRules
from services.intake.runtime import IntakeRuntime
from services.intake.schemas import HAZARD_CATEGORIES, STATUSES
from tests import factories
from tests.intake.client import client_for

BASE = "/open311/v2"
DISPUTE = {
    "service_code": "dispute",
    "description": "兄弟俩为共用地块的边界起了争执，都说水沟归自己。",
    "lat": "32.0",
    "long": "119.9",
    "address_string": "三组田间",
    "phone": "+86 138-0013-8000",
    "first_name": "先生",
    "last_name": "陈",
    "attribute[village]": "weicun-3",
    "attribute[occurred_at]": "2026-11-20T09:30:00+08:00",
    "attribute[claimant_name]": "陈大哥",
    "attribute[claimant_phone]": "13900139000",
    "attribute[respondent_name]": "陈二弟",
    "attribute[respondent_phone]": "13700137000",
}
HAZARD = {
    "service_code": "hazard",
    "description": "出租屋电线下垂",
    "phone": "13700137003",
    "attribute[village]": "weicun-5",
    "attribute[hazard_category]": "wiring",
    "attribute[severity]": "medium",
}
NOMINATION = {
    "service_code": "brave_act",
    "description": "Pulled a child out of the river",
    "phone": "13500135005",
    "first_name": "Wang",
    "last_name": "Shifu",
    "attribute[village]": "weicun-7",
    "attribute[occurred_at]": "2026-11-23T16:30:00+08:00",
    "attribute[nominee_name]": "张先生",
    "attribute[nominee_phone]": "13500135006",
}
PHONE_LIKE = re.compile(r"1[3-9]\d(\d{4}|\*{4})\d{4}")


@pytest.fixture
def client(intake: IntakeRuntime) -> FlaskClient:
    return client_for(intake)


@pytest.fixture
def key(intake: IntakeRuntime) -> str:
    return factories.agency_key(intake)


def changed(form: dict[str, str], **changes: str | None) -> dict[str, str]:
    """`form` with fields replaced, added or (None) left out; `attribute_x` is attribute[x]."""
    result = dict(form)
    for name, value in changes.items():
        field = (
            f"attribute[{name.removeprefix('attribute_')}]"
            if name.startswith("attribute_")
            else name
        )
        if value is None:
            result.pop(field, None)
        else:
            result[field] = value
    return result


def submit(client: FlaskClient, key: str, form: dict[str, str]) -> Any:
    return client.post(f"{BASE}/requests.json", data={**form, "api_key": key})


def submitted_id(client: FlaskClient, key: str, form: dict[str, str]) -> str:
    answer = submit(client, key, form)
    assert answer.status_code == 201, answer.json
    request_id: str = answer.json[0]["service_request_id"]
    return request_id


def one(client: FlaskClient, key: str, request_id: str) -> Any:
    return client.get(f"{BASE}/requests/{request_id}.json", query_string={"api_key": key})


def listed(client: FlaskClient, key: str, **query: str) -> Any:
    return client.get(f"{BASE}/requests.json", query_string={"api_key": key, **query})


def assert_open311_error(answer: Any, status: int) -> list[str]:
    """The answer is Open311's error array with this status; returns the descriptions."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert isinstance(answer.json, list) and answer.json
    assert all(entry["code"] == status for entry in answer.json)
    return [entry["description"] for entry in answer.json]


# -- discovery ---------------------------------------------------------------------------


def test_services_are_the_four_kinds_and_need_no_key(client: FlaskClient) -> None:
    answer: Any = client.get(f"{BASE}/services.json")

    assert answer.status_code == 200
    assert [s["service_code"] for s in answer.json] == [
        "dispute",
        "hazard",
        "brave_act",
        "good_deed",
    ]
    for entry in answer.json:
        assert entry["metadata"] is True
        assert entry["type"] == "realtime"
        assert entry["service_name"] and entry["keywords"] and entry["group"]


@pytest.mark.parametrize(
    ("code", "own"),
    [
        ("dispute", ["claimant_name", "claimant_phone", "respondent_name", "respondent_phone"]),
        ("hazard", ["hazard_category", "severity"]),
        ("brave_act", ["nominee_name", "nominee_phone"]),
        ("good_deed", ["nominee_name", "nominee_phone"]),
    ],
)
def test_a_service_definition_lists_its_attributes(
    client: FlaskClient, code: str, own: list[str]
) -> None:
    answer: Any = client.get(f"{BASE}/services/{code}.json")

    assert answer.status_code == 200
    assert answer.json["service_code"] == code
    attributes = answer.json["attributes"]
    assert [a["code"] for a in attributes] == ["village", "occurred_at", *own]
    assert [a["order"] for a in attributes] == list(range(1, len(attributes) + 1))
    assert all(a["variable"] is True for a in attributes)
    village, occurred_at = attributes[0], attributes[1]
    assert (village["datatype"], village["required"]) == ("singlevaluelist", True)
    assert [v["key"] for v in village["values"]] == [f"weicun-{n}" for n in range(1, 9)]
    assert village["values"][2]["name"] == "魏村三组"
    assert (occurred_at["datatype"], occurred_at["required"]) == ("datetime", False)


def test_the_hazard_lists_are_the_json_apis(client: FlaskClient) -> None:
    answer: Any = client.get(f"{BASE}/services/hazard.json")
    attributes = {a["code"]: a for a in answer.json["attributes"]}

    assert [v["key"] for v in attributes["hazard_category"]["values"]] == list(HAZARD_CATEGORIES)
    assert [v["key"] for v in attributes["severity"]["values"]] == ["low", "medium", "high"]
    assert attributes["hazard_category"]["required"] and attributes["severity"]["required"]


def test_an_unknown_service_definition_is_404(client: FlaskClient) -> None:
    (description,) = assert_open311_error(client.get(f"{BASE}/services/rumour.json"), 404)
    assert "rumour" in description


# -- submitting --------------------------------------------------------------------------


def test_a_form_is_stored_like_a_json_report_and_routed(
    client: FlaskClient, key: str, intake: IntakeRuntime
) -> None:
    answer = submit(client, key, DISPUTE)

    assert answer.status_code == 201
    (body,) = answer.json
    assert set(body) == {"service_request_id", "service_notice", "account_id"}
    assert body["account_id"] is None
    with intake.db.sessions() as session:
        report = session.get_one(Report, uuid.UUID(body["service_request_id"]))
        tasks = session.scalars(
            select(OutboxMessage.task).where(
                OutboxMessage.payload["report_id"].as_string() == str(report.id)
            )
        ).all()
    assert report.tracking_code in body["service_notice"]
    assert (report.kind, report.status) == ("dispute", "received")
    assert report.summary == report.details == DISPUTE["description"]
    assert report.occurred_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    assert (report.village, report.address, report.lat, report.lon) == (
        "weicun-3",
        "三组田间",
        32.0,
        119.9,
    )
    assert report.reporter == {"name": "陈先生", "phone": "+8613800138000"}
    assert report.parties == [
        {"name": "陈大哥", "phone": "+8613900139000", "role": "claimant"},
        {"name": "陈二弟", "phone": "+8613700137000", "role": "respondent"},
    ]
    assert sorted(tasks) == ["mediation.open_case", "notify.send_sms"]


@pytest.mark.parametrize(
    ("form", "task"),
    [
        (HAZARD, "rewards.open_hazard_claim"),
        (NOMINATION, "rewards.open_nomination"),
        (changed(NOMINATION, service_code="good_deed"), "rewards.open_nomination"),
    ],
)
def test_each_service_is_routed_to_its_owner(
    client: FlaskClient, key: str, intake: IntakeRuntime, form: dict[str, str], task: str
) -> None:
    request_id = submitted_id(client, key, form)

    with intake.db.sessions() as session:
        report = session.get_one(Report, uuid.UUID(request_id))
        tasks = session.scalars(
            select(OutboxMessage.task).where(
                OutboxMessage.payload["report_id"].as_string() == request_id
            )
        ).all()
    assert report.kind == form["service_code"]
    assert sorted(tasks) == sorted([task, "notify.send_sms"])
    if report.kind == "hazard":
        assert report.hazard == {"category": "wiring", "severity": "medium"}
    else:
        assert report.nominee == {"name": "张先生", "phone": "+8613500135006"}
        assert report.reporter["name"] == "Wang Shifu"  # not Chinese: first name first


def test_a_long_description_is_summarised_and_kept_whole(
    client: FlaskClient, key: str, intake: IntakeRuntime
) -> None:
    text = "边界" * 150
    request_id = submitted_id(client, key, changed(DISPUTE, description=text))

    with intake.db.sessions() as session:
        report = session.get_one(Report, uuid.UUID(request_id))
    assert (report.summary, report.details) == (text[:200], text)
    assert one(client, key, request_id).json[0]["description"] == text


def test_occurred_at_defaults_to_now_and_empty_fields_count_as_absent(
    client: FlaskClient, key: str, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    form = changed(HAZARD, lat="", long="", address_string="", email="", attribute_occurred_at="")
    request_id = submitted_id(client, key, form)

    with intake.db.sessions() as session:
        report = session.get_one(Report, uuid.UUID(request_id))
    assert report.occurred_at == clock.now()
    assert (report.lat, report.lon, report.address) == (None, None, None)


def test_standard_fields_without_a_place_are_accepted(client: FlaskClient, key: str) -> None:
    form = changed(
        DISPUTE,
        jurisdiction_id="weicun",
        email="chen@example.cn",
        device_id="abc",
        account_id="7",
        media_url="https://example.cn/p.jpg",
    )
    assert submit(client, key, form).status_code == 201


def test_a_multipart_form_works_too(client: FlaskClient, key: str) -> None:
    answer = client.post(
        f"{BASE}/requests.json",
        data={**HAZARD, "api_key": key},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201


# -- refusing ----------------------------------------------------------------------------


@pytest.mark.parametrize("api_key", [None, "", "fq_nokey_nosecret", "not-a-key", "fq_"])
def test_a_missing_or_bad_key_is_403(client: FlaskClient, api_key: str | None) -> None:
    form = dict(DISPUTE) if api_key is None else {**DISPUTE, "api_key": api_key}
    query = {} if api_key is None else {"api_key": api_key}

    posted = client.post(f"{BASE}/requests.json", data=form)
    listing = client.get(f"{BASE}/requests.json", query_string=query)
    single = client.get(f"{BASE}/requests/{uuid.uuid4()}.json", query_string=query)

    for answer in (posted, listing, single):
        (description,) = assert_open311_error(answer, 403)
        assert "api_key" in description


def test_a_wrong_secret_or_revoked_key_is_403(
    client: FlaskClient, key: str, intake: IntakeRuntime
) -> None:
    assert_open311_error(submit(client, key[:-4] + "AAAA", DISPUTE), 403)
    with intake.db.transaction() as session:
        session.get_one(
            ApiKey, key.removeprefix("fq_").split("_", 1)[0]
        ).revoked_at = intake.clock.now()
    assert_open311_error(submit(client, key, DISPUTE), 403)


def test_an_unknown_service_code_is_404_and_a_missing_one_400(
    client: FlaskClient, key: str
) -> None:
    (unknown,) = assert_open311_error(submit(client, key, changed(DISPUTE, service_code="x")), 404)
    (missing,) = assert_open311_error(submit(client, key, changed(DISPUTE, service_code=None)), 400)
    assert unknown.startswith("service_code") and missing.startswith("service_code")


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        (changed(DISPUTE, attribute_village=None), "attribute[village]", "Missing data"),
        (changed(DISPUTE, attribute_village="atlantis"), "attribute[village]", "'atlantis'"),
        (changed(DISPUTE, phone="12345"), "phone", "not a Chinese mobile"),
        (changed(DISPUTE, phone=None), "phone", "Missing data"),
        (changed(DISPUTE, attribute_claimant_phone="555"), "attribute[claimant_phone]", "mobile"),
        (changed(DISPUTE, attribute_respondent_name=None), "attribute[respondent_name]", "Missing"),
        (changed(HAZARD, attribute_severity="extreme"), "attribute[severity]", "Must be one of"),
        (changed(HAZARD, attribute_hazard_category=None), "attribute[hazard_category]", "Missing"),
        (changed(NOMINATION, attribute_nominee_phone=None), "attribute[nominee_phone]", "Missing"),
        (
            changed(DISPUTE, attribute_occurred_at="2026-12-30T09:30:00+08:00"),
            "attribute[occurred_at]",
            "future",
        ),
        (
            changed(DISPUTE, attribute_occurred_at="2026-11-20T09:30:00"),
            "attribute[occurred_at]",
            "aware",
        ),
        (
            changed(NOMINATION, attribute_occurred_at="2025-11-01T10:00:00+08:00"),
            "attribute[occurred_at]",
            "one year",
        ),
        (changed(DISPUTE, lat="north"), "lat", "number"),
        (changed(DISPUTE, long="200"), "long", "180"),
        (changed(DISPUTE, description=None), "description", "Missing data"),
        (changed(DISPUTE, description="长" * 4001), "description", "4000"),
        (changed(DISPUTE, first_name="名" * 30, last_name="姓" * 30), "first_name/last_name", "50"),
        (changed(DISPUTE, colour="blue"), "colour", "unknown field"),
        (changed(DISPUTE, attribute_severity="high"), "attribute[severity]", "not an attribute"),
        (changed(HAZARD, attribute_colour="blue"), "attribute[colour]", "not an attribute"),
    ],
)
def test_each_bad_field_is_a_400_naming_it(
    client: FlaskClient, key: str, form: dict[str, str], field: str, says: str
) -> None:
    (description,) = assert_open311_error(submit(client, key, form), 400)
    assert description.startswith(f"{field}: ")
    assert says in description


def test_every_bad_field_is_named_once_in_one_400(
    client: FlaskClient, key: str, intake: IntakeRuntime
) -> None:
    form = changed(
        DISPUTE,
        phone="12345",
        lat="north",
        colour="blue",
        attribute_village="atlantis",
        attribute_claimant_name=None,
    )
    descriptions = assert_open311_error(submit(client, key, form), 400)

    assert sorted(d.split(": ", 1)[0] for d in descriptions) == sorted(
        ["colour", "lat", "phone", "attribute[village]", "attribute[claimant_name]"]
    )
    assert "attribute[village]: unknown village 'atlantis'" in descriptions
    with intake.db.sessions() as session:  # nothing stored
        assert not session.scalars(select(Report).where(Report.village == "atlantis")).all()


def test_a_field_given_twice_is_a_400(client: FlaskClient, key: str) -> None:
    body = f"api_key={key}&service_code=hazard&description=x&phone=13700137003"
    body += "&attribute[village]=weicun-5&attribute[village]=weicun-6"
    body += "&attribute[hazard_category]=gas&attribute[severity]=low"
    answer = client.post(
        f"{BASE}/requests.json", data=body, content_type="application/x-www-form-urlencoded"
    )
    (description,) = assert_open311_error(answer, 400)
    assert description == "attribute[village]: given more than once"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [('{"service_code": "dispute"}', "application/json"), ("service_code=dispute", "text/plain")],
)
def test_a_body_that_is_not_a_form_is_400(
    client: FlaskClient, key: str, data: str, content_type: str
) -> None:
    answer = client.post(
        f"{BASE}/requests.json",
        data=data,
        content_type=content_type,
        query_string={"api_key": key},
    )
    (description,) = assert_open311_error(answer, 400)
    assert "form-encoded" in description


def test_a_file_upload_is_400(client: FlaskClient, key: str) -> None:
    from io import BytesIO

    answer = client.post(
        f"{BASE}/requests.json",
        data={**HAZARD, "api_key": key, "media": (BytesIO(b"jpeg"), "p.jpg")},
        content_type="multipart/form-data",
    )
    assert assert_open311_error(answer, 400) == ["media: file uploads are not accepted"]


def test_a_body_over_64_kib_is_an_open311_413(client: FlaskClient, key: str) -> None:
    answer = submit(client, key, changed(DISPUTE, description="长" * 30_000))
    assert_open311_error(answer, 413)


def test_an_agency_over_its_rate_gets_429_with_retry_after(intake: IntakeRuntime) -> None:
    runtime = replace(intake, rules=IntakeRules(rate_limit="2/minute"))
    client, key = client_for(runtime), factories.agency_key(runtime)

    answers = [submit(client, key, HAZARD), listed(client, key), listed(client, key)]

    assert [a.status_code for a in answers] == [201, 200, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    (description,) = assert_open311_error(answers[2], 429)
    assert "rate limit" in description


# -- following ---------------------------------------------------------------------------


def test_a_request_reads_back_without_phones(client: FlaskClient, key: str) -> None:
    request_id = submitted_id(client, key, DISPUTE)

    answer = one(client, key, request_id)

    assert answer.status_code == 200
    (request,) = answer.json
    assert request["service_request_id"] == request_id
    assert request["status"] == "open"
    assert request["status_notes"].startswith("accepted with tracking code WC")
    assert (request["service_code"], request["service_name"]) == ("dispute", "矛盾纠纷 Dispute")
    assert request["description"] == DISPUTE["description"]
    assert request["agency_responsible"] == "魏村派出所"
    assert (
        request["requested_datetime"] == request["updated_datetime"] == "2026-11-28T04:00:00+00:00"
    )
    assert request["address"] == "魏村三组 三组田间"
    assert (request["lat"], request["long"], request["media_url"]) == (32.0, 119.9, None)
    assert not PHONE_LIKE.search(answer.get_data(as_text=True))


def test_another_agencys_or_an_unknown_request_is_404(
    client: FlaskClient, key: str, intake: IntakeRuntime
) -> None:
    request_id = submitted_id(client, key, DISPUTE)
    stranger = factories.agency_key(intake)

    assert_open311_error(one(client, stranger, request_id), 404)
    assert_open311_error(one(client, key, str(uuid.uuid4())), 404)
    assert_open311_error(one(client, key, "not-an-id"), 404)
    assert one(client, key, request_id).status_code == 200


@pytest.mark.parametrize("status", STATUSES)
def test_internal_statuses_map_to_open_or_closed(
    client: FlaskClient, key: str, intake: IntakeRuntime, status: str
) -> None:
    request_id = submitted_id(client, key, HAZARD)
    with intake.db.transaction() as session:
        session.get_one(Report, uuid.UUID(request_id)).status = status

    (request,) = one(client, key, request_id).json
    expected = "open" if status in ("received", "routed", "in_progress") else "closed"
    assert request["status"] == expected


def test_status_notes_are_the_latest_detail_without_phones_else_the_status(
    client: FlaskClient, key: str, intake: IntakeRuntime
) -> None:
    request_id = submitted_id(client, key, DISPUTE)

    def add_event(detail: str, after: timedelta, status: str) -> Any:
        with intake.db.transaction() as session:
            report = session.get_one(Report, uuid.UUID(request_id))
            report.status = status
            session.add(
                ReportEvent(
                    message_id=uuid.uuid4(),
                    report_id=report.id,
                    at=intake.clock.now() + after,
                    event="case_resolved",
                    service="mediation",
                    detail=detail,
                )
            )
        return one(client, key, request_id).json[0]["status_notes"]

    masked = add_event(
        "SMS 'resolved' sent to 138****8000, +8613900139000", timedelta(hours=1), "resolved"
    )
    blank = add_event("", timedelta(hours=2), "declined")

    assert masked == "SMS 'resolved' sent to ***, ***"
    assert blank == "不予受理 (declined)"


def test_the_list_is_own_requests_newest_first(
    client: FlaskClient, key: str, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    ids = []
    for form in (DISPUTE, HAZARD, NOMINATION):
        ids.append(submitted_id(client, key, form))
        clock.advance(timedelta(minutes=1))
    submitted_id(client, factories.agency_key(intake), DISPUTE)

    answer = listed(client, key)

    assert answer.status_code == 200
    assert [r["service_request_id"] for r in answer.json] == ids[::-1]
    assert not PHONE_LIKE.search(answer.get_data(as_text=True))


def test_the_list_filters_by_service_status_and_dates(
    client: FlaskClient, key: str, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    dispute = submitted_id(client, key, DISPUTE)
    clock.advance(timedelta(hours=1))
    hazard = submitted_id(client, key, HAZARD)
    clock.advance(timedelta(hours=1))
    nomination = submitted_id(client, key, NOMINATION)
    with intake.db.transaction() as session:
        session.get_one(Report, uuid.UUID(hazard)).status = "resolved"

    def ids(**query: str) -> list[str]:
        answer = listed(client, key, **query)
        assert answer.status_code == 200, answer.json
        return [r["service_request_id"] for r in answer.json]

    assert ids(service_code="dispute") == [dispute]
    assert ids(service_code="dispute,brave_act") == [nomination, dispute]
    assert ids(status="open") == [nomination, dispute]
    assert ids(status="closed") == [hazard]
    assert ids(status="open,closed") == [nomination, hazard, dispute]
    assert ids(start_date="2026-11-28T13:00:00+08:00") == [nomination, hazard]
    assert ids(end_date="2026-11-28T05:00:00Z") == [hazard, dispute]
    assert ids(start_date="2026-11-28T05:00:00Z", end_date="2026-11-28T05:00:00Z") == [hazard]
    assert ids(service_code="hazard", status="open") == []


def test_ids_override_the_other_filters_and_foreign_ids_are_absent(
    client: FlaskClient, key: str, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    mine = []
    for form in (DISPUTE, HAZARD):
        mine.append(submitted_id(client, key, form))
        clock.advance(timedelta(minutes=1))
    theirs = submitted_id(client, factories.agency_key(intake), DISPUTE)

    answer = listed(
        client,
        key,
        service_request_id=",".join([mine[0], theirs, "garbage", str(uuid.uuid4()), mine[1]]),
        service_code="good_deed",
        status="closed",
    )

    assert answer.status_code == 200
    assert [r["service_request_id"] for r in answer.json] == mine[::-1]


def test_without_ids_the_list_holds_the_newest_50(
    client: FlaskClient, key: str, intake: IntakeRuntime, clock: FrozenClock
) -> None:
    ids = []
    for _ in range(DEFAULT_REQUESTS + 1):
        ids.append(submitted_id(client, key, HAZARD))
        clock.advance(timedelta(seconds=1))

    answer = listed(client, key)

    assert [r["service_request_id"] for r in answer.json] == ids[::-1][:DEFAULT_REQUESTS]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"service_code": "rumour"}, "service_code"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-11-28T05:00:00"}, "end_date"),
        ({"start_date": "2026-11-28T05:00:00Z", "end_date": "2026-11-27T05:00:00Z"}, "end_date"),
        ({"service_request_id": ",".join(["x"] * 1001)}, "service_request_id"),
    ],
)
def test_bad_list_filters_are_400_naming_them(
    client: FlaskClient, key: str, query: dict[str, str], field: str
) -> None:
    (description,) = assert_open311_error(listed(client, key, **query), 400)
    assert description.startswith(f"{field}: ")


# -- living beside /v1/reports -----------------------------------------------------------


def test_both_apis_see_the_same_reports(client: FlaskClient, key: str) -> None:
    bearer = {"Authorization": f"Bearer {key}"}
    from_open311 = submitted_id(client, key, DISPUTE)
    # A dispute: a hazard would be the duplicate rule's original for later tests' hazards.
    accepted: Any = client.post("/v1/reports", json=factories.dispute(), headers=bearer)
    from_json = accepted.json["id"]

    assert client.get(f"/v1/reports/{from_open311}", headers=bearer).status_code == 200
    (request,) = one(client, key, from_json).json
    assert (request["service_code"], request["status"]) == ("dispute", "open")


def test_openapi_document_describes_open311(client: FlaskClient) -> None:
    spec: Any = client.get("/v1/openapi.json").json
    post = spec["paths"]["/open311/v2/requests.json"]["post"]

    assert "201" in post["responses"]
    assert "application/x-www-form-urlencoded" in post["requestBody"]["content"]
    assert "/open311/v2/services/{service_code}.json" in spec["paths"]


def test_an_unmatched_open311_url_answers_in_open311s_shape(intake: IntakeRuntime) -> None:
    client = client_for(intake)

    not_found: Any = client.get("/open311/v2/requests/abc.xml")
    not_allowed: Any = client.delete("/open311/v2/services.json")
    elsewhere: Any = client.get("/v1/no-such-thing")

    assert not_found.status_code == 404
    assert not_found.json[0]["code"] == 404
    assert not_allowed.status_code == 405
    assert not_allowed.json[0]["code"] == 405
    assert elsewhere.status_code == 404
    assert elsewhere.json["code"] == 404  # the rest of the API keeps its own shape
