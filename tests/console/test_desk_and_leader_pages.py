"""Each role's first page: the landing after sign-in and the navigation, the desk's week,
the duty leader's breaches. Over mediation's real API, on the test's data and clock."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

import services.console
from services.common.clock import FrozenClock
from services.common.staff_auth import Role
from services.console import home, leader
from services.console.passwords import set_password
from services.mediation.runtime import MediationRuntime
from tests.console.pages import csrf_of, sign_in, text
from tests.mediation.cases_helpers import act, load, open_case
from tests.mediation.client import STAFF_OF_ROLE

# Each role's first page and its heading: the rewards lists open on what waits for the role,
# finance's payouts on the clock's month (Saturday 28 November 2026).
LANDING = {
    "officer": ("/cases", "我的案件"),
    "desk": ("/desk/week", "窗口周排期"),
    "leader": ("/leader/breaches", "超期案件"),
    "verifier": ("/rewards/claims", "隐患申报：待核实"),
    "reviewer": ("/rewards/nominations", "奖励推荐：等您处理"),
    "approver": ("/rewards/nominations", "奖励推荐：等您处理"),
    "finance": ("/rewards/payouts", "奖励发放 2026-11"),
    "ops": ("/ops/messages", "短信发送失败"),
}
NO_PAGE_YET = "暂无页面"
# Every page link of the console, and the roles the services' access tables admit to it.
PAGES = {
    "/leader/breaches": {"leader"},
    "/desk/week": {"desk"},
    "/cases": {"officer", "desk", "leader"},
    "/rewards/claims": {"verifier", "leader", "finance"},
    "/rewards/nominations": {"officer", "leader", "reviewer", "approver", "finance"},
    "/rewards/payouts": {"leader", "finance"},
    "/figures": {"leader", "ops"},
    "/ops/messages": {"ops"},
}


@pytest.fixture
def passwords(console_app: Flask, clock: FrozenClock) -> None:
    """A password for every demo staff member: `<staff id>-password-1`."""
    with console_app.extensions["console"].db.transaction() as session:
        for staff_id in STAFF_OF_ROLE.values():
            set_password(session, staff_id=staff_id, password=f"{staff_id}-pw-1", now=clock.now())


def _as(browser: FlaskClient, role: str) -> None:
    staff_id = STAFF_OF_ROLE[role]
    assert sign_in(browser, staff_id, f"{staff_id}-pw-1").status_code == 302


def _escalated(mediation: MediationRuntime) -> uuid.UUID:
    """A case of 郭警官's booked at the mediation room's next free slot (Monday 30 November,
    09:00: the test's clock stands on Saturday 28 November, noon)."""
    case_id = open_case(mediation)
    act(mediation, case_id, "accept", risk_grade="C")
    act(mediation, case_id, "escalate", desk="mediation_room")
    return case_id


@pytest.fixture
def station(station_app: Flask, clock: FrozenClock) -> Flask:
    """The console over mediation's, rewards' and notify's apps, every demo staff member with
    the password `<staff id>-pw-1`."""
    with station_app.extensions["console"].db.transaction() as session:
        for staff_id in STAFF_OF_ROLE.values():
            set_password(session, staff_id=staff_id, password=f"{staff_id}-pw-1", now=clock.now())
    return station_app


@pytest.mark.parametrize("role", list(STAFF_OF_ROLE))
def test_every_role_lands_on_its_own_first_page(station: Flask, role: str) -> None:
    browser = station.test_client()
    _as(browser, role)
    answer = browser.get("/", follow_redirects=True)

    assert answer.status_code == 200
    path, heading = LANDING[role]
    assert answer.request.path == path
    assert f"<h1>{heading}</h1>" in text(answer)


@pytest.mark.parametrize("role", ["verifier", "ops"])
def test_a_role_without_pages_is_told_so_and_offered_no_links(
    browser: FlaskClient, passwords: None, role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a role new to the station would be: no first page, no page in the navigation.
    monkeypatch.delitem(home.ROLE_HOME, Role(role))
    monkeypatch.setattr(home, "NAV", tuple(link for link in home.NAV if role not in link.roles))
    _as(browser, role)
    answer = browser.get("/")

    assert answer.status_code == 200
    page = text(answer)
    assert f"<h1>{NO_PAGE_YET}</h1>" in page
    assert "fengqiao" in page  # says where the work is done meanwhile
    assert re.search(r'<nav class="pages"[^>]*>\s*</nav>', page)
    for path in PAGES:
        assert f'href="{path}"' not in page


@pytest.mark.parametrize("role", list(STAFF_OF_ROLE))
def test_the_navigation_shows_only_the_roles_pages(station: Flask, role: str) -> None:
    browser = station.test_client()
    _as(browser, role)
    answer = browser.get("/", follow_redirects=True)

    assert answer.status_code == 200
    nav = text(answer).split('<nav class="pages"')[1].split("</nav>")[0]
    offered = set(re.findall(r'href="([^"?#]+)"', nav))
    assert offered == {path for path, roles in PAGES.items() if role in roles}
    for path in offered:  # and each page it offers opens for the role
        assert browser.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("role", "path"),
    [("officer", "/desk/week"), ("desk", "/leader/breaches"), ("ops", "/leader/breaches")],
)
def test_another_roles_page_is_a_plain_403(
    browser: FlaskClient, passwords: None, role: str, path: str
) -> None:
    _as(browser, role)
    answer = browser.get(path)

    assert answer.status_code == 403
    assert "此页面不对您的角色" in text(answer)


def test_signed_out_the_first_page_asks_for_a_sign_in(browser: FlaskClient) -> None:
    answer = browser.get("/desk/week")

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/sign-in")


def test_the_desk_sees_its_week_with_the_booked_slot(
    browser: FlaskClient, passwords: None, mediation: MediationRuntime
) -> None:
    case_id = _escalated(mediation)
    code = load(mediation, case_id).tracking_code
    _as(browser, "desk")

    page = text(browser.get("/desk/week?week=2026-12-02"))  # any day of the week will do

    assert "2026-11-30 至 2026-12-06" in page
    assert "魏民调解室" in page
    monday = page.split('id="day-mediation_room-2026-11-30"')[1].split("</section>")[0]
    nine = monday.split("09:00–10:00")[1].split("</li>")[0]
    assert f'href="/cases/{case_id}"' in nine
    assert code in nine
    assert "已约调解" in nine
    assert "#form-record_session" not in nine  # the session has not begun yet
    assert "空余：1 / 2 个名额" in nine  # two at a time: one place left
    assert "空余：2 / 2 个名额" in monday.split("10:00–11:00")[1].split("</li>")[0]
    saturday = page.split('id="day-mediation_room-2026-12-05"')[1].split("</section>")[0]
    assert "休息日" in saturday
    assert "本窗口当天不安排调解" in saturday


def test_this_week_by_default_with_links_to_the_weeks_around(
    browser: FlaskClient, passwords: None
) -> None:
    _as(browser, "desk")
    page = text(browser.get("/desk/week"))

    assert "2026-11-23 至 2026-11-29" in page  # the clock stands on Saturday 28 November
    assert 'href="/desk/week?week=2026-11-16"' in page
    assert 'href="/desk/week?week=2026-11-30"' in page
    # The week's slots have all begun: none is offered as free any more.
    assert "空余" not in page
    today = page.split('id="day-mediation_room-2026-11-28"')[1].split("</section>")[0]
    assert "今天已没有空档或预约" in today


def test_holidays_and_adjusted_working_days_are_shown(
    browser: FlaskClient, passwords: None
) -> None:
    _as(browser, "desk")
    page = text(browser.get("/desk/week?week=2026-10-05"))

    holiday = page.split('id="day-mediation_room-2026-10-06"')[1].split("</section>")[0]
    assert "节假日 · 国庆节" in holiday
    assert "当天没有预约" in holiday  # a day gone by
    saturday = page.split('id="day-mediation_room-2026-10-10"')[1].split("</section>")[0]
    assert "调休上班" in saturday


@pytest.mark.parametrize("week", ["next tuesday", "2026-13-01", "9999-12-31"])
def test_a_bad_week_is_a_400_that_says_so(browser: FlaskClient, passwords: None, week: str) -> None:
    _as(browser, "desk")
    answer = browser.get("/desk/week", query_string={"week": week})

    assert answer.status_code == 400
    assert "2026-11-30" in text(answer)


def test_the_desk_records_the_outcome_from_the_booked_slot(
    browser: FlaskClient, passwords: None, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = _escalated(mediation)
    clock.advance(timedelta(hours=46))  # Monday 10:00: the session has been held
    _as(browser, "desk")
    week = text(browser.get("/desk/week"))
    link = f'href="/cases/{case_id}#form-record_session"'
    assert link in week
    assert f"登记 {load(mediation, case_id).tracking_code} 的调解结果" in week
    case_page = browser.get(f"/cases/{case_id}")
    assert 'id="form-record_session"' in text(case_page)

    answer = browser.post(
        f"/cases/{case_id}/actions/record_session",
        data={"csrf_token": csrf_of(case_page), "outcome": "resolved", "note": "当场和解"},
        follow_redirects=True,
    )

    assert answer.status_code == 200
    assert load(mediation, case_id).status == "resolved"
    week = text(browser.get("/desk/week"))
    assert "结果: 已化解" in week
    assert link not in week


def test_the_leader_sees_breaches_most_overdue_first(
    browser: FlaskClient, passwords: None, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    oldest = open_case(mediation)
    clock.advance(timedelta(days=2))
    newer = open_case(mediation)
    clock.advance(timedelta(days=3))
    in_time = open_case(mediation)
    _as(browser, "leader")

    answer = browser.get("/leader/breaches")

    assert answer.status_code == 200
    page = text(answer)
    codes = [load(mediation, c).tracking_code for c in (oldest, newer, in_time)]
    assert codes[0] in page
    assert codes[1] in page
    assert codes[2] not in page  # its acceptance is still due
    assert page.index(codes[0]) < page.index(codes[1])
    first = page.split(f'id="breach-{oldest}"')[1].split("</li>")[0]
    assert "受理已超期 4 天 0 小时" in first  # 5 days open, 24 hours to accept
    assert "郭警官 (officer-guo)" in first
    assert "魏村三组" in first  # the village by name
    assert f'href="/cases/{oldest}#form-accept"' in first  # what the API allows the leader
    assert re.search(r'id="nav-leader-breaches"[^>]*>[^<]*<span class="count">2</span>', page)


def test_a_case_taken_over_is_the_leaders(
    browser: FlaskClient, passwords: None, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    clock.advance(timedelta(days=2))
    act(mediation, case_id, "take_over", by=None)  # the deadline sweep's step
    _as(browser, "leader")

    page = text(browser.get("/leader/breaches"))

    item = page.split(f'id="breach-{case_id}"')[1].split("</li>")[0]
    assert "由您接管" in item
    assert "程思 (leader-cheng)" in item


def test_breaches_come_in_pages_most_overdue_first(
    browser: FlaskClient,
    passwords: None,
    mediation: MediationRuntime,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(leader, "PER_PAGE", 2)
    cases = []
    for _ in range(3):
        cases.append(open_case(mediation))
        clock.advance(timedelta(days=2))
    _as(browser, "leader")

    first, second = (text(browser.get(f"/leader/breaches?page={n}")) for n in (1, 2))

    assert "第 1 / 2 页（共 3 件超期）" in first
    assert [f'id="breach-{c}"' in first for c in cases] == [True, True, False]
    assert [f'id="breach-{c}"' in second for c in cases] == [False, False, True]
    assert 'href="/leader/breaches?page=2"' in first
    assert 'href="/leader/breaches?page=1"' in second
    assert '<span class="count">3</span>' in second


@pytest.mark.parametrize("page", ["0", "two", "-1", "10001"])
def test_a_bad_page_of_breaches_is_a_400(browser: FlaskClient, passwords: None, page: str) -> None:
    _as(browser, "leader")
    answer = browser.get("/leader/breaches", query_string={"page": page})

    assert answer.status_code == 400
    assert "页码须为" in text(answer)


def test_no_breach_is_said_plainly(browser: FlaskClient, passwords: None) -> None:
    _as(browser, "leader")
    page = text(browser.get("/leader/breaches"))

    assert "没有超期的案件" in page
    assert re.search(r'<span class="count">0</span>', page)


def test_mediation_down_the_pages_say_so_and_never_500(
    console_app: Flask, browser: FlaskClient, passwords: None
) -> None:
    _as(browser, "leader")
    runtime = console_app.extensions["console"]
    runtime.http = httpx.Client(base_url="http://127.0.0.1:9", timeout=2)

    answer = browser.get("/leader/breaches")
    assert answer.status_code == 503
    assert "调解服务没有响应" in text(answer)
    assert 'class="count"' not in text(answer)  # no figure rather than a wrong one
    _as(browser, "desk")
    assert browser.get("/desk/week").status_code == 503


def test_the_pages_speak_english_on_request(
    browser: FlaskClient, passwords: None, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    case_id = open_case(mediation)
    clock.advance(timedelta(days=2))
    _as(browser, "leader")
    page = browser.get("/leader/breaches")
    browser.post("/language", data={"csrf_token": csrf_of(page), "lang": "en", "next": "/"})

    page_en = text(browser.get("/leader/breaches"))

    assert "<h1>Breached deadlines</h1>" in page_en
    assert "acceptance overdue by 1 d 0 h" in page_en
    assert f'href="/cases/{case_id}#form-accept"' in page_en


def test_every_string_of_the_console_is_in_the_chinese_catalogue() -> None:
    console = Path(services.console.__file__).parent
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(console, method_map, keywords=keywords)
    }
    with (console / "translations/zh/LC_MESSAGES/messages.po").open("rb") as po:
        catalogue = read_po(po)
    untranslated = sorted(m for m in found if not (catalogue.get(m) and catalogue[m].string))

    assert untranslated == []


def test_desk_staff_without_a_desk_are_told_whom_to_ask(
    console_app: Flask, browser: FlaskClient, passwords: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = console_app.extensions["console"].directory
    member = directory.lookup("desk-mediator")
    monkeypatch.setattr(
        directory, "lookup", lambda staff_id: replace(member, desk=None) if member else None
    )
    _as(browser, "desk")

    answer = browser.get("/desk/week")

    assert answer.status_code == 200
    assert "您未登记在任何窗口" in text(answer)
