"""`fengqiao stats rewards` and `fengqiao demo-year rewards`: rewards' figures and a year."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from services.common.clock import STATION_TZ
from services.rewards import runtime as rewards_runtime
from services.rewards.demo_year import load_year
from services.rewards.flows import cny
from services.rewards.stats import service as stats


def _year_range(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=STATION_TZ), datetime(year + 1, 1, 1, tzinfo=STATION_TZ)


@click.command("rewards")
@click.option(
    "--year", type=click.IntRange(2000, 9999), help="A station-time year (default: this)."
)
def rewards_stats(year: int | None) -> None:
    """Envelopes, brave-act awards, honours and the budget left, month by month."""
    start, end = _year_range(year or datetime.now(STATION_TZ).year)
    runtime = rewards_runtime.build()
    try:
        with runtime.db.sessions() as session:
            figures = stats.summary(session, start=start, end=end, rules=runtime.rules)
    finally:
        runtime.db.dispose()
    env, awards = figures["envelopes"], figures["awards"]
    click.echo(f"rewards {start:%Y}:")
    click.echo(f"  grid red envelopes  {env['count']:>4}  {cny(env['amount_fen']):>10} CNY")
    click.echo(f"  brave-act awards    {awards['count']:>4}  {cny(awards['amount_fen']):>10} CNY")
    click.echo(f"  good neighbours     {figures['honours']:>4}")
    click.echo("  month    envelopes        CNY  awards        CNY  honours  budget left")
    for p in figures["periods"]:
        click.echo(
            f"  {p['period']}  {p['envelopes']:>9}  {cny(p['envelopes_fen']):>9}"
            f"  {p['awards']:>6}  {cny(p['awards_fen']):>9}  {p['honours']:>7}"
            f"  {cny(p['budget_left_fen']):>11}"
        )


@click.command("rewards")
@click.option(
    "--year", type=click.IntRange(2000, 9999), help="A station-time year (default: last)."
)
def rewards_demo_year(year: int | None) -> None:
    """Load a year of rewards like the seed's into rewards' database (once per year)."""
    year = year or datetime.now(UTC).astimezone(STATION_TZ).year - 1
    runtime = rewards_runtime.build()
    try:
        with runtime.db.transaction() as session:
            loaded = load_year(session, year=year, rules=runtime.rules, payouts=runtime.payouts)
    finally:
        runtime.db.dispose()
    click.echo(
        f"{year}: {loaded.envelopes} envelopes ({cny(loaded.envelopes_fen)} CNY), "
        f"{loaded.awards} brave-act awards ({cny(loaded.awards_fen)} CNY), "
        f"{loaded.honours} good neighbours; see `fengqiao stats rewards --year {year}`"
    )
