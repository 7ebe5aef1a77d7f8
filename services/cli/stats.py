"""`fengqiao stats …`: each service's figures as a subcommand of one group."""

from __future__ import annotations

import click

from services.cli.rewards_stats import rewards_stats


@click.group()
def stats() -> None:
    """Figures for a period: `stats rewards` (envelopes, awards, honours, budgets)."""


stats.add_command(rewards_stats)
