"""The leader's figures: charts whose pictures and tables agree, and a year's report in words."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.mediation.demo_year import load_year as load_cases
from services.mediation.runtime import MediationRuntime
from services.rewards.demo_year import YearLoaded
from services.rewards.demo_year import load_year as load_rewards
from services.rewards.runtime import RewardsRuntime
from tests.console.conftest import PASSWORD
from tests.console.pages import csrf_of, sign_in, text
from tests.console.svg import drawn

YEAR = 2025  # a year already lived at the test clock's 2026-11-28
FIGURE = re.compile(r'<figure class="chart-figure" id="([^"]+)">(.*?)</figure>', re.S)


def _as(station_app: Flask, staff_id: str) -> FlaskClient:
    browser = station_app.test_client()
    assert sign_in(browser, staff_id, PASSWORD).status_code == 302
    return browser


def _leader_after_a_seed_year(
    station_app: Flask, mediation: MediationRuntime, rewards: RewardsRuntime, path: str
) -> tuple[YearLoaded, str]:
    """A year like the seed's loaded in both services, and the page `path` the leader gets."""
    assert load_cases(mediation, year=YEAR) == 63
    with rewards.db.transaction() as session:
        loaded = load_rewards(session, year=YEAR, rules=rewards.rules, payouts=rewards.payouts)
    answer = _as(station_app, "leader-cheng").get(path)
    assert answer.status_code == 200
    return loaded, text(answer)


def _charts(page: str) -> dict[str, tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]]:
    """Each chart's bars (series, label, value) as drawn, and as its table writes them."""
    found = {}
    for key, body in FIGURE.findall(page):
        picture = re.search(r"<svg.*?</svg>", body, re.S)
        assert picture, key
        table = []
        for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
            for series, value in re.findall(r'<td data-series="([^"]*)">([^<]*)</td>', cells):
                table.append((series, label, value))
        found[key] = (drawn(picture.group(0)), table)
    return found


def test_the_charts_draw_the_numbers_their_tables_give(
    station_app: Flask, mediation: MediationRuntime, rewards: RewardsRuntime
) -> None:
    loaded, page = _leader_after_a_seed_year(
        station_app, mediation, rewards, f"/figures?from={YEAR}-01-01&to={YEAR}-12-31"
    )

    charts = _charts(page)
    assert set(charts) == {
        "cases-per-week",
        "rates-per-month",
        "desks-load",
        "rewards-per-month",
        "amounts-per-month",
    }
    for key, (picture, table) in charts.items():
        assert picture, key
        assert sorted(picture) == sorted(table), key
    weeks = charts["cases-per-week"][0]
    # ISO weeks: 2025-W01 … W52, and 31 December 2025 is in 2026-W01.
    assert [weeks[0][1], weeks[-1][1], len(weeks)] == ["W01", "2026-W01", 53]
    assert sum(int(v) for _, _, v in weeks) == 63
    assert "驻所律师办" in {label for _, label, _ in charts["desks-load"][0]}
    assert ("调解场次", "驻所律师办", "63") in charts["desks-load"][0]
    rates = charts["rates-per-month"][0]
    assert {v for s, _, v in rates if s == "化解率"} == {"100.0%", "—"}  # December has no case
    assert {v for s, _, v in rates if s == "反弹率"} <= {"0.0%", "—"}
    envelopes = [v for s, _, v in charts["rewards-per-month"][0] if s == "网格红包"]
    assert sum(int(v) for v in envelopes) == loaded.envelopes == 78
    amounts = [float(v) for s, _, v in charts["amounts-per-month"][0] if s == "见义勇为奖励"]
    assert sum(amounts) == loaded.awards_fen / 100 == 4000
    assert re.search(r'id="total-cases">63<', page)
    assert 'role="img"' in page and "aria-labelledby" in page


def test_the_annual_report_says_the_year_as_the_station_writes_it(
    station_app: Flask, mediation: MediationRuntime, rewards: RewardsRuntime
) -> None:
    loaded, page = _leader_after_a_seed_year(
        station_app, mediation, rewards, f"/figures/annual-report?year={YEAR}"
    )

    paragraph = re.sub(r"\s+", "", re.search(r'id="report-text">(.*?)</p>', page, re.S).group(1))  # type: ignore[union-attr]
    assert f"{YEAR}年，全年共受理纠纷63件，调解成功63件，成功率100%。" in paragraph
    assert "其中驻所律师办调处63件，无一反弹。" in paragraph
    assert "调解成功的纠纷无一反弹" not in paragraph  # the desk handled them all: said once
    yuan = loaded.envelopes_fen // 100
    assert f"发放“网格红包”78次，共{yuan}元" in paragraph
    assert "见义勇为奖励11人次，发放奖金4000元。" in paragraph
    assert "70位居民获评“魏村好人”。" in paragraph
    assert re.search(r'id="fig-cases">63<', page)
    assert re.search(r'id="fig-honours">70<', page)
    assert 'href="/static/print.css" media="print"' in page
    assert "本年度尚未结束" not in page


def test_the_report_of_an_empty_year_and_of_this_year_so_far(station_app: Flask) -> None:
    leader = _as(station_app, "leader-cheng")

    empty = text(leader.get("/figures/annual-report?year=2003"))
    this_year = text(leader.get("/figures/annual-report?year=2026"))
    default = text(leader.get("/figures/annual-report"))

    assert "2003年，全年共受理纠纷0件，调解成功0件，成功率—。" in re.sub(r"\s+", "", empty)
    assert "调解成功的纠纷无一反弹" not in empty  # nothing mediated: nothing to say of rebounds
    assert "本年度尚未结束" in this_year
    assert "2025年度工作报告" in default  # last year, the last whole one


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2025-13-01&to=2025-12-31", "“2025-13-01”不是日期"),
        ("from=2025-06-01&to=2025-01-01", "截止日早于起始日"),
        ("from=2019-01-01&to=2025-01-01", "时间段最长1098天"),
    ],
)
def test_a_period_that_cannot_be_is_a_400_that_says_why(
    station_app: Flask, query: str, message: str
) -> None:
    answer = _as(station_app, "leader-cheng").get(f"/figures?{query}")

    assert answer.status_code == 400
    assert message in text(answer)
    assert 'id="from"' in text(answer)  # the picker is still there to correct it


@pytest.mark.parametrize("year", ["1999", "2027", "twenty"])
def test_a_year_out_of_range_is_a_400(station_app: Flask, year: str) -> None:
    answer = _as(station_app, "leader-cheng").get(f"/figures/annual-report?year={year}")

    assert answer.status_code == 400
    assert "请选择2000年至2026年之间的年份" in text(answer)


def test_the_figures_are_for_the_leader_and_ops_only(station_app: Flask) -> None:
    officer, ops = _as(station_app, "officer-guo"), _as(station_app, "ops-zhao")

    for path in ("/figures", "/figures/annual-report"):
        refused = officer.get(path)
        assert refused.status_code == 403
        assert "此页面不对您的角色（社区民警）开放" in text(refused)
        assert ops.get(path).status_code == 200
    assert station_app.test_client().get("/figures").status_code == 302  # to the sign-in


def test_a_service_down_is_named_on_the_page(station_apps: Callable[..., Flask]) -> None:
    answer = _as(station_apps(down=("rewards",)), "leader-cheng").get("/figures")

    assert answer.status_code == 503
    assert "奖励服务没有响应，请稍后再试" in text(answer)


def test_the_report_reads_in_english_too(station_app: Flask) -> None:
    leader = _as(station_app, "leader-cheng")
    leader.post("/language", data={"lang": "en", "csrf_token": csrf_of(leader.get("/figures"))})

    page = text(leader.get("/figures/annual-report?year=2004"))

    assert "Annual report 2004" in page
    assert "In 2004 the station accepted 0 disputes, of which 0 were mediated" in page
    assert "0 grid red envelopes were paid" in page
