"""The text every input schema reads: what a field may hold, refused with the field named.

A single-line field (a name, a code, a phone, a key) may hold no control character at all;
free text (details, notes) may hold newlines and tabs. Neither may hold NUL or a lone
surrogate, whatever way it came in (JSON refuses those earlier, `json_input`; a form or a
query string reaches the schema with them).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields

from services.common.json_input import problem_in_text

# C0 and C1 controls and DEL, and the Unicode line and paragraph separators.
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NOT_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def problem_in_field(text: str, *, multiline: bool) -> str | None:
    """Why `text` may not be a field's value, or None."""
    if (problem := problem_in_text(text)) is not None:
        return problem
    found = (_NOT_IN_FREE_TEXT if multiline else _NOT_IN_A_LINE).search(text)
    if found is None:
        return None
    char = found.group()
    kind = "line break" if char in "\n\r\u2028\u2029" else "control character"
    return f"may not contain a {kind} (U+{ord(char):04X})"


class Text(fields.String):
    """A string with no control characters; `multiline=True` lets newlines and tabs in."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if (problem := problem_in_field(text, multiline=self.multiline)) is not None:
            raise ValidationError(problem)
        return text


class InputSchema(Schema):
    """The base of every schema that reads a request: unknown fields are refused."""

    class Meta:
        unknown = RAISE


class Url(fields.Url, Text):
    """An absolute URL (marshmallow's check), held to the same rule as every other text."""
