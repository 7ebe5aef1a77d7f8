"""Running calls at the same moment on threads, for race tests.

A race test asserts what every call returned (an exception is returned too, so it is never
lost in a thread) and that every call finished: `run_together` fails the test otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def run_together(*calls: Callable[[], Any], timeout: float = 30.0) -> list[Any]:
    """Start every call at once; returns what each returned or raised, in order.

    Fails if any call is still running after `timeout` seconds, naming which.
    """
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait(timeout)
            outcomes[index] = call()
        except BaseException as exc:  # returned for the test to assert on
            outcomes[index] = exc

    # Daemon threads: a call stuck for ever fails its test and does not hang the session.
    threads = [
        threading.Thread(target=run, args=item, daemon=True, name=f"racer-{item[0]}")
        for item in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [i for i, thread in enumerate(threads) if thread.is_alive()]
    assert not stuck, f"racing calls {stuck} did not finish within {timeout} s"
    return outcomes


def errors_in(outcomes: list[Any]) -> list[BaseException]:
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
