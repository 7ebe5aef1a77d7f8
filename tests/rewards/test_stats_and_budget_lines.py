"""Rewards' figures over a year like the seed's (API and CLI), and awards' own budget line."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from click.testing import CliRunner

from services.cli import main
from services.rewards.claims import limits
from services.rewards.demo_year import SEVERITIES, load_year
from services.rewards.flows import cny
from services.rewards.ledger import payouts
from services.rewards.ledger import service as ledger
from services.rewards.ledger.models import Payout
from services.rewards.runtime import RewardsRuntime
from tests.conftest import NOW
from tests.races import run_together
from tests.rewards.claims_helpers import as_role, client_for
from tests.rewards.ledger_helpers import fresh_month


def own_year() -> int:
    """A year no other test's months fall in (theirs are below 9100)."""
    return random.randrange(9100, 9999)


def test_a_seed_year_comes_out_right_in_the_stats(rewards: RewardsRuntime) -> None:
    year = own_year()
    with rewards.db.transaction() as session:
        loaded = load_year(session, year=year, rules=rewards.rules, payouts=rewards.payouts)
    with rewards.db.transaction() as session:  # a second load adds nothing
        load_year(session, year=year, rules=rewards.rules, payouts=rewards.payouts)
    assert (loaded.envelopes, loaded.awards, loaded.awards_fen, loaded.honours) == (
        78,
        11,
        400_000,
        70,
    )

    with rewards.db.sessions() as session:  # paid long ago: nothing for the finance office
        assert not [p for p in payouts.listed(session, status="ordered") if p.by == "demo-year"]

    year_range = {"from": f"{year}-01-01T00:00:00+08:00", "to": f"{year + 1}-01-01T00:00:00+08:00"}
    answer: Any = client_for(rewards).get(
        "/v1/stats", query_string=year_range, headers=as_role(rewards, "leader")
    )

    assert answer.status_code == 200, answer.json
    figures = answer.json
    assert figures["envelopes"]["count"] == 78
    assert figures["envelopes"]["amount_fen"] == loaded.envelopes_fen
    assert 78 * 500 <= loaded.envelopes_fen <= 78 * 2000
    assert figures["envelopes"]["claims_by_status"] == {"paid": 78}
    assert figures["awards"]["count"] == 11 and figures["awards"]["amount_fen"] == 400_000
    assert figures["awards"]["nominations_by_status"] == {"paid": 11, "honoured": 70}
    assert figures["honours"] == 70
    periods = figures["periods"]
    assert [p["period"] for p in periods] == [f"{year}-{m:02d}" for m in range(1, 13)]
    assert sum(p["envelopes"] for p in periods) == 78
    assert sum(p["envelopes_fen"] for p in periods) == loaded.envelopes_fen
    assert sum(p["awards_fen"] for p in periods) == 400_000
    assert sum(p["honours"] for p in periods) == 70
    for p in periods:  # the default budget, less that month's envelopes only
        assert p["budget_left_fen"] == rewards.rules.monthly_budget_fen - p["envelopes_fen"]
    assert [b["left_fen"] for b in figures["budgets"]] == [p["budget_left_fen"] for p in periods]


def test_fengqiao_stats_rewards_prints_the_year(
    rewards: RewardsRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REWARDS_DATABASE_URL", rewards.settings.database_url)
    monkeypatch.setenv("BROKER_URL", rewards.settings.broker_url)
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(rewards.settings.var_dir))
    year, cli = own_year(), CliRunner()

    loaded = cli.invoke(main, ["demo-year", "rewards", "--year", str(year)])
    shown = cli.invoke(main, ["stats", "rewards", "--year", str(year)])

    assert loaded.exit_code == 0, loaded.output
    assert "78 envelopes" in loaded.output and "11 brave-act awards (4000 CNY)" in loaded.output
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    fen = sum(rewards.rules.envelope_fen[SEVERITIES[n % len(SEVERITIES)]] for n in range(78))
    assert lines[1].split()[-3:] == ["78", cny(fen), "CNY"]
    assert lines[2].split()[-3:] == ["11", "4000", "CNY"]
    assert lines[3].split()[-1] == "70"
    assert sum(1 for line in lines if line.strip().startswith(f"{year}-")) == 12


def test_awards_racing_envelopes_never_take_the_envelopes_budget(rewards: RewardsRuntime) -> None:
    month = fresh_month()
    with rewards.db.transaction() as session:
        ledger.grant_budget(session, month=month, amount_fen=1000, by="leader-cheng", now=NOW)

    def envelope() -> list[str]:
        with rewards.db.transaction() as session:
            checked = limits.check(
                session, phone="+8613700137003", period=month, amount_fen=1000, rules=rewards.rules
            )
            if not checked.over:
                limits.grant(session, checked, amount_fen=1000, within_budget=True)
            return checked.over

    def award() -> Payout:
        with rewards.db.transaction() as session:
            return rewards.payouts.pay(
                session,
                subject_kind="award",
                subject_id=uuid.uuid4(),
                recipient_name="张先生",
                recipient_phone="+8613500135006",
                amount_fen=50_000,
                by="finance-zhou",
                now=NOW,
                period=month,
            )

    results = run_together(award, award, envelope, award)

    assert [type(r) for r in results] == [Payout, Payout, list, Payout], results
    assert results[2] == []  # the envelope fitted the month's budget
    with rewards.db.sessions() as session:
        assert ledger.budget_left(session, month=month) == 1000  # reserved, not yet paid
        assert ledger.awards_paid(session, month=month) == 150_000
        locked = limits.lock_month(session, period=month)
        assert limits.available(session, month=locked, rules=rewards.rules) == 0
