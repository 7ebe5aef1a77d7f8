"""`fengqiao payouts …` and `fengqiao budget …`: the finance office's side of rewards."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from services.cli.sessions import service_transaction
from services.rewards import runtime as rewards_runtime
from services.rewards.flows import cny
from services.rewards.ledger import payouts as orders
from services.rewards.ledger import service as ledger


def rewards_session() -> AbstractContextManager[Session]:
    return service_transaction(rewards_runtime.build)


@click.group()
def payouts() -> None:
    """Payouts the finance office pays: export the new orders, record what was paid."""


@payouts.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CSV here (default: standard output).",
)
@click.option("--batch", help="Write an earlier batch again instead (marks nothing).")
def export(out: Path | None, batch: str | None) -> None:
    """Take every new payout order into one batch (marked exported) and write it as CSV.

    Run it again and it finds no new order: each payout is exported once. A batch lost on
    the way can be written again with --batch.
    """
    with rewards_session() as session:
        if batch:
            rows = orders.batch(session, name=batch)
            if not rows:
                raise click.ClickException(f"no batch {batch!r}")
        else:
            batch, rows = orders.export_orders(session, now=datetime.now(UTC))
        text = orders.as_csv(rows)
        total = sum(p.amount_fen for p in rows)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
    click.echo(f"{batch}: {len(rows)} payouts, {cny(total)} CNY", err=True)


@payouts.command("paid")
@click.argument("payout_ids", nargs=-1, required=True, type=click.UUID)
def paid(payout_ids: tuple[uuid.UUID, ...]) -> None:
    """Record that the finance office paid these exported payouts."""
    with rewards_session() as session:
        for payout_id in payout_ids:
            orders.mark_paid(session, payout_id=payout_id, now=datetime.now(UTC))
    click.echo(f"{len(payout_ids)} payouts marked paid")


@click.group()
def budget() -> None:
    """Monthly reward budgets in the ledger."""


@budget.command("grant")
@click.argument("month")
@click.argument("amount_fen", type=click.IntRange(min=1))
@click.option("--by", "staff_id", required=True, help="The staff id granting it (leader, finance).")
@click.option("--note", default="")
def grant(month: str, amount_fen: int, staff_id: str, note: str) -> None:
    """Add AMOUNT_FEN (1 CNY = 100 fen) to MONTH's budget (YYYY-MM)."""
    with rewards_session() as session:
        entry = ledger.grant_budget(
            session,
            month=month,
            amount_fen=amount_fen,
            by=staff_id,
            now=datetime.now(UTC),
            note=note,
        )
        left = ledger.budget_left(session, month=month)
    click.echo(f"ledger entry {entry.id}: {month} +{cny(amount_fen)} CNY, {cny(left)} CNY left")


@budget.command("show")
@click.argument("month")
def show(month: str) -> None:
    """MONTH's budget (YYYY-MM): granted and left after payouts."""
    with rewards_session() as session:
        granted = ledger.budget_granted(session, month=month)
        left = ledger.budget_left(session, month=month)
    click.echo(f"{month}: granted {cny(granted)} CNY, {cny(left)} CNY left after payouts")
