"""`fengqiao payouts export | paid` and `fengqiao budget grant | show` on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from services.cli import main
from services.rewards.ledger.models import Payout
from services.rewards.runtime import RewardsRuntime
from tests.rewards.ledger_helpers import fresh_month, pay


@pytest.fixture
def cli(rewards: RewardsRuntime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REWARDS_DATABASE_URL", rewards.settings.database_url)
    monkeypatch.setenv("BROKER_URL", rewards.settings.broker_url)
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(rewards.settings.var_dir))
    return CliRunner()


def test_an_export_takes_new_orders_once_and_a_batch_can_be_written_again(
    cli: CliRunner, rewards: RewardsRuntime
) -> None:
    subject = str(uuid.uuid4())
    payout = pay(rewards, subject, amount_fen=1500, period=fresh_month())

    first = cli.invoke(main, ["payouts", "export"])
    second = cli.invoke(main, ["payouts", "export"])

    assert first.exit_code == 0, first.output
    assert subject in first.stdout and subject not in second.stdout
    batch = first.stderr.split(":")[0]
    again = cli.invoke(main, ["payouts", "export", "--batch", batch])
    assert subject in again.stdout and ",1500,15.00," in again.stdout
    marked = cli.invoke(main, ["payouts", "paid", str(payout.id)])
    assert marked.exit_code == 0, marked.output
    with rewards.db.sessions() as session:
        assert session.get_one(Payout, payout.id).status == "paid"
    unknown = cli.invoke(main, ["payouts", "paid", str(uuid.uuid4())])
    assert unknown.exit_code == 1 and "no payout" in unknown.output


def test_a_budget_is_granted_and_shown(cli: CliRunner) -> None:
    month = fresh_month()
    granted = cli.invoke(main, ["budget", "grant", month, "30000", "--by", "finance-zhou"])
    shown = cli.invoke(main, ["budget", "show", month])
    bad = cli.invoke(main, ["budget", "grant", "2026-13", "100", "--by", "finance-zhou"])

    assert granted.exit_code == 0 and "+300 CNY" in granted.output
    assert "granted 300 CNY, 300 CNY left" in shown.output
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
