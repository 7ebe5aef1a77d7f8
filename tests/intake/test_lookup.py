"""Residents look up their own report by 查询码 and phone ending: `POST /v1/lookup`."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.common.clock import FrozenClock
from services.intake.rules import IntakeRules
from services.intake.runtime import IntakeRuntime
from tests.intake.client import client_for
from tests.intake.residents import add_event, look_up, submit


@pytest.fixture
def behind_console(intake: IntakeRuntime) -> IntakeRuntime:
    """Intake as deployed behind the console, which forwards the resident's address."""
    return replace(intake, rules=replace(intake.rules, trusted_proxies=1))


def test_the_right_pair_gets_the_resident_view(
    behind_console: IntakeRuntime, clock: FrozenClock
) -> None:
    report = submit(behind_console)
    clock.advance(timedelta(minutes=5))
    add_event(behind_console, report, "case_opened")
    clock.advance(timedelta(hours=3))
    add_event(behind_console, report, "case_accepted")

    answer = look_up(client_for(behind_console), report.tracking_code, report.reporter_phone[-4:])

    assert answer.status_code == 200
    body = answer.json
    assert set(body) == {
        "tracking_code",
        "status",
        "status_text",
        "submitted_at",
        "updated_at",
        "timeline",
        "next_step",
    }
    assert body["tracking_code"] == report.tracking_code
    assert (body["status"], body["status_text"]) == ("in_progress", "正在办理")
    assert body["submitted_at"] == "2026-11-28T04:00:00+00:00"
    assert body["updated_at"] == "2026-11-28T07:05:00+00:00"
    assert [(e["event"], e["text"]) for e in body["timeline"]] == [
        ("received", "您反映的情况已受理。"),
        ("case_opened", "已转交辖区社区民警。"),
        ("case_accepted", "社区民警已受理，将组织调解。"),
    ]
    assert [e["at"] for e in body["timeline"]][1] == "2026-11-28T04:05:00+00:00"
    assert body["next_step"] == {"text": "民警将联系双方组织调解。", "due_at": None}


def test_a_code_typed_loosely_is_still_found(behind_console: IntakeRuntime) -> None:
    report = submit(behind_console)
    typed = " " + report.tracking_code.lower().replace("0", "o").replace("1", "l") + " "

    answer = look_up(client_for(behind_console), typed, report.reporter_phone[-4:])

    assert answer.status_code == 200
    assert answer.json["tracking_code"] == report.tracking_code


def test_every_wrong_pair_gets_the_same_404(behind_console: IntakeRuntime) -> None:
    report = submit(behind_console)
    digits = report.reporter_phone[-4:]
    wrong_digits = f"{(int(digits) + 1) % 10000:04d}"
    other_code = "WC" + ("2" if report.tracking_code[2] != "2" else "3") + report.tracking_code[3:]
    client = client_for(behind_console)

    answers = [
        look_up(client, report.tracking_code, wrong_digits, address=f"198.51.100.{i}")
        if i == 0
        else look_up(client, code, last4, address=f"198.51.100.{i}")
        for i, (code, last4) in enumerate(
            [
                ("", ""),
                (other_code, digits),  # unknown code
                ("WC12", digits),  # malformed code
                (report.tracking_code, "12a4"),  # malformed digits
                (report.tracking_code, digits + "0"),
                ("x" * 100, "1" * 100),
            ]
        )
    ]

    assert {a.status_code for a in answers} == {404}
    assert len({json.dumps(a.json, sort_keys=True) for a in answers}) == 1
    assert answers[0].json == {
        "code": 404,
        "status": "Not Found",
        "message": "no report has this tracking code and phone ending",
    }


def test_a_body_without_the_fields_is_named(behind_console: IntakeRuntime) -> None:
    answer: Any = client_for(behind_console).post("/v1/lookup", json={"tracking_code": 5})

    assert answer.status_code == 422
    assert set(answer.json["errors"]["json"]) == {"tracking_code", "phone_last4"}


def test_the_answer_leaks_nothing_of_parties_agency_or_details(
    behind_console: IntakeRuntime,
) -> None:
    report = submit(behind_console, details="王五家的狗咬伤了李四，李四要求赔偿。")
    add_event(behind_console, report, "case_opened", detail="assigned to officer-guo (郭警官)")
    add_event(behind_console, report, "risk_grade_changed", detail="risk grade B: 有激化风险")
    add_event(behind_console, report, "sms_sent", detail="case_assigned to 139****9000")
    add_event(behind_console, report, "deadline_breached", detail="acceptance overdue")

    answer = look_up(client_for(behind_console), report.tracking_code, report.reporter_phone[-4:])

    text = json.dumps(answer.json, ensure_ascii=False)
    assert answer.status_code == 200
    for secret in (
        "陈先生",  # the reporter's name
        "陈大哥",  # the parties' names and phones
        "13900139000",
        "9000",
        "13700137000",
        "王五",  # the details
        "officer-guo",  # the officer, the agency's internals
        "郭警官",
        "risk",
        "激化",
        "overdue",
        report.reporter_phone[-8:],
        "weicun",
        "三组田间",
    ):
        assert secret not in text, secret
    assert [e["event"] for e in answer.json["timeline"]] == ["received", "case_opened"]


def test_the_next_step_carries_the_due_date_the_case_sent(
    behind_console: IntakeRuntime, clock: FrozenClock
) -> None:
    report = submit(behind_console)
    due = clock.now() + timedelta(days=7)
    add_event(behind_console, report, "case_accepted", due_at=due)

    answer = look_up(client_for(behind_console), report.tracking_code, report.reporter_phone[-4:])

    assert answer.json["next_step"]["due_at"] == due.isoformat()


def test_an_ended_report_has_no_next_step(behind_console: IntakeRuntime) -> None:
    report = submit(behind_console)
    for event in ("case_opened", "case_accepted", "case_resolved", "case_closed"):
        add_event(behind_console, report, event)

    answer = look_up(client_for(behind_console), report.tracking_code, report.reporter_phone[-4:])

    assert (answer.json["status"], answer.json["status_text"]) == ("closed", "已办结")
    assert answer.json["next_step"] is None


def test_a_guessing_burst_is_slowed_and_the_right_pair_refused_while_limited(
    behind_console: IntakeRuntime,
) -> None:
    report = submit(behind_console)
    client = client_for(behind_console)
    right = report.reporter_phone[-4:]
    guesses = [f"{n:04d}" for n in range(40) if f"{n:04d}" != right][:12]

    # Guesses from many addresses, so only the code's own limit stands in the way.
    answers = [
        look_up(client, report.tracking_code, g, address=f"192.0.2.{i}")
        for i, g in enumerate(guesses)
    ]
    right_pair = look_up(client, report.tracking_code, right, address="192.0.2.200")

    assert [a.status_code for a in answers] == [404] * 5 + [429] * 7  # 5 wrong an hour
    assert right_pair.status_code == 429
    assert 1 <= int(right_pair.headers["Retry-After"]) <= 3600
    assert right_pair.json["code"] == 429


def test_an_address_is_slowed_whatever_it_asks(behind_console: IntakeRuntime) -> None:
    client = client_for(behind_console)
    answers = [look_up(client, f"WC{n:08d}", "1234", address="192.0.2.9") for n in range(11)]
    elsewhere = look_up(client, "WC00000000", "1234", address="192.0.2.10")

    assert [a.status_code for a in answers] == [404] * 10 + [429]  # 10 a minute
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 404


def test_an_unknown_code_is_limited_like_a_known_one(behind_console: IntakeRuntime) -> None:
    client = client_for(behind_console)
    unknown = [look_up(client, "WCZZZZZZZZ", "1234", address=f"192.0.2.{i}") for i in range(6)]

    assert [a.status_code for a in unknown] == [404] * 5 + [429]


def test_the_address_is_the_peer_unless_proxies_are_trusted(intake: IntakeRuntime) -> None:
    client = client_for(replace(intake, rules=IntakeRules(lookup_address_limit="2/minute")))

    # Without trusted proxies, a forged X-Forwarded-For does not buy fresh addresses.
    answers = [look_up(client, "WC00000000", "1234", address=f"192.0.2.{i}") for i in range(3)]

    assert [a.status_code for a in answers] == [404, 404, 429]


def test_every_lookup_is_logged_without_the_phone_digits(
    behind_console: IntakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    report = submit(behind_console)
    digits = report.reporter_phone[-4:]
    client = client_for(behind_console)

    with caplog.at_level(logging.INFO, logger="services.intake.tracking.views"):
        look_up(client, report.tracking_code, digits, address="192.0.2.77")
        look_up(client, report.tracking_code, "0000" if digits != "0000" else "1111")

    lines = [r.getMessage() for r in caplog.records if r.name == "services.intake.tracking.views"]
    assert lines == [
        f"lookup of {report.tracking_code} from 192.0.2.77: found",
        f"lookup of {report.tracking_code} from 203.0.113.7: no match",
    ]
    assert not any(digits in line.replace(report.tracking_code, "") for line in lines)
