"""`fengqiao stats cases` (mediation's GET /v1/stats) and `fengqiao demo-year cases`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import click

from services.common.clock import STATION_TZ
from services.mediation import runtime as mediation_runtime
from services.mediation.cases.stats import case_stats
from services.mediation.demo_year import SEED_DISPUTES, load_year


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), STATION_TZ)


@click.command("cases")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="First day (station).")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included.")
def cases_stats(since: datetime | None, until: datetime | None) -> None:
    """The station's figures for cases opened in a period (default: this year so far)."""
    runtime = mediation_runtime.build()
    try:
        today = runtime.clock.now().astimezone(STATION_TZ).date()
        first = since.date() if since else today.replace(month=1, day=1)
        last = until.date() if until else today
        if last < first:
            raise click.BadParameter("must not be before --from", param_hint="--to")
        with runtime.db.sessions() as session:
            figures = case_stats(
                session, since=_start_of(first), until=_start_of(last + timedelta(days=1))
            )
    finally:
        runtime.db.dispose()
    click.echo(f"cases opened {first} – {last}: {figures['cases']}")
    for line in _lines(figures):
        click.echo(line)


def _lines(figures: dict[str, Any]) -> list[str]:
    def counts(of: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(of.items())) or "none"

    def rate(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    median = figures["median_days_to_resolution"]
    return [
        f"by status: {counts(figures['by_status'])}",
        f"sessions by desk: {counts(figures['sessions_by_desk'])}",
        f"resolution rate: {rate(figures['resolution_rate'])}",
        f"rebound rate: {rate(figures['rebound_rate'])}",
        f"median days to resolution: {'n/a' if median is None else median}",
        f"deadlines breached: {figures['deadlines_breached']}",
    ]


@click.command("cases")
@click.option("--year", type=click.IntRange(2000, 2200), required=True)
@click.option("--disputes", type=click.IntRange(1, 1000), default=SEED_DISPUTES, show_default=True)
def cases_demo_year(year: int, disputes: int) -> None:
    """Load a year like the seed's: disputes mediated at the lawyer desk, none rebounded."""
    runtime = mediation_runtime.build()
    try:
        added = load_year(runtime, year=year, disputes=disputes)
    finally:
        runtime.db.dispose()
    click.echo(f"{year}: {added} disputes loaded" + ("" if added else " (already there)"))
