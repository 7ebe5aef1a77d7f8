"""What Redis holds unacknowledged: messages a worker took and neither finished nor returned.

kombu keeps each message a consumer has taken in the `unacked` hash (scored by when, in
`unacked_index`) until it is acknowledged. One left there long is waiting for the
visibility timeout, after which kombu hands it out again.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import redis

UNACKED = "unacked"
UNACKED_INDEX = "unacked_index"


def held_unacknowledged(url: str, *, older_than: float) -> Counter[str]:
    """Task names of the messages taken over `older_than` seconds ago and not acknowledged."""
    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        tags: list[bytes] = client.zrangebyscore(  # type: ignore[assignment]
            UNACKED_INDEX, 0, time.time() - older_than
        )
        names: Counter[str] = Counter()
        for tag in tags:
            raw: bytes | None = client.hget(UNACKED, tag)  # type: ignore[assignment]
            if raw is None:
                continue
            message = json.loads(raw)[0]
            names[str(message.get("headers", {}).get("task", "?"))] += 1
        return names
    finally:
        client.close()
