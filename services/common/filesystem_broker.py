"""kombu's filesystem transport, made safe for several processes publishing and consuming.

The stock transport creates a message file under its final name and then writes it, while
consumers read without a lock: a consumer can take a half-written file and its worker dies
on the JSON (kombu issue #1551). Here a message is written under a hidden name and renamed
into place, and a consumer claims a file by renaming it into its own folder first; both
renames are atomic on one filesystem, so a message is read whole and by one consumer only.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    # The type stubs of kombu's two base classes disagree on this signature; this is the
    # filesystem channel's.
    def _put(  # type: ignore[override]
        self, queue: str, payload: dict[str, Any], **kwargs: Any
    ) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        hidden = folder / f".{name}.part"  # not "<queue>.msg": no consumer will match it
        hidden.write_bytes(str_to_bytes(dumps(payload)))
        os.replace(hidden, folder / name)

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        suffix = f".{queue}.msg"
        folder = Path(self.data_folder_in)
        claimed = folder.parent / "claimed"
        claimed.mkdir(exist_ok=True)
        for name in sorted(os.listdir(folder)):
            if name.startswith(".") or name.partition(".")[2] != suffix[1:]:
                continue
            mine = claimed / f"{os.getpid()}-{name}"
            try:
                os.rename(folder / name, mine)  # only one consumer's rename succeeds
            except FileNotFoundError:
                continue
            payload = mine.read_bytes()
            mine.unlink()
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
