"""The station's figures as charts, and a one-page annual report, from the stats APIs.

`/figures?from=YYYY-MM-DD&to=YYYY-MM-DD` (station days, both included; default this year so
far): cases opened per week, resolution and rebound rates per month, the desks' load, grid
red envelopes and brave-act awards per month. `/figures/annual-report?year=YYYY` (default
last year): the year in one printable paragraph, as the station writes it, and its figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from services.common.clock import STATION_TZ
from services.console import runtime_of
from services.console.charts import Chart, Series
from services.console.figures_api import CaseFigures, RewardsFigures
from services.console.mediation_api import ApiError, Unreachable
from services.console.pages_for import FIGURES_ROLES, api_refused
from services.console.roles import for_roles

blp = Blueprint("figures", __name__, url_prefix="/figures")

MAX_DAYS = 3 * 366  # weeks beyond this would be bars too thin to read
FIRST_YEAR = 2000


class BadPeriod(ValueError):
    """A period the picker cannot show; the text says why."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(0), STATION_TZ)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), STATION_TZ)


def _today() -> date:
    return runtime_of().clock.now().astimezone(STATION_TZ).date()


def _day(name: str, default: date) -> date:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadPeriod(_("“%(value)s” is not a date (YYYY-MM-DD).", value=raw)) from None


def period_asked(today: date) -> Period:
    """The period of `?from=&to=`, default this year so far; `BadPeriod` if it cannot be."""
    first = _day("from", today.replace(month=1, day=1))
    last = _day("to", today)
    if last < first:
        raise BadPeriod(_("The last day is before the first day."))
    if (last - first).days > MAX_DAYS:
        raise BadPeriod(_("A period of at most %(days)d days, please.", days=MAX_DAYS))
    return Period(first, last)


def shortcuts(today: date) -> list[tuple[str, Period]]:
    """The periods one click away, beside the picker."""
    this_year = Period(today.replace(month=1, day=1), today)
    last_year = Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    twelve_weeks = Period(today - timedelta(weeks=12) + timedelta(days=1), today)
    return [
        (_("This year so far"), this_year),
        (_("Last year"), last_year),
        (_("The last 12 weeks"), twelve_weeks),
    ]


def percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def yuan(fen: int) -> float:
    return round(fen / 100, 2)


def _week_label(period: str, *, first_year: str) -> str:
    # `2025-W03` → `W03` in the first week's year, so the axis stays readable; a week of
    # another year keeps it (31 December 2025 is in 2026-W01).
    year, week = period.split("-", 1)
    return week if year == first_year else period


def charts_of(
    cases: dict[str, Any], rewards: dict[str, Any], desk_names: dict[str, str]
) -> list[Chart]:
    """The page's charts, each from one series of the stats APIs."""
    weeks, months = cases["weeks"], cases["months"]
    first_year = weeks[0]["period"][:4] if weeks else ""
    desks = sorted(set(cases["sessions_by_desk"]) | set(cases["cases_by_desk"]))
    paid = rewards["periods"]
    no_numbers = _("A bar chart; its numbers are in the table beside it.")
    return [
        Chart(
            key="cases-per-week",
            title=_("Cases opened per week"),
            description=no_numbers,
            labels=[_week_label(w["period"], first_year=first_year) for w in weeks],
            series=[Series(_("Cases"), [w["cases"] for w in weeks])],
        ),
        Chart(
            key="rates-per-month",
            title=_("Resolution and rebound rate per month"),
            description=_(
                "Of the cases opened each month, the share resolved, and of those the share"
                " that came back. The numbers are in the table beside it."
            ),
            labels=[m["period"] for m in months],
            series=[
                Series(_("Resolution rate"), [percent(m["resolution_rate"]) for m in months]),
                Series(_("Rebound rate"), [percent(m["rebound_rate"]) for m in months]),
            ],
            unit="%",
        ),
        Chart(
            key="desks-load",
            title=_("The desks' load"),
            description=no_numbers,
            labels=[desk_names.get(d, d) for d in desks],
            series=[
                Series(_("Sessions held"), [cases["sessions_by_desk"].get(d, 0) for d in desks]),
                Series(_("Cases"), [cases["cases_by_desk"].get(d, 0) for d in desks]),
            ],
        ),
        _monthly(
            "rewards-per-month",
            _("Grid red envelopes and brave-act awards per month"),
            paid,
            counts=True,
        ),
        _monthly("amounts-per-month", _("Amounts paid per month (CNY)"), paid, counts=False),
    ]


def _monthly(key: str, title: str, paid: list[dict[str, Any]], *, counts: bool) -> Chart:
    """Envelopes and awards month by month: how many (`counts`), else how much in yuan."""

    def of(month: dict[str, Any], what: str) -> float:
        return float(month[what]) if counts else yuan(month[f"{what}_fen"])

    return Chart(
        key=key,
        title=title,
        description=_("A bar chart; its numbers are in the table beside it."),
        labels=[p["period"] for p in paid],
        series=[
            Series(_("Envelopes"), [of(p, "envelopes") for p in paid]),
            Series(_("Awards"), [of(p, "awards") for p in paid]),
        ],
    )


class _Refused(Exception):
    """A stats call that did not succeed, with the name of the service that refused it."""

    def __init__(self, error: ApiError | Unreachable, service: str) -> None:
        super().__init__(service)
        self.error, self.service = error, service


def _figures(period: Period) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Both services' stats for `period` and the desks' names; raises per service."""
    rt, token = runtime_of(), str(session["token"])
    mediation = CaseFigures(rt.http, token=token)
    try:
        cases = mediation.stats(since=period.since, until=period.until)
        desk_names = {d["code"]: d["name"] for d in mediation.desks()}
    except (ApiError, Unreachable) as error:
        raise _Refused(error, _("mediation")) from error
    try:
        rewards = RewardsFigures(rt.rewards_http, token=token).stats(
            since=period.since, until=period.until
        )
    except (ApiError, Unreachable) as error:
        raise _Refused(error, _("rewards")) from error
    return cases, rewards, desk_names


@blp.get("")
@for_roles(*FIGURES_ROLES)
def charts() -> ResponseReturnValue:
    today = _today()
    try:
        period = period_asked(today)
    except BadPeriod as bad:
        return render_template(
            "figures.html", error=str(bad), shortcuts=shortcuts(today), asked=request.args
        ), 400
    try:
        cases, rewards, desk_names = _figures(period)
    except _Refused as refused:
        return api_refused(refused.error, refused.service)
    return render_template(
        "figures.html",
        period=period,
        shortcuts=shortcuts(today),
        asked={"from": period.first.isoformat(), "to": period.last.isoformat()},
        cases=cases,
        rewards=rewards,
        charts=charts_of(cases, rewards, desk_names),
        percent=percent,
        yuan=yuan,
    )


def year_asked(today: date) -> int:
    raw = request.args.get("year", "").strip()
    if not raw:
        return today.year - 1
    if not raw.isdigit() or not FIRST_YEAR <= int(raw) <= today.year:
        raise BadPeriod(
            _("A year from %(first)d to %(last)d, please.", first=FIRST_YEAR, last=today.year)
        )
    return int(raw)


def show_percent(rate: float | None) -> str:
    """`1.0` → `100%`, `0.6667` → `66.7%`, as a report writes it."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}".removesuffix(".0") + "%"


def show_yuan(fen: int) -> str:
    """Whole yuan as `4000`, else with its fen: `12.50`."""
    return str(fen // 100) if fen % 100 == 0 else f"{fen / 100:.2f}"


@blp.get("/annual-report")
@for_roles(*FIGURES_ROLES)
def annual_report() -> ResponseReturnValue:
    today = _today()
    years = list(range(today.year, FIRST_YEAR - 1, -1))
    try:
        year = year_asked(today)
    except BadPeriod as bad:
        return render_template("annual_report.html", error=str(bad), years=years), 400
    whole = Period(date(year, 1, 1), date(year, 12, 31))
    try:
        cases, rewards, desk_names = _figures(whole)
    except _Refused as refused:
        return api_refused(refused.error, refused.service)
    desks = [
        {
            "name": desk_names.get(code, code),
            "cases": count,
            "rebounds": cases["rebounds_by_desk"].get(code, 0),
        }
        for code, count in sorted(cases["cases_by_desk"].items(), key=lambda kv: -kv[1])
        if count
    ]
    return render_template(
        "annual_report.html",
        year=year,
        years=years,
        so_far=year == today.year,
        cases=cases,
        rewards=rewards,
        desks=desks,
        show_percent=show_percent,
        show_yuan=show_yuan,
    )
