"""The fast path's marks, gathered from any thread and written in batches."""

from __future__ import annotations

import os
import select
import signal
import threading
import time
import uuid

from services.common.outbox_marks import WriteBehindMarks
from tests.races import run_together

WAIT_SECONDS = 10.0


class Recorder:
    """A mark function that records each batch it is given."""

    def __init__(self, fail_first: int = 0) -> None:
        self.batches: list[list[uuid.UUID]] = []
        self.threads: set[str] = set()
        self._fail_first = fail_first
        self._lock = threading.Lock()

    def __call__(self, ids: list[uuid.UUID]) -> None:
        with self._lock:
            if self._fail_first:
                self._fail_first -= 1
                raise ConnectionError("the database went away")
            self.batches.append(list(ids))
            self.threads.add(threading.current_thread().name)

    def marked(self) -> list[uuid.UUID]:
        with self._lock:
            return [i for batch in self.batches for i in batch]


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_ids_from_many_threads_are_marked_once_each_in_few_batches() -> None:
    recorder = Recorder()
    marks = WriteBehindMarks(recorder, delay=0.1)

    def hand_over_ten() -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in range(10)]
        for one in ids:
            marks.add([one])
        return ids

    outcomes = run_together(*[hand_over_ten] * 8)

    every = [i for ids in outcomes for i in ids]
    assert len(every) == 80
    wait_until(lambda: len(recorder.marked()) == 80, "all 80 to be marked")
    assert sorted(recorder.marked()) == sorted(every)  # each once
    assert len(recorder.batches) < 10
    assert recorder.threads == {"outbox-marks"}  # not the callers' threads


def test_flush_marks_what_waits_in_the_calling_thread() -> None:
    recorder = Recorder()
    marks = WriteBehindMarks(recorder, delay=60)  # the thread would wait a minute
    ids = [uuid.uuid4(), uuid.uuid4()]
    marks.add(ids)

    marks.flush()

    assert recorder.batches == [ids]
    assert recorder.threads == {threading.current_thread().name}
    marks.flush()  # nothing left: nothing marked twice
    assert recorder.batches == [ids]


def test_a_failed_batch_does_not_stop_later_ones() -> None:
    recorder = Recorder(fail_first=1)
    marks = WriteBehindMarks(recorder, delay=0.02)
    lost = uuid.uuid4()
    marks.add([lost])
    wait_until(lambda: recorder._fail_first == 0, "the first batch to fail")

    later = uuid.uuid4()
    marks.add([later])

    wait_until(lambda: recorder.marked() == [later], "the later id to be marked")
    # The failed batch is not retried here: the periodic relay sends its rows again.
    assert lost not in recorder.marked()


def test_a_forked_process_marks_with_a_thread_of_its_own() -> None:
    recorder = Recorder()
    marks = WriteBehindMarks(recorder, delay=0.02)
    marks.add([uuid.uuid4()])  # the parent's thread is running
    read_end, write_end = os.pipe()

    pid = os.fork()
    if pid == 0:  # the child: the parent's thread did not come with the fork
        code = 1
        try:
            mine = uuid.uuid4()
            marks.add([mine])
            deadline = time.monotonic() + WAIT_SECONDS
            while mine not in recorder.marked() and time.monotonic() < deadline:
                time.sleep(0.01)
            code = 0 if mine in recorder.marked() else 2
        finally:
            os.write(write_end, bytes([code]))
            os._exit(0)
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], WAIT_SECONDS * 2)
    if not ready:  # the child hangs: never leave it behind
        os.kill(pid, signal.SIGKILL)
    answer = os.read(read_end, 1) if ready else b"hung"
    os.close(read_end)
    os.waitpid(pid, 0)

    assert answer == b"\x00", "the child's id was not marked"
    wait_until(lambda: len(recorder.marked()) == 1, "the parent's id to be marked")
