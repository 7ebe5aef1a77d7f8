"""The embedded broker: a message is read whole, by one consumer, however busy the publisher."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

TRANSPORT = "services.common.filesystem_broker:Transport"


def options(folder: Path) -> dict[str, Any]:
    (folder / "queues").mkdir(exist_ok=True)
    (folder / "control").mkdir(exist_ok=True)
    return {
        "data_folder_in": str(folder / "queues"),
        "data_folder_out": str(folder / "queues"),
        "control_folder": str(folder / "control"),
        "polling_interval": 0.01,
    }


def connect(folder: Path) -> Connection:
    return Connection(
        "filesystem://localhost/", transport=TRANSPORT, transport_options=options(folder)
    )


def test_a_message_being_written_is_invisible_to_consumers(tmp_path: Path) -> None:
    with connect(tmp_path) as conn:
        queue = conn.SimpleQueue("notify")
        (tmp_path / "queues" / ".123_abc.notify.msg.part").write_bytes(b'{"bod')  # mid-write

        with pytest.raises(queue.Empty):
            queue.get(timeout=0.1)

        queue.put({"n": 1})
        message = queue.get(timeout=1)
        message.ack()
        assert message.payload == {"n": 1}
        queue.close()


def test_each_message_goes_to_one_consumer_only(tmp_path: Path) -> None:
    with connect(tmp_path) as producer, connect(tmp_path) as one, connect(tmp_path) as two:
        outgoing = producer.SimpleQueue("mediation")
        for n in range(50):
            outgoing.put({"n": n})
        queues = [one.SimpleQueue("mediation"), two.SimpleQueue("mediation")]
        seen: list[int] = []
        for turn in range(200):
            try:
                message = queues[turn % 2].get(timeout=0.05)
            except queues[0].Empty:
                if len(seen) == 50:
                    break
                continue
            seen.append(message.payload["n"])
            message.ack()
        for queue in [outgoing, *queues]:
            queue.close()
    assert sorted(seen) == list(range(50))


PUBLISHER = textwrap.dedent(
    """
    import sys, threading, time
    from kombu import Connection
    from tests.common.test_filesystem_broker import TRANSPORT, options
    from pathlib import Path

    def spin():  # keep the GIL busy, as a gunicorn thread pool does, to stretch each write
        while True:
            sum(range(10_000))

    for _ in range(3):
        threading.Thread(target=spin, daemon=True).start()
    conn = Connection("filesystem://localhost/", transport=TRANSPORT,
                      transport_options=options(Path(sys.argv[1])))
    queue = conn.SimpleQueue("rewards")
    for n in range(int(sys.argv[2])):
        queue.put({"n": n, "pad": "x" * 4000})
        time.sleep(0.005)
    """
)


def test_a_busy_publisher_never_hands_out_a_partial_message(tmp_path: Path) -> None:
    count = 150
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(tmp_path), str(count)], cwd=Path.cwd()
    )
    received: list[int] = []
    deadline = time.monotonic() + 60
    with connect(tmp_path) as conn:
        queue = conn.SimpleQueue("rewards")
        while len(received) < count and time.monotonic() < deadline:
            try:
                message = queue.get(timeout=0.2)
            except queue.Empty:
                if publisher.poll() not in (None, 0):
                    break
                continue
            received.append(message.payload["n"])  # a partial file would fail to decode here
            message.ack()
        queue.close()
    assert publisher.wait(timeout=30) == 0
    assert sorted(received) == list(range(count))
