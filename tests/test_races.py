"""The race helper itself: calls start together, and no outcome is lost or left running."""

from __future__ import annotations

import threading

import pytest

from tests.races import errors_in, run_together


def test_the_calls_run_at_the_same_time_and_each_outcome_is_kept_in_order() -> None:
    together = threading.Barrier(3, timeout=5)  # broken unless all three are inside at once

    def call(n: int) -> int:
        together.wait()
        return n * 10

    assert run_together(lambda: call(1), lambda: call(2), lambda: call(3)) == [10, 20, 30]


def test_an_exception_is_returned_in_its_place() -> None:
    def broken() -> int:
        raise LookupError("the row was gone")

    outcomes = run_together(lambda: 1, broken)

    assert outcomes[0] == 1
    [error] = errors_in(outcomes)
    assert outcomes[1] is error and isinstance(error, LookupError)


def test_a_call_that_does_not_finish_fails_the_test_naming_it() -> None:
    release = threading.Event()
    try:
        with pytest.raises(AssertionError, match=r"racing calls \[0\] did not finish"):
            run_together(lambda: release.wait(10), lambda: True, timeout=0.2)
    finally:
        release.set()
