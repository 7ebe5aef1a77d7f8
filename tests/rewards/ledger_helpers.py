"""Months of a test's own, so budgets and caps of different tests never meet in the shared
database."""

from __future__ import annotations

import itertools
import random
from datetime import datetime

from services.common.clock import STATION_TZ, FrozenClock
from services.rewards.ledger.models import Payout
from services.rewards.runtime import RewardsRuntime
from tests.conftest import NOW

_counter = itertools.count()
_base = random.randrange(2100, 9000)


def fresh_month() -> str:
    """A YYYY-MM no other test in this run uses."""
    n = next(_counter)
    return f"{_base + n // 12}-{n % 12 + 1:02d}"


def move_to_own_month(clock: FrozenClock) -> str:
    """Move the test's clock to noon on the 15th of a month of its own; returns the month."""
    month = fresh_month()
    year, mon = (int(p) for p in month.split("-"))
    clock.advance(datetime(year, mon, 15, 12, tzinfo=STATION_TZ) - clock.now())
    return month


def pay(rewards: RewardsRuntime, subject_id: str, *, amount_fen: int = 1000, period: str) -> Payout:
    with rewards.db.transaction() as session:
        return rewards.payouts.pay(
            session,
            subject_kind="claim",
            subject_id=subject_id,
            recipient_name="王小明",
            recipient_phone="+8613700137003",
            amount_fen=amount_fen,
            by="finance-zhou",
            now=NOW,
            period=period,
        )
