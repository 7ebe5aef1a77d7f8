"""Racing threads in tests: start them together, then check what every one of them got.

A race test that only counts the winners passes when a racer died with an exception or
never finished; `race` fails then, naming each such racer.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

T = TypeVar("T")

TIMEOUT_SECONDS = 30.0


@dataclass
class Outcome(Generic[T]):
    """What one racer did: returned `value`, raised `error`, or had not finished (`done`)."""

    done: bool = False
    value: T | None = None
    error: BaseException | None = None


def run_racers(*racers: Callable[[], T], timeout: float = TIMEOUT_SECONDS) -> list[Outcome[T]]:
    """Run each racer in its own thread, all released at once; their outcomes, in order."""
    start = threading.Barrier(len(racers))
    outcomes: list[Outcome[T]] = [Outcome() for _ in racers]

    def run(racer: Callable[[], T], outcome: Outcome[T]) -> None:
        try:
            start.wait(timeout)
            outcome.value = racer()
        except BaseException as exc:  # kept for the test to report, never lost in a thread
            outcome.error = exc
        outcome.done = True

    # Daemon threads: one stuck for ever fails its test and does not hang the session.
    threads = [
        threading.Thread(target=run, args=(racer, outcome), daemon=True, name=f"racer-{i}")
        for i, (racer, outcome) in enumerate(zip(racers, outcomes, strict=True))
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return outcomes


def race(*racers: Callable[[], T], timeout: float = TIMEOUT_SECONDS) -> list[T]:
    """What each racer returned, in order; fails unless every one finished without raising."""
    outcomes = run_racers(*racers, timeout=timeout)
    problems = [
        f"racer {i}: " + (_described(o.error) if o.error else f"not finished after {timeout} s")
        for i, o in enumerate(outcomes)
        if o.error is not None or not o.done
    ]
    assert not problems, "\n".join(problems)
    return [cast(T, o.value) for o in outcomes]


def _described(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)).rstrip()
