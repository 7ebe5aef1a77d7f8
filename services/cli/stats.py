"""`fengqiao stats …` and `fengqiao demo-year …`: each service's part is a subcommand."""

from __future__ import annotations

import click

from services.cli.case_stats import cases_demo_year, cases_stats
from services.cli.rewards_stats import rewards_demo_year, rewards_stats


@click.group()
def stats() -> None:
    """Figures for a period: `stats cases` (disputes), `stats rewards` (envelopes, awards)."""


@click.group("demo-year")
def demo_year() -> None:
    """Load a year like the seed's: `demo-year cases` (disputes), `demo-year rewards`."""


stats.add_command(cases_stats)
stats.add_command(rewards_stats)
demo_year.add_command(cases_demo_year)
demo_year.add_command(rewards_demo_year)
