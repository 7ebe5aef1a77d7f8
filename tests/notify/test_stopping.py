"""A notify task never holds its worker past the stop grace: stuck messages are settled in
bounded runs, the rest left for the next run."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from services.common.clock import FrozenClock
from services.notify import delivery
from services.notify.providers.base import Lookup, OutgoingSms
from services.notify.providers.errors import AmbiguousFailure
from services.notify.runtime import NotifyRuntime
from tests.notify.harness import ScriptedProvider, accept, deliverer, request, row, send

LOOKUP_SECONDS = 0.3


class SlowToAnswer(ScriptedProvider):
    """A provider whose lookups take a while, as a busy real one's do."""

    def lookup(self, sms: OutgoingSms, *, sent_after: datetime) -> Lookup:
        time.sleep(LOOKUP_SECONDS)
        return Lookup("unknown")


def test_resolving_stuck_messages_stops_after_its_budget_and_the_next_run_goes_on(
    notify: NotifyRuntime, clock: FrozenClock
) -> None:
    timing_out = ScriptedProvider(script=[AmbiguousFailure("read timed out")] * 4)
    stuck = []
    for _ in range(4):
        message = request(priority="urgent")
        accept(notify, message)
        assert send(deliverer(notify, timing_out), message["message_id"]) == "sending"
        stuck.append(message["message_id"])
    clock.advance(notify.rules.stuck_sending_after + timedelta(seconds=1))
    d = deliverer(notify, SlowToAnswer())

    started = time.monotonic()
    first = delivery.resolve_stuck(d, budget_seconds=0.5)
    took = time.monotonic() - started

    assert first.get("left_for_next_run", 0) >= 1
    assert took < 0.5 + 2 * LOOKUP_SECONDS + 1.0  # the budget, and the lookup it was in
    for _ in range(10):
        if "left_for_next_run" not in delivery.resolve_stuck(d, budget_seconds=0.5):
            break
    assert {row(notify, sms_id).status for sms_id in stuck} == {"failed"}  # never resent
