"""Steady offered load: was a rate sustained, and the ladder of rates that finds the highest.

A step offers reports at a fixed rate R for a while, on a fixed schedule whatever the
answers (an open loop, as residents are). It is sustained when the backlog (reports
accepted and not yet finished) did not grow over the step's steady part, its last two
thirds (in the first the path is still filling up): its low point in the last third is no
higher than its low point in the middle third, give or take two reports and one second's
worth of offers. Low points, not the backlog at two instants: a pause of a few seconds
(a periodic task in a worker, another program taking the CPUs) raises the backlog for a
while and is worked off; a path slower than the offers raises its floor, and keeps
raising it. The same holds for the messages waiting on the broker (the timeline's
included). The offer itself must have kept to its schedule: an API that cannot take R
is not sustaining R.

The ladder starts low and raises the rate by a factor until a step is not sustained, then
tries once halfway (geometrically) between the best sustained rate and the failed one.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

STEADY_FROM = 1 / 3  # of the step: before it, the path is still filling
SLACK_REPORTS = 2  # the floor may move by this much, plus a second's worth of offers
JITTER_SECONDS = 1.0
RESOLUTION_SECONDS = 0.1  # the backlog is looked at this often to find its low points
KEPT_SCHEDULE = 0.95  # of the offered rate, accepted over the step

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Step:
    rate: float  # offered, per second
    seconds: float  # how long offers were made
    offered: int
    accepted: int
    accepted_rate: float  # per second, over the step
    finished: int  # of the accepted, by the time the step was judged
    finished_rate: float  # per second, over the steady part
    backlog_middle: int  # accepted and unfinished: its low point in the middle third
    backlog_last: int  # and in the last third
    queued_middle: int  # messages waiting on the broker, low points of the same thirds
    queued_last: int
    p50_seconds: float  # accepted → finished, of those finished
    p90_seconds: float
    drained_seconds: float | None  # after the step, until nothing was left (None: not in time)
    reasons: list[str] = field(default_factory=list)  # why not sustained; empty if it was

    @property
    def sustained(self) -> bool:
        return not self.reasons


def count_until(times: Sequence[float], at: float) -> int:
    """How many of the sorted `times` are at or before `at`."""
    return bisect.bisect_right(times, at)


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def low_point(value: Callable[[float], int], since: float, until: float) -> int:
    """The least `value(t)` for t from `since` to `until`, looked at every RESOLUTION."""
    steps = max(1, int((until - since) / RESOLUTION_SECONDS))
    return min(value(since + (until - since) * k / steps) for k in range(steps + 1))


def judge(
    *,
    rate: float,
    seconds: float,
    started: float,
    offered: int,
    accepted_at: Mapping[K, float],
    finished_at: Mapping[K, float],
    queued: Sequence[tuple[float, int]],
    messages_per_report: int,
) -> Step:
    """The step's figures and verdict, from when each report was accepted and finished and
    the broker's queue lengths sampled while it ran."""
    steady_from, ended = started + seconds * STEADY_FROM, started + seconds
    middle_until = (steady_from + ended) / 2
    accepted = sorted(accepted_at.values())
    finished = sorted(finished_at.values())

    def backlog(at: float) -> int:
        return count_until(accepted, at) - count_until(finished, at)

    def queued_low(since: float, until: float) -> int:
        within = [n for at, n in queued if since <= at <= until]
        return min(within, default=0)

    steady_seconds = ended - steady_from
    finished_steady = count_until(finished, ended) - count_until(finished, steady_from)
    middle = low_point(backlog, steady_from, middle_until)
    last = low_point(backlog, middle_until, ended)
    queued_middle = queued_low(steady_from, middle_until)
    queued_last = queued_low(middle_until, ended)
    allowed = SLACK_REPORTS + rate * JITTER_SECONDS
    latencies = [finished_at[r] - accepted_at[r] for r in finished_at if r in accepted_at]
    reasons = []
    accepted_rate = len(accepted) / seconds
    if len(accepted) < offered or accepted_rate < KEPT_SCHEDULE * rate:
        reasons.append(f"offers fell behind: {len(accepted)}/{offered} accepted")
    if last - middle > allowed:
        reasons.append(f"backlog grew {middle} → {last}")
    if queued_last - queued_middle > allowed * messages_per_report:
        reasons.append(f"broker queues grew {queued_middle} → {queued_last}")
    return Step(
        rate=rate,
        seconds=seconds,
        offered=offered,
        accepted=len(accepted),
        accepted_rate=accepted_rate,
        finished=len(finished),
        finished_rate=finished_steady / steady_seconds,
        backlog_middle=middle,
        backlog_last=last,
        queued_middle=queued_middle,
        queued_last=queued_last,
        p50_seconds=quantile(latencies, 0.5),
        p90_seconds=quantile(latencies, 0.9),
        drained_seconds=None,
        reasons=reasons,
    )


@dataclass
class Ladder:
    """Rates to try, one after another, each chosen from the verdicts so far."""

    start: float
    factor: float = 1.5
    max_steps: int = 10
    lowest: float = 0.5
    steps: list[Step] = field(default_factory=list)
    refined: bool = False

    @property
    def best(self) -> Step | None:
        """The sustained step with the highest rate."""
        return max((s for s in self.steps if s.sustained), key=lambda s: s.rate, default=None)

    def next_rate(self) -> float | None:
        """The rate of the next step, or None when the ladder is done."""
        if not self.steps:
            return self.start
        if len(self.steps) >= self.max_steps:
            return None
        best = self.best
        failed = [
            s.rate for s in self.steps if not s.sustained and (best is None or s.rate > best.rate)
        ]
        if best is None:  # nothing sustained yet: go down
            lower = min(failed) / self.factor
            return lower if lower >= self.lowest else None
        if not failed:
            return best.rate * self.factor
        if self.refined:
            return None
        # Once: halfway (geometrically) between the best sustained rate and the lowest failed.
        self.refined = True
        halfway = math.sqrt(best.rate * min(failed))
        return halfway if halfway > best.rate * 1.05 else None

    def record(self, step: Step) -> None:
        self.steps.append(step)
