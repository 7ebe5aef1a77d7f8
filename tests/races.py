"""Running calls at the same moment on threads, for race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(*calls: Callable[[], Any], timeout: float = 30.0) -> list[Any]:
    """Start every call at once; returns what each returned or raised, in order.

    Fails if any thread is still running after `timeout` seconds.
    """
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            outcomes[index] = call()
        except BaseException as exc:  # returned for the test to assert on
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing call did not finish"
    return outcomes


def errors_in(outcomes: list[Any]) -> list[BaseException]:
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
