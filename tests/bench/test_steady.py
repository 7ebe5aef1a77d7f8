"""How a step of steady offers is judged, and how the ladder of rates climbs: on made-up
times, so what is tested is the judging, not this machine's speed."""

from __future__ import annotations

from bench.steady import Ladder, Step, judge

RATE, SECONDS = 10.0, 30.0


def _offers() -> dict[int, float]:
    """One report every 1/RATE s for SECONDS, from t=0."""
    return {i: i / RATE for i in range(int(RATE * SECONDS))}


def _judge(finished_at: dict[int, float], accepted_at: dict[int, float] | None = None) -> Step:
    accepted = _offers() if accepted_at is None else accepted_at
    return judge(
        rate=RATE,
        seconds=SECONDS,
        started=0.0,
        offered=int(RATE * SECONDS),
        accepted_at=accepted,
        finished_at=finished_at,
        queued=[(t / 2, 3) for t in range(int(SECONDS * 2))],
        messages_per_report=3,
    )


def test_a_path_that_keeps_up_is_sustained() -> None:
    step = _judge({i: at + 0.2 for i, at in _offers().items()})
    assert step.sustained, step.reasons
    assert abs(step.finished_rate - RATE) < 0.5


def test_a_path_slower_than_the_offers_grows_its_backlog() -> None:
    # Finishing at 80 % of the offered rate: one every 1/8 s, behind from the start.
    step = _judge({i: 0.2 + i / (RATE * 0.8) for i in _offers()})
    assert not step.sustained
    assert any("backlog grew" in reason for reason in step.reasons)
    assert step.backlog_last > step.backlog_middle


def test_a_pause_that_is_worked_off_is_not_a_growing_backlog() -> None:
    # Nothing finishes from t=14 s to t=18 s; then the path catches up within a second.
    finished = {}
    for i, at in _offers().items():
        done = at + 0.2
        finished[i] = 18.0 + (done - 14.0) / 10 if 14.0 <= done < 18.0 else done
    step = _judge(finished)
    assert step.sustained, step.reasons


def test_offers_the_api_did_not_take_are_not_sustained() -> None:
    accepted = {i: at for i, at in _offers().items() if i % 5}  # a fifth refused
    step = _judge({i: at + 0.2 for i, at in accepted.items()}, accepted)
    assert any("offers fell behind" in reason for reason in step.reasons)


def test_growing_broker_queues_are_not_sustained() -> None:
    step = judge(
        rate=RATE,
        seconds=SECONDS,
        started=0.0,
        offered=int(RATE * SECONDS),
        accepted_at=_offers(),
        finished_at={i: at + 0.2 for i, at in _offers().items()},
        queued=[(t / 2, 10 * t) for t in range(int(SECONDS * 2))],  # 20 more each second
        messages_per_report=3,
    )
    assert any("broker queues grew" in reason for reason in step.reasons)


def _step(rate: float, sustained: bool) -> Step:
    return Step(
        rate=rate,
        seconds=SECONDS,
        offered=1,
        accepted=1,
        accepted_rate=rate,
        finished=1,
        finished_rate=rate,
        backlog_middle=0,
        backlog_last=0,
        queued_middle=0,
        queued_last=0,
        p50_seconds=0.1,
        p90_seconds=0.2,
        drained_seconds=0.0,
        reasons=[] if sustained else ["backlog grew 0 → 50"],
    )


def _climb(ladder: Ladder, capacity: float) -> list[float]:
    """The rates the ladder tries against a path that sustains up to `capacity`."""
    rates = []
    while (rate := ladder.next_rate()) is not None:
        rates.append(round(rate, 2))
        ladder.record(_step(rate, rate <= capacity))
    return rates


def test_the_ladder_climbs_until_a_step_fails_then_tries_halfway_once() -> None:
    ladder = Ladder(start=2.0, factor=2.0)
    assert _climb(ladder, capacity=10.0) == [2.0, 4.0, 8.0, 16.0, 11.31]
    assert ladder.best is not None and ladder.best.rate == 8.0


def test_the_ladder_goes_down_when_its_first_step_fails() -> None:
    ladder = Ladder(start=8.0, factor=2.0)
    assert _climb(ladder, capacity=3.0) == [8.0, 4.0, 2.0, 2.83]
    assert ladder.best is not None and round(ladder.best.rate, 2) == 2.83


def test_the_ladder_stops_at_its_most_steps() -> None:
    ladder = Ladder(start=1.0, factor=2.0, max_steps=3)
    assert _climb(ladder, capacity=1000.0) == [1.0, 2.0, 4.0]
