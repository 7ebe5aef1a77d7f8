"""Flask's JSON provider for the APIs, reading with `json_input.loads`.

Apart from `json_input`, which workers use too (through `input_fields`), so that they do
not load Flask.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from services.common.json_input import loads


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with `loads` above (`request.get_json()` then answers 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)
