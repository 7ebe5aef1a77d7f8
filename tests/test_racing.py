"""The race helper itself: it releases racers together and never loses one's failure."""

from __future__ import annotations

import threading

import pytest

from tests.racing import race, run_racers


def test_every_racer_runs_at_the_same_time_and_its_result_is_kept_in_order() -> None:
    together = threading.Barrier(3, timeout=5)  # breaks unless all three are inside at once

    def racer(n: int) -> int:
        together.wait()
        return n * 10

    assert race(lambda: racer(1), lambda: racer(2), lambda: racer(3)) == [10, 20, 30]


def test_a_racer_that_raised_fails_the_race_naming_it() -> None:
    def broken() -> int:
        raise LookupError("the row was gone")

    with pytest.raises(AssertionError, match=r"(?s)racer 1: .*LookupError: the row was gone"):
        race(lambda: 1, broken)


def test_a_racer_that_did_not_finish_fails_the_race() -> None:
    release = threading.Event()
    try:
        with pytest.raises(AssertionError, match=r"racer 0: not finished after 0.2 s"):
            race(lambda: release.wait(10), lambda: True, timeout=0.2)
    finally:
        release.set()


def test_outcomes_keep_each_value_and_error() -> None:
    def broken() -> str:
        raise ValueError("no")

    first, second = run_racers(lambda: "yes", broken)

    assert (first.done, first.value, first.error) == (True, "yes", None)
    assert (second.done, second.value, type(second.error)) == (True, None, ValueError)
