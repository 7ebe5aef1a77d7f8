"""Input the system cannot carry is refused at the door, naming the field, and nothing is kept.

What no field can take (a lone surrogate, NUL, nesting past 32 levels, an absurd number) is
a 400 before validation; what a field may not hold (a control character in a name) is its
422. Bodies are sent as raw JSON text, since some of them cannot be written from Python
strings any other way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.intake.runtime import IntakeRuntime
from tests import factories
from tests.intake.client import client_for

DEEP = "[" * 5_000 + "]" * 5_000
DEEPISH = "[" * 40 + "]" * 40  # past the limit, yet well within Python's parser


@pytest.fixture
def client(intake: IntakeRuntime) -> FlaskClient:
    return client_for(intake)


@pytest.fixture
def auth(intake: IntakeRuntime) -> dict[str, str]:
    return {"Authorization": f"Bearer {factories.agency_key(intake)}"}


def with_raw(body: dict[str, Any], path: tuple[str | int, ...], raw: str) -> str:
    """`body` as JSON text, with the value at `path` replaced by the JSON text `raw`."""
    marker = "__raw_value__"
    node: Any = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = marker
    return json.dumps(body, ensure_ascii=False).replace(f'"{marker}"', raw)


def post(client: FlaskClient, auth: dict[str, str], text: str) -> Any:
    return client.post(
        "/v1/reports", data=text.encode(), headers={**auth, "Content-Type": "application/json"}
    )


def error_at(answer: Any, *path: str) -> list[str]:
    node = answer.json["errors"]["json"]
    for step in path:
        node = node[step]
    assert isinstance(node, list), node
    return node


def nothing_stored(client: FlaskClient, auth: dict[str, str]) -> bool:
    listed: Any = client.get("/v1/reports", headers=auth)
    return bool(listed.status_code == 200 and listed.json == [])


@pytest.mark.parametrize(
    ("path", "raw", "status", "says"),
    [
        (("parties", 0, "name"), r'"\ud83d"', 400, "lone surrogate"),
        (("parties", 1, "name"), r'"陈\udc00"', 400, "lone surrogate"),
        (("parties", 0, "name"), r'"陈\u0000"', 400, "NUL"),
        (("details",), r'"two\u0000parts"', 400, "NUL"),
        (("parties", 0, "name"), r'"陈\u0007大哥"', 422, "control character"),
        (("parties", 0, "name"), r'"陈\n大哥"', 422, "line break"),
        (("reporter", "name"), r'"\t陈先生"', 422, "control character"),
        (("location", "village"), r'"weicun-3\u001b"', 422, "control character"),
        (("summary",), r'"a\u2028b"', 422, "line break"),
        (("details",), r'"bad \u0085 next line"', 422, "control character"),
        (("details",), DEEP, 400, "nested more than 32"),
        (("details",), DEEPISH, 400, "nested more than 32"),
        (("location", "lat"), "9" * 5_000, 400, "5000 digits"),
        (("location", "lat"), "1" + "0" * 30, 400, "31 digits"),
        (("location", "lat"), "NaN", 400, "NaN"),
        (("location", "lon"), "-Infinity", 400, "Infinity"),
        (("location", "lon"), "1e999", 400, "out of range"),
        (("location", "lat"), "0." + "1" * 60, 400, "62 characters"),
        (("location", "lat"), "90.5", 422, "less than or equal to 90"),
    ],
)
def test_what_cannot_be_carried_is_refused_naming_the_field(
    client: FlaskClient,
    auth: dict[str, str],
    path: tuple[str | int, ...],
    raw: str,
    status: int,
    says: str,
) -> None:
    answer = post(client, auth, with_raw(factories.dispute(), path, raw))

    assert answer.status_code == status
    assert says in " ".join(error_at(answer, *(str(step) for step in path)))
    assert answer.json["code"] == status
    assert answer.json["status"] == {400: "Bad Request", 422: "Unprocessable Entity"}[status]
    assert answer.json["message"]
    assert nothing_stored(client, auth)


def test_a_key_that_cannot_be_carried_is_named_as_best_it_can_be(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    text = json.dumps(factories.dispute())[:-1] + r', "colour\ud83d": 1}'

    answer = post(client, auth, text)

    assert answer.status_code == 400
    assert "lone surrogate" in error_at(answer, "colour\ufffd")[0]
    assert nothing_stored(client, auth)


def test_a_body_nested_too_deep_at_the_top_is_400(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    answer = post(client, auth, DEEP)

    assert answer.status_code == 400
    assert "nested more than 32" in error_at(answer, "0")[0]


def test_newlines_and_tabs_are_kept_in_free_text(client: FlaskClient, auth: dict[str, str]) -> None:
    details = "第一行\n\t第二行\r\n末行"
    accepted = post(client, auth, json.dumps(factories.dispute(details=details)))

    assert accepted.status_code == 202
    report: Any = client.get(accepted.json["links"]["self"], headers=auth)
    assert report.json["details"] == details


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("attribute[claimant_name]", "陈\x00大哥", "NUL"),
        ("attribute[respondent_name]", "陈\x01二弟", "control character"),
        ("first_name", "先\n生", "line break"),
        ("description", "争执\x1b[31m", "control character"),
        ("attribute[village]", "weicun-3\x7f", "control character"),
        ("lat", "nan", "lat"),
        ("long", "1e999", "long"),
        ("lat", "9" * 5_000, "lat"),
    ],
)
def test_an_open311_form_is_refused_alike(
    intake: IntakeRuntime, field: str, value: str, says: str
) -> None:
    client, key = client_for(intake), factories.agency_key(intake)
    form = {
        "api_key": key,
        "service_code": "dispute",
        "description": "兄弟俩为共用地块的边界起了争执。",
        "phone": "13800138000",
        "lat": "32.0",
        "long": "119.9",
        "attribute[village]": "weicun-3",
        "attribute[claimant_name]": "陈大哥",
        "attribute[respondent_name]": "陈二弟",
        field: value,
    }

    answer: Any = client.post("/open311/v2/requests.json", data=form)

    assert answer.status_code == 400
    [problem] = [
        entry["description"] for entry in answer.json if entry["description"].startswith(field)
    ]
    assert says in problem
    listed: Any = client.get(f"/open311/v2/requests.json?api_key={key}")
    assert listed.json == []


def test_an_open311_description_of_several_lines_gives_a_one_line_summary(
    intake: IntakeRuntime,
) -> None:
    client, key = client_for(intake), factories.agency_key(intake)
    form = {
        "api_key": key,
        "service_code": "hazard",
        "description": "出租屋电线下垂，\r\n\t就在楼梯口。",
        "phone": "13700137003",
        "attribute[village]": "weicun-5",
        "attribute[hazard_category]": "wiring",
        "attribute[severity]": "medium",
    }

    answer: Any = client.post("/open311/v2/requests.json", data=form)

    assert answer.status_code == 201
    [created] = answer.json
    report: Any = client.get(
        f"/v1/reports/{created['service_request_id']}", headers={"Authorization": f"Bearer {key}"}
    )
    assert report.json["summary"] == "出租屋电线下垂， 就在楼梯口。"
    assert report.json["details"] == form["description"]


@pytest.mark.parametrize("api_key", ["fq_ab\x00cd_secret", "fq_\x01_x", "fq_好_x"])
def test_an_api_key_that_cannot_name_a_key_is_403(intake: IntakeRuntime, api_key: str) -> None:
    answer: Any = client_for(intake).post(
        "/open311/v2/requests.json", data={"api_key": api_key, "service_code": "dispute"}
    )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (r'"https://partner.example/\u0000"', 400),
        (r'"https://partner.example/\ud800"', 400),
        (r'"https://partner.example/a\tb"', 422),
        (DEEPISH, 400),
    ],
)
def test_a_callback_url_that_cannot_be_carried_is_refused(
    client: FlaskClient, auth: dict[str, str], raw: str, status: int
) -> None:
    answer: Any = client.put(
        "/v1/callback",
        data=f'{{"url": {raw}}}'.encode(),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert answer.status_code == status
    assert list(answer.json["errors"]["json"]) == ["url"]
    assert client.get("/v1/callback", headers=auth).status_code == 404
